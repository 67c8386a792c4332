"""Every real log in ../shared/real-logs/ (skipped when the folder is absent).

For each file of MANIFEST.tsv:
- ``negative_*`` families: ``lossctl parse`` exits 2 with the no-loss message (or the
  Git LFS message);
- every other family: the log is detected as the format NAME of the table below, and
  every train and eval loss point printed in the file comes out with exactly the
  value printed, in order.

The expected points come from a small extractor per family written here, independent
of lossctl's parsers (regexes / json / csv on the raw file). Both sides then follow the
documented tidy rules (lossctl/logs/tidy.py), mirrored by :func:`tidy_mirror`:
a step counter that goes back to (or below) the first step of the run starts a new
run, and the same (run, split, metric, step) twice keeps the last value at the
place of the first. A family whose file has no loss at all (an empty extraction)
must give the no-loss error.

The table is shared with the text formats (logs-text helper): their extractors are
the plain reading of each line given below; whoever changes a format's semantics
adjusts the extractor in the same commit.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest

from tests.conftest import REAL_LOGS, run_cli

pytestmark = pytest.mark.skipif(not (REAL_LOGS / "MANIFEST.tsv").exists(), reason="../shared/real-logs is absent")


def _manifest() -> list[tuple[str, str]]:
    path = REAL_LOGS / "MANIFEST.tsv"
    if not path.exists():
        return []
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t"))
    return [(r[0], r[1]) for r in rows[1:] if len(r) >= 2]


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _lines(path: Path) -> list[str]:
    """Physical lines split on \\n and \\r (tqdm frames)."""
    return re.split(r"\r\n|\r|\n", _text(path))


def _num(tok: str) -> float:
    return float(tok)


# ---------------------------------------------------------------- extractors
# Each returns [(split, metric, step, value)] in file order. step may be None when the
# format has none; then the order index is used (no dedup/run logic applies).


def ex_hf_console(path: Path):
    out = []
    k = 0
    eval_steps = set()
    for line in _lines(path):
        for d in re.findall(r"\{'[^{}]*\}", line):
            m = re.search(r"(?:^\{|, )'loss': ([^,}]+)", d)
            if m and "'train_runtime'" not in d:
                k += 1
                out.append(("train", "loss", k, _num(m.group(1))))
            m = re.search(r"'eval_loss': ([^,}]+)", d)
            if m:
                out.append(("eval", "loss", k, _num(m.group(1))))
                eval_steps.add(k)
        # '***** eval/test/predict metrics *****' blocks; an eval block that repeats
        # (rounded) the eval dict of the same step is not a new point
        m = re.match(r"\s*(eval|test|predict)_loss\s+=\s+(\S+)\s*$", line)
        if m:
            split = "eval" if m.group(1) == "eval" else "test"
            if not (split == "eval" and k in eval_steps):
                out.append((split, "loss", k, _num(m.group(2))))
    return out


def ex_trainer_state(path: Path):
    out = []
    for e in json.loads(_text(path))["log_history"]:
        if "loss" in e:
            out.append(("train", "loss", e.get("step"), float(e["loss"])))
        if "eval_loss" in e:
            out.append(("eval", "loss", e.get("step"), float(e["eval_loss"])))
    return out


def ex_jsonl(path: Path):
    out = []
    for line in _text(path).splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        step = d.get("current_steps", d.get("step"))
        if d.get("loss") is not None:
            out.append(("train", "loss", step, float(d["loss"])))
        if d.get("eval_loss") is not None:
            out.append(("eval", "loss", step, float(d["eval_loss"])))
    return out


_YOLO_PART = re.compile(r"^(?:box|cls|dfl|seg|pose|kobj|obj)_(?:om|oo)$")


def _csv_series(col: str):
    """(split, metric) of a loss column, or None when it is not a loss column."""
    c = col.strip()
    split = "train"
    for pre, sp in (("train/", "train"), ("train_", "train"), ("val/", "eval"), ("val_", "eval"),
                    ("valid_", "eval"), ("test_", "test"), ("test/", "test")):
        if c.startswith(pre):
            split, c = sp, c[len(pre):]
            break
    if "loss" in c or _YOLO_PART.match(c):
        return split, c
    return None


def ex_csv(path: Path):
    text = _text(path)
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]]
    low = [h.lower() for h in header]
    step_i = low.index("step") if "step" in low else None
    epoch_i = low.index("epoch") if "epoch" in low else None
    type_i = low.index("type") if "type" in low else None
    out = []
    for n, row in enumerate(rows[1:]):
        if not any(c.strip() for c in row):
            continue
        step = row[step_i].strip() if step_i is not None else (row[epoch_i].strip() if epoch_i is not None else n)
        for i, col in enumerate(header):
            if i in (step_i, epoch_i, type_i) or i >= len(row) or not row[i].strip():
                continue
            s = _csv_series(col)
            if s is None:
                continue
            split, metric = s
            if type_i is not None and row[type_i].strip() in ("val", "eval", "valid"):
                split = "eval"
            out.append((split, metric, float(step) if step != "" else None, float(row[i])))
    return out


def ex_detectron2(path: Path):
    out = []
    for line in _text(path).splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        if "total_loss" in d:
            out.append(("train", "loss", d.get("iteration"), float(d["total_loss"])))
        if "validation_loss" in d:
            out.append(("eval", "loss", d.get("iteration"), float(d["validation_loss"])))
    return out


def ex_megatron(path: Path):
    out = []
    for line in _lines(path):
        m = re.search(r"iteration\s+(\d+)/\s*\d+ \|", line)
        if m:
            lm = re.search(r"\blm loss: ([^ |]+)", line)
            out.append(("train", "loss", int(m.group(1)), _num(lm.group(1)) if lm else math.nan))
            continue
        m = re.search(r"validation loss at iteration (\d+) \| lm loss value: ([^ |]+)", line)
        if m:
            out.append(("eval", "loss", int(m.group(1)), _num(m.group(2))))
    return out


def ex_mmdet_text(path: Path):
    out = []
    for line in _lines(path):
        m = re.search(r"Epoch \[(\d+)\]\[(\d+)/(\d+)\].*[ ,]loss: ([-\d.eE+na]+)", line)
        if m:
            step = (int(m.group(1)) - 1) * int(m.group(3)) + int(m.group(2))
            out.append(("train", "loss", step, _num(m.group(4))))
    return out


def ex_keras_console(path: Path):
    out = []
    k = 0
    for line in _lines(path):
        if "ETA" in line:
            continue
        m = re.search(r"(?:^|\s-\s)loss: ([-\d.eE+na]+)", line)
        if m:
            k += 1
            out.append(("train", "loss", k, _num(m.group(1))))
            v = re.search(r"\sval_loss: ([-\d.eE+na]+)", line)
            if v:
                out.append(("eval", "loss", k, _num(v.group(1))))
    return out


def ex_nanogpt(path: Path):
    out = []
    last = 0
    for line in _lines(path):
        m = re.match(r"\s*step\s+(\d+) \| loss: ([-\d.eE+na]+)", line)  # build-nanogpt
        if m:
            last = int(m.group(1))
            out.append(("train", "loss", last, _num(m.group(2))))
            continue
        m = re.match(r"\s*validation loss: ([-\d.eE+na]+)", line)
        if m:
            out.append(("eval", "loss", last, _num(m.group(1))))
            continue
        m = re.match(r"\s*step:(\d+)/\d+ (train_loss|val_loss):([-\d.eE+na]+)", line)  # modded-nanogpt
        if m:
            split = "train" if m.group(2) == "train_loss" else "eval"
            out.append((split, "loss", int(m.group(1)), _num(m.group(3))))
    return out


def ex_avgmeter(path: Path):
    # a validation loop ('Test: [i/N]' lines) is one eval point: the running average
    # (in parentheses) of its last line -- see lossctl/logs/avgmeter.py
    out = []
    pending = None
    last_i = -1
    for line in _lines(path):
        t = re.match(r"\s*Test: \[(\d+)/(\d+)\].*?\tLoss [-\d.eE+na]+ \(([-\d.eE+na]+)\)", line)
        if t:
            if int(t.group(1)) <= last_i and pending is not None:
                out.append(("eval", "loss", None, pending))
            pending, last_i = _num(t.group(3)), int(t.group(1))
            continue
        m = re.match(r"\s*Epoch: \[(\d+)\]\[(\d+)/(\d+)\].*?\tLoss ([-\d.eE+na]+) \(", line)
        if m:
            if pending is not None:
                out.append(("eval", "loss", None, pending))
                pending, last_i = None, -1
            step = int(m.group(1)) * int(m.group(3)) + int(m.group(2))
            out.append(("train", "loss", step, _num(m.group(4))))
    if pending is not None:
        out.append(("eval", "loss", None, pending))
    return out


NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"


def ex_plaintext(path: Path):
    out = []
    for line in _lines(path):
        step = None  # epochs restart in these files (several sessions): every point counts
        b = re.search(r"Batch loss:\s*" + NUM, line)
        if b:  # per-batch losses carry no step of their own
            out.append(("train", "loss", None, _num(b.group(1))))
            continue
        t = re.search(r"(?:(?<!Average )Train Loss|Training Epoch: \d+, Loss):\s*" + NUM, line)
        if t:
            out.append(("train", "loss", step, _num(t.group(1))))
        v = re.search(r"(?:Val|Valid|Validation) Loss:\s*" + NUM, line)
        if v:
            out.append(("eval", "loss", step, _num(v.group(1))))
    return out


FAMILIES = {
    # family in MANIFEST.tsv: (format NAME lossctl must detect, extractor)
    "hf_console": ("hf-console", ex_hf_console),
    "hf_trainer_state": ("hf-trainer-state", ex_trainer_state),
    "llamafactory_trainer_log": ("jsonl", ex_jsonl),
    "lightning_metrics_csv": ("csv-table", ex_csv),
    "keras_csvlogger": ("csv-table", ex_csv),
    "yolo_results_csv": ("csv-table", ex_csv),
    "custom_csv": ("csv-table", ex_csv),
    "detectron2_metrics_json": ("detectron2", ex_detectron2),
    "megatron": ("megatron", ex_megatron),
    "mmdet_v2_text": ("mmdet-text", ex_mmdet_text),
    "keras_console": ("keras-console", ex_keras_console),
    "build_nanogpt": ("nanogpt", ex_nanogpt),
    "modded_nanogpt": ("nanogpt", ex_nanogpt),
    "pytorch_avgmeter": ("avgmeter", ex_avgmeter),
    "plaintext_epoch": ("plaintext", ex_plaintext),
}


def tidy_mirror(points):
    """The tidy rules (runs, keep-last duplicates) applied to extracted points.

    Returns {(split, metric): [values in output order]}.
    """
    run = 1
    first: dict = {}
    last: dict = {}
    kept: dict = {}  # (run, split, metric, step) -> index in order
    order: list = []
    for n, (split, metric, step, value) in enumerate(points):
        key = (split, metric)
        if step is None:
            step = ("idx", n)
        else:
            step = float(step)
            prev = last.get(key)
            if prev is not None and step < prev and step <= first[key]:
                run += 1
                first.clear()
                last.clear()
            first.setdefault(key, step)
            last[key] = step
        k = (run, split, metric, step)
        if k in kept:
            order[kept[k]] = (split, metric, value)
        else:
            kept[k] = len(order)
            order.append((split, metric, value))
    series: dict = {}
    for split, metric, value in order:
        series.setdefault((split, metric), []).append(value)
    return series


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _parse_csv(out: str):
    rows = list(csv.DictReader(io.StringIO(out)))
    series: dict = {}
    for r in rows:
        series.setdefault((r["split"], r["metric"]), []).append(float(r["value"]))
    return series


CASES = [(f, fam) for f, fam in _manifest()]


@pytest.mark.parametrize("name,family", CASES, ids=[c[0] for c in CASES])
def test_real_log(name, family):
    path = REAL_LOGS / name
    if family.startswith("negative"):
        r = run_cli(["parse", path, "--format", "csv"])
        assert r.code == 2, r.err
        if "lfs" in family:
            assert "Git LFS pointer" in r.err and "git lfs pull" in r.err
        else:
            assert f"no loss values found in {path}" in r.err and "found metrics:" in r.err
        return
    assert family in FAMILIES, f"no extractor for family {family!r}: add it to FAMILIES"
    fmt, extract = FAMILIES[family]
    expected = tidy_mirror(extract(path))
    r = run_cli(["parse", path, "--format", "csv"])
    if not expected:
        assert r.code == 2, (r.code, r.err[-500:])
        assert "no loss values found" in r.err
        return
    assert r.code == 0, r.err[-2000:]
    assert f"read as {fmt}" in r.err, r.err[:500]
    got = _parse_csv(r.out)
    for key, values in expected.items():
        assert key in got, f"{key} missing; lossctl gave {sorted(got)}"
        g = got[key]
        assert len(g) == len(values), f"{key}: {len(g)} points, the file has {len(values)}"
        bad = [(i, a, b) for i, (a, b) in enumerate(zip(g, values)) if not _same(a, b)]
        assert not bad, f"{key}: first differences (index, lossctl, file): {bad[:5]}"
    # and no loss series that the file does not have
    extra = [k for k in got if k[1] == "loss" and k not in expected]
    assert not extra, f"loss series not in the file: {extra}"
