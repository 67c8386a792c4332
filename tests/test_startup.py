"""Start-up cost: the help and the small inline computation must not import heavy modules.

Each case runs ``lossctl.cli.main([...])`` in a fresh interpreter (subprocess) and lists
which of pandas, pyarrow, rich and pydantic ended up in ``sys.modules``. (Timings are
benchmarks, see bench/README.md; here only what gets imported.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import io, json, sys
from lossctl.cli import main
out, sys.stdout = sys.stdout, io.StringIO()
try:
    code = main(json.loads(sys.argv[1]))
except SystemExit as e:
    code = e.code
text, sys.stdout = sys.stdout.getvalue(), out
print(json.dumps({"code": code, "out": text,
                  "loaded": [m for m in ("pandas", "pyarrow", "rich", "pydantic") if m in sys.modules]}))
"""


def probe(args: list[str]) -> dict:
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_help_does_not_import_pandas():
    r = probe(["--help"])
    assert r["code"] == 0
    assert "compute" in r["out"]
    assert "pandas" not in r["loaded"]


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_inline_compute_imports_neither_pandas_nor_rich_nor_pydantic(fmt):
    r = probe(["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0", "--format", fmt])
    assert r["code"] == 0
    assert "0.464368" in r["out"] or "0.464369" in r["out"]
    # pandas and pyarrow are for files; rich only for help and progress; pydantic is typer's
    # coercion, skipped for plain str/bool parameters (lossctl.cli._skip_pydantic_for_plain_params)
    assert r["loaded"] == []


def test_compute_help_lists_the_loss_options():
    r = probe(["compute", "--help"])
    assert r["code"] == 0
    for opt in ("--label-smoothing", "--ignore-index", "--pos-weight", "--no-log-input", "--quantile", "--explain"):
        assert opt in r["out"]
    assert "pandas" not in r["loaded"]


def test_csv_through_pyarrow_does_not_import_pandas(tmp_path, monkeypatch):
    # pyarrow's own to_numpy imports pandas (0.2 s): lossctl reads the column buffers itself,
    # NaN where a cell is empty
    pytest.importorskip("pyarrow")
    p = tmp_path / "p.csv"
    p.write_text("label,a,b\n0,1.5,\n1,2.0,0.5\n1,3,4\n")
    monkeypatch.setenv("LOSSCTL_CSV_ENGINE", "pyarrow")
    r = probe(["compute", "cross-entropy", str(p), "--reduction", "none", "--format", "json"])
    assert r["code"] == 0
    values = json.loads(r["out"])["values"]
    assert values[0] is None  # the empty cell is NaN, which propagates (JSON null)
    assert values[1:] == pytest.approx([1.7014132779827524, 0.31326168751822286], rel=1e-12)  # torch float64
    assert "pandas" not in r["loaded"] and "pyarrow" in r["loaded"]


@pytest.mark.parametrize("args", [["--format", "csv", "--metric", "loss", "--run", "1"], ["--format", "ndjson"]])
def test_parse_to_a_pipe_imports_neither_pandas_nor_pydantic(args):
    # `lossctl parse LOG --format csv` is the big-log path: start-up counts (bench/bench_parse.py);
    # --run is read by hand (an int option with min=1 would import pydantic)
    log = str(Path(__file__).resolve().parents[1] / "examples" / "hf-trainer.log")
    r = probe(["parse", log, *args])
    assert r["code"] == 0
    assert "2.134" in r["out"]
    assert "pandas" not in r["loaded"] and "pydantic" not in r["loaded"] and "pyarrow" not in r["loaded"]
