"""Every oracle vector (PyTorch 2.13, float64) through the library layer.

validate_options -> spec.fn -> reduce must reproduce ``expected`` within rtol 1e-9.
The CLI-level oracle test lives with the compute command.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lossctl import losses as L

DATA = Path(__file__).parent / "data" / "oracle-losses.jsonl"
CASES = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def compute(case: dict):
    spec = L.get(case["loss"])
    opts = L.validate_options(spec, case["options"])
    x, y = case["input"], case["target"]
    if spec.name == "lm":
        x, y, seq = L.lm_flatten(x, y)
        opts["_seq_ids"] = seq
    if "var" in case:
        opts["var"] = np.asarray(case["var"], dtype=np.float64)
    parts = spec.fn(np.asarray(x, dtype=np.float64), None if y is None else np.asarray(y), opts)
    return L.reduce(parts, opts["reduction"])


def test_the_oracle_file_covers_every_loss_but_aliases():
    assert len(CASES) == 76
    covered = {c["loss"] for c in CASES}
    assert covered == set(L.names())


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_oracle(case):
    got = compute(case)
    expected = case["expected"]
    if isinstance(expected, list):
        got = np.asarray(got, dtype=np.float64)
        exp = np.asarray(expected, dtype=np.float64)
        assert got.shape == exp.shape
        np.testing.assert_allclose(got, exp, rtol=1e-9, atol=0, equal_nan=True)
    else:
        assert isinstance(got, float)
        if math.isnan(expected):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(expected, rel=1e-9, abs=0)


def test_tutorial_code_example_is_the_true_value_not_the_tutorials():
    # the tutorial prints 0.4076 and 0.0159; PyTorch gives these
    spec = L.get("cross-entropy")
    opts = L.validate_options(spec, {})
    a = L.reduce(spec.fn(np.array([[2.0, 1.0, 0.5]]), np.array([0]), opts), "mean")
    b = L.reduce(spec.fn(np.array([[5.0, 1.0, 0.5]]), np.array([0]), opts), "mean")
    assert f"{a:.4f}" == "0.4644"
    assert f"{b:.4f}" == "0.0290"


def test_mae_is_an_alias_of_l1():
    assert L.get("mae") is L.get("l1")
    assert L.get("MAE").name == "l1"
