"""Every oracle vector (PyTorch 2.13, float64) through the CLI, exactly as a user runs it:

    lossctl compute LOSS FILE --format json [options]

with the payload written to a JSON file (``var`` inside the payload; ``lm`` cases send no
target). Options map as ORACLE.md says: ``true`` → bare flag, a list → comma-separated.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data" / "oracle-losses.jsonl"
CASES = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]

# flags whose false value has a spelling of its own
NEGATABLE = {"log-input"}


def cli_args(case: dict, path: Path) -> list[str]:
    args = ["compute", case["loss"], str(path), "--format", "json"]
    for name, value in case["options"].items():
        if value is True:
            args.append(f"--{name}")
        elif value is False:
            if name in NEGATABLE:
                args.append(f"--no-{name}")
        elif isinstance(value, list):
            args += [f"--{name}", ",".join(repr(float(v)) if isinstance(v, float) else str(v) for v in value)]
        else:
            args += [f"--{name}", str(value)]
    return args


def payload(case: dict) -> dict:
    p = {"input": case["input"]}
    if case["loss"] != "lm" or case["target"]:
        p["target"] = case["target"]
    if "var" in case:
        p["var"] = case["var"]
    return p


def test_every_loss_is_covered():
    from lossctl import losses

    assert len(CASES) == 76
    assert {c["loss"] for c in CASES} == set(losses.names())


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_oracle_through_the_cli(case, cli, tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(payload(case)), encoding="utf-8")
    r = cli(cli_args(case, path))
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["loss"] == case["loss"]
    expected = case["expected"]
    if isinstance(expected, list):
        assert out["reduction"] == "none"
        assert out["value"] is None
        got = np.array([np.nan if v is None else v for v in np.ravel(np.array(out["values"], dtype=object))],
                       dtype=np.float64)
        exp = np.asarray(expected, dtype=np.float64).ravel()
        assert got.shape == exp.shape
        np.testing.assert_allclose(got, exp, rtol=1e-9, atol=0, equal_nan=True)
        assert out["count"] == exp.size
    elif math.isnan(expected):
        assert out["value"] is None
    else:
        assert out["value"] == pytest.approx(expected, rel=1e-9, abs=0)
        assert out["reduction"] == case["options"].get("reduction", "mean")
