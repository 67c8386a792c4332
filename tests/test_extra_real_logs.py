"""Real training logs from public repositories that are *not* in ../shared/real-logs.

``tests/data/extra-real-logs/`` holds each log as it was published (its repository, path and
commit are in ``SOURCES.tsv`` there); the file name is ``<family>__<n>.<ext>``. For every
file, lossctl must detect the format of its family without ``--log-format`` and give every
train/eval/test loss point printed in the file with exactly the printed value, in order;
``negative_*`` files must give the no-loss error (exit 2).

The expected points come from a small extractor per family written here from the raw
text (regexes, json, csv), independent of lossctl's parsers. Both sides then go through
the documented tidy rules, mirrored by :func:`tests.test_real_logs.tidy_mirror` (a step
that goes back to or below the first step of the run starts a new run; the same (run,
split, metric, step) twice keeps the last value at the place of the first).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.test_real_logs import _parse_csv, _same, _text, ex_trainer_state, tidy_mirror

DATA = ROOT / "tests" / "data" / "extra-real-logs"
NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN|inf|-inf)"


def _lines(path: Path) -> list[str]:
    return re.split(r"\r\n|\r|\n", _text(path))


# ---------------------------------------------------------------- extractors
# Each returns [(split, metric, step, value)] in file order (step None: order only).


def ex_nanogpt(path: Path):
    """nanoGPT 'iter N: loss X' (forks add a '[train] ' tag), the eval estimate 'step N:
    train loss A, val loss B' / '[eval] iter N: train A val B', build-nanogpt log.txt
    '<step> train|val <x>'. The train estimate is train/estimated_loss when the log has
    iter lines (they are the train/loss), else train/loss."""
    lines = _lines(path)
    has_iter = any(re.match(r"\s*(?:\[\w+\]\s*)?iter \d+: loss ", ln) for ln in lines)
    out = []
    for ln in lines:
        m = re.match(r"\s*(?:\[\w+\]\s*)?iter (\d+): loss " + NUM, ln)
        if m:
            out.append(("train", "loss", int(m.group(1)), float(m.group(2))))
            continue
        m = re.match(r"\s*(?:\[\w+\]\s*)?(?:step|iter) (\d+): train(?: loss)? " + NUM + r",? val(?: loss)? " + NUM, ln)
        if m:
            out.append(("eval", "loss", int(m.group(1)), float(m.group(3))))
            out.append(("train", "estimated_loss" if has_iter else "loss", int(m.group(1)), float(m.group(2))))
            continue
        m = re.match(r"(\d+) (train|val) " + NUM + r"\s*$", ln)
        if m:
            out.append(("train" if m.group(2) == "train" else "eval", "loss", int(m.group(1)), float(m.group(3))))
    return out


def ex_caffe(path: Path):
    """'Iteration N (...), loss = X' is the solver's loss; 'Train net output #k: NAME = V'
    is train NAME ('output_loss' for an output named loss); 'Test net output' lines after
    'Iteration N, Testing net (#0)' are eval."""
    out = []
    it = None
    for ln in _lines(path):
        m = re.search(r"\] Iteration (\d+)(?: \([^)]*\))?, (loss = |Testing net)", ln)
        if m:
            it = int(m.group(1))
            if m.group(2) == "loss = ":
                v = re.search(r"loss = " + NUM, ln)
                out.append(("train", "loss", it, float(v.group(1))))
            continue
        m = re.search(r"(Train|Test) net output #\d+: (\S+) = " + NUM, ln)
        if m and "loss" in m.group(2):
            if m.group(1) == "Train":
                name = "output_loss" if m.group(2) == "loss" else m.group(2)
                out.append(("train", name, it, float(m.group(3))))
            else:
                out.append(("eval", m.group(2), it, float(m.group(3))))
    return out


def ex_detectron2(path: Path):
    out = []
    for ln in _text(path).splitlines():
        if ln.strip():
            d = json.loads(ln)
            if "total_loss" in d:
                out.append(("train", "loss", d.get("iteration"), float(d["total_loss"])))
            for k in sorted(d):  # the loss terms, kept under their own names
                if k.startswith("loss_"):
                    out.append(("train", k, d.get("iteration"), float(d[k])))
            if "validation_loss" in d:
                out.append(("eval", "loss", d.get("iteration"), float(d["validation_loss"])))
    return out


def _column(col: str):
    """(split, metric) of a loss column of a metrics table, or None."""
    c = col.strip()
    split = "train"
    for pre, sp in (("train/", "train"), ("train_", "train"), ("val/", "eval"), ("val_", "eval"),
                    ("valid_", "eval"), ("test_", "test"), ("test/", "test")):
        if c.startswith(pre):
            split, c = sp, c[len(pre):]
            break
    if "loss" not in c:
        return None
    if c.endswith("_step"):  # Lightning's per-step copy of a logged value is the value
        c = c[: -len("_step")]
    return split, c


def ex_csv(path: Path):
    text = _text(path)
    delim = "\t" if "\t" in text.splitlines()[0] else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    header = [h.strip() for h in rows[0]]
    low = [h.lower() for h in header]
    step_i = low.index("step") if "step" in low else None
    epoch_i = low.index("epoch") if "epoch" in low else None
    out = []
    for row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        at = step_i if step_i is not None else epoch_i
        step = float(row[at]) if at is not None and row[at].strip() else None
        for i, col in enumerate(header):
            if i in (step_i, epoch_i) or i >= len(row) or not row[i].strip():
                continue
            s = _column(col)
            if s is not None:
                out.append((s[0], s[1], step, float(row[i])))
    return out


def ex_plaintext(path: Path):
    """pytorch/examples word_language_model: '| epoch 1 | 200/ 2983 batches | ... | loss  7.64',
    '| end of epoch 1 | ... | valid loss  5.53', '| End of training | test loss  5.33';
    per-epoch summaries 'Train Loss: 0.0068, Train Acc: 35.43' / 'Val Loss: 0.0030' (any case:
    'train loss: 1.937, acc: tensor(0.3262, ...)<br>')."""
    out = []
    for ln in _lines(path):
        m = re.search(r"(?i)\btrain loss:\s*" + NUM, ln)
        if m:
            out.append(("train", "loss", None, float(m.group(1))))
        m = re.search(r"(?i)\b(?:val|validation) loss:\s*" + NUM, ln)
        if m:
            out.append(("eval", "loss", None, float(m.group(1))))
        m = re.search(r"batches \|.*\| loss\s+" + NUM, ln)
        if m:
            out.append(("train", "loss", None, float(m.group(1))))
        m = re.search(r"\| valid loss\s+" + NUM, ln)
        if m:
            out.append(("eval", "loss", None, float(m.group(1))))
        m = re.search(r"\| test loss\s+" + NUM, ln)
        if m:
            out.append(("test", "loss", None, float(m.group(1))))
    return out


def ex_keras_console(path: Path):
    """Keras fit() console: one 'N/N ... - loss: x - val_loss: y' line per epoch (progress
    frames with an ETA are not points)."""
    out = []
    k = 0
    for ln in _lines(path):
        if "ETA" in ln:
            continue
        m = re.search(r"(?:^|\s-\s)loss: " + NUM, ln)
        if m:
            k += 1
            out.append(("train", "loss", k, float(m.group(1))))
            v = re.search(r"\sval_loss: " + NUM, ln)
            if v:
                out.append(("eval", "loss", k, float(v.group(1))))
    return out


def ex_jsonl(path: Path):
    out = []
    for ln in _text(path).splitlines():
        if ln.strip():
            d = json.loads(ln)
            if d.get("loss") is not None:
                out.append(("train", "loss", d.get("current_steps"), float(d["loss"])))
            if d.get("eval_loss") is not None:
                out.append(("eval", "loss", d.get("current_steps"), float(d["eval_loss"])))
    return out


FAMILIES = {
    # file-name family: (format NAME lossctl must detect, extractor)
    "nanogpt": ("nanogpt", ex_nanogpt),
    "caffe": ("caffe", ex_caffe),
    "detectron2": ("detectron2", ex_detectron2),
    "custom_csv": ("csv-table", ex_csv),
    "yolo_results_csv": ("csv-table", ex_csv),
    "lightning_metrics_csv": ("csv-table", ex_csv),
    "plaintext": ("plaintext", ex_plaintext),
    "keras_console": ("keras-console", ex_keras_console),
    "hf_trainer_state": ("hf-trainer-state", ex_trainer_state),
    "llamafactory_trainer_log": ("jsonl", ex_jsonl),
}


def _sources() -> list[list[str]]:
    path = DATA / "SOURCES.tsv"
    if not path.exists():
        return []
    return [r for r in csv.reader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t")][1:]


CASES = [r[0] for r in _sources()]


def test_every_file_has_a_source_and_a_family():
    files = sorted(p.name for p in DATA.iterdir() if p.name != "SOURCES.tsv")
    assert files == sorted(CASES)
    for row in _sources():
        name, repo, path, commit = row[:4]
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo) and path and re.fullmatch(r"[0-9a-f]{40}", commit), row
        family = name.split("__")[0]
        assert family.startswith("negative") or family in FAMILIES, name


@pytest.mark.parametrize("name", CASES)
def test_extra_real_log(name):
    path = DATA / name
    family = name.split("__")[0]
    r = run_cli(["parse", path, "--format", "csv"])
    if family.startswith("negative"):
        assert r.code == 2, r.err
        assert f"no loss values found in {path}" in r.err
        return
    fmt, extract = FAMILIES[family]
    expected = tidy_mirror(extract(path))
    assert expected, f"the extractor found no loss in {name}"
    assert r.code == 0, r.err[-2000:]
    assert f"read as {fmt}\n" in r.err, r.err[:500]
    got = _parse_csv(r.out)
    for key, values in expected.items():
        assert key in got, f"{key} missing; lossctl gave {sorted(got)}"
        g = got[key]
        assert len(g) == len(values), f"{key}: {len(g)} points, the file has {len(values)}"
        bad = [(i, a, b) for i, (a, b) in enumerate(zip(g, values)) if not _same(a, b)]
        assert not bad, f"{key}: first differences (index, lossctl, file): {bad[:5]}"
    extra = [k for k in got if "loss" in k[1] and k not in expected]
    assert not extra, f"loss series not in the file: {extra}"


def test_nan_losses_are_kept():
    """nanoGPT's 'iter 425: loss nan' (a run that diverged) stays a NaN point, not a gap."""
    r = run_cli(["parse", DATA / "nanogpt__01.log", "--format", "csv"])
    train = _parse_csv(r.out)[("train", "loss")]
    assert sum(math.isnan(v) for v in train) == 6 and math.isnan(train[-1])
