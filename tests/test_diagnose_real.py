"""The diagnose rules on the real logs in ../shared/real-logs against our own labels.

``tests/data/real_labels.tsv`` holds one label per file with the reason, written
after looking at each curve (values and an ASCII plot) and before running the
diagnoser on it; labels were never changed to match the tool. ``error`` means the
right answer is a clear input error (no loss in the file). For a file with
several runs the label is for the run ``lossctl.diagnose(path)`` reports (the one
with the most points). Target: ≥ 85 % agreement; never "converging" for a run
labelled diverged. Files that parse_log cannot read yet are skipped.
"""

from __future__ import annotations

import csv
import math

import pytest

from conftest import REAL_LOGS, ROOT
from lossctl.diagnose import CONFIDENCES, VERDICTS, diagnose
from lossctl.errors import InputError, LossctlError

LABELS = list(csv.DictReader((ROOT / "tests" / "data" / "real_labels.tsv").open(encoding="utf-8"), delimiter="\t"))

pytestmark = pytest.mark.skipif(not REAL_LOGS.is_dir(), reason=f"{REAL_LOGS} is absent")

_cache: dict[str, object] = {}


def _run(name: str):
    if name not in _cache:
        try:
            _cache[name] = diagnose(str(REAL_LOGS / name))
        except LossctlError as e:
            _cache[name] = e
    return _cache[name]


def test_every_real_log_has_a_label_with_a_reason():
    names = {p.name for p in REAL_LOGS.iterdir() if p.name not in ("README.md", "MANIFEST.tsv")}
    assert names == {r["file"] for r in LABELS}
    for r in LABELS:
        assert r["verdict"] in VERDICTS + ("error",), r
        assert len(r["reason"]) > 20, r


@pytest.mark.parametrize("row", LABELS, ids=[r["file"] for r in LABELS])
def test_real_log(row):
    res = _run(row["file"])
    if row["verdict"] == "error":
        assert isinstance(res, InputError), f"expected a clear input error, got {res!r}"
        assert "loss" in str(res) or "LFS" in str(res)
        return
    if isinstance(res, LossctlError):
        pytest.skip(f"parse_log cannot read {row['file']} yet: {res}")
    assert res.verdict in VERDICTS and res.confidence in CONFIDENCES
    assert res.summary and res.lines
    for k, v in res.evidence.items():
        assert not (isinstance(v, float) and math.isnan(v)), k
    if row["verdict"] == "diverged":
        assert res.verdict != "converging"


def test_real_agreement_at_least_85_percent():
    rows = [(r, _run(r["file"])) for r in LABELS]
    scored = [(r, res) for r, res in rows if r["verdict"] == "error" or not isinstance(res, LossctlError)]
    ok = [r["file"] for r, res in scored if (res.verdict if not isinstance(res, LossctlError) else "error") == r["verdict"]]
    wrong = {r["file"]: (r["verdict"], getattr(res, "verdict", "error")) for r, res in scored if r["file"] not in ok}
    assert len(scored) >= 30
    assert len(ok) / len(scored) >= 0.85, wrong


def test_real_overfitting_reports_best_checkpoint():
    d = _run("hf_trainer_state__06.json")
    assert d.verdict == "overfitting" and d.best_step == 5600
    assert d.evidence["eval_best"] == pytest.approx(1.2017, abs=1e-3)
    rec = {r.param: r for r in d.recommendations if r.framework == "hf"}
    assert rec["num_train_epochs"].current == 10 and rec["num_train_epochs"].suggested == 4


def test_real_megatron_spike_window():
    d = _run("megatron__03.txt")
    assert d.verdict == "diverged"
    assert "6.849" in d.summary and "2.776" in d.summary
