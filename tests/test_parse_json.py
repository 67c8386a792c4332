"""``lossctl parse --format json``: one object with the records and what was learnt while
reading (skipped lines, notes, hparams, run summary); ndjson stays a bare record stream."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from lossctl.logs import export
from lossctl.logs.base import Record

KEYS = ["source", "format", "records", "skipped_lines", "skipped", "notes", "hparams", "summary"]

BAD_MIDDLE = """\
{'loss': 2.5, 'learning_rate': 1e-05, 'epoch': 0.5}
{'loss': 2.1, 'learning_rate':
{'loss': 2.0, 'learning_rate': 2e-05, 'epoch': 1.0}
{'loss': 1.8, 'grad_norm': inf, 'epoch': 1.5}
{'eval_loss': 2.25, 'epoch': 1.5}
{'train_runtime': 12.5, 'train_loss': 2.1, 'epoch': 1.5}
"""


def _write(tmp_path, text: str, name: str = "bad.log"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_json_reports_the_skipped_line_with_its_number(cli, tmp_path):
    p = _write(tmp_path, BAD_MIDDLE)
    r = cli(["parse", p, "--format", "json"])
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert list(data) == KEYS
    assert data["source"] == str(p) and data["format"] == "hf-console"
    assert data["skipped_lines"] == 1
    assert data["skipped"] == [{"line": 2, "reason": "an incomplete or malformed dict"}]
    assert [(d["step"], d["split"], d["metric"], d["value"]) for d in data["records"]] == [
        (1, "train", "loss", 2.5), (1, "train", "learning_rate", 1e-05),
        (2, "train", "loss", 2.0), (2, "train", "learning_rate", 2e-05),
        (3, "train", "loss", 1.8), (3, "train", "grad_norm", None),  # inf -> null
        (3, "eval", "loss", 2.25)]
    # the run-level dict is not a curve point: it is the summary, and a note says so
    assert data["summary"] == {"train_runtime": 12.5, "train_loss": 2.1, "epoch": 1.5}
    assert len(data["notes"]) == 1 and "run summary" in data["notes"][0]
    # the count is still on stderr too
    assert "skipped 1 line(s) that could not be read (first: line 2: an incomplete or malformed dict)" in r.err


def test_wide_json_has_the_same_shape_with_wide_rows(cli, tmp_path):
    p = _write(tmp_path, BAD_MIDDLE)
    r = cli(["parse", p, "--format", "json", "--wide", "--metric", "loss"])
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert list(data) == KEYS
    assert data["records"] == [
        {"run": 1, "step": 1, "epoch": 0.5, "train/loss": 2.5, "eval/loss": None},
        {"run": 1, "step": 2, "epoch": 1.0, "train/loss": 2.0, "eval/loss": None},
        {"run": 1, "step": 3, "epoch": 1.5, "train/loss": 1.8, "eval/loss": 2.25}]
    assert data["skipped_lines"] == 1 and data["skipped"][0]["line"] == 2
    assert data["summary"]["train_loss"] == 2.1
    # --wide used to say nothing about skipped lines on stderr
    assert "skipped 1 line(s) that could not be read (first: line 2" in r.err


def test_ndjson_stays_a_bare_record_stream(cli, tmp_path):
    p = _write(tmp_path, BAD_MIDDLE)
    r = cli(["parse", p, "--format", "ndjson", "--metric", "loss"])
    assert r.code == 0, r.err
    objs = [json.loads(ln) for ln in r.out.splitlines()]
    assert all(list(o) == ["run", "step", "epoch", "split", "metric", "value"] for o in objs)
    assert [o["value"] for o in objs] == [2.5, 2.0, 1.8, 2.25]
    assert "skipped 1 line(s) that could not be read" in r.err
    r = cli(["parse", p, "--format", "ndjson", "--wide", "--metric", "loss"])
    assert [json.loads(ln)["train/loss"] for ln in r.out.splitlines()] == [2.5, 2.0, 1.8]


def test_csv_output_is_unchanged(cli, tmp_path):
    p = _write(tmp_path, BAD_MIDDLE)
    r = cli(["parse", p, "--format", "csv", "--metric", "loss", "--split", "train"])
    assert r.out == ("run,step,epoch,split,metric,value\n1,1,0.5,train,loss,2.5\n1,2,1.0,train,loss,2.0\n"
                     "1,3,1.5,train,loss,1.8\n")


def test_json_lists_the_first_five_skipped_lines_and_counts_all(cli, tmp_path):
    lines = ["{'loss': 1.0, 'epoch': 0.1}"]
    for i in range(8):
        lines += ["{'loss': oops", f"{{'loss': {0.9 - i * 0.01}, 'epoch': {0.2 + i * 0.1}}}"]
    p = _write(tmp_path, "\n".join(lines) + "\n")
    data = json.loads(cli(["parse", p, "-f", "json"]).out)
    assert data["skipped_lines"] == 8
    assert [s["line"] for s in data["skipped"]] == [2, 4, 6, 8, 10]
    assert len(data["records"]) == 9


def test_json_of_a_cut_gzip_log_carries_the_truncation_note(cli, tmp_path):
    text = "".join(f"{{'loss': {2 - i * 1e-4:.4f}, 'epoch': {i / 100:.2f}}}\n" for i in range(5000))
    blob = gzip.compress(text.encode())
    p = tmp_path / "cut.log.gz"
    p.write_bytes(blob[: len(blob) * 2 // 3])
    r = cli(["parse", p, "-f", "json"])
    assert r.code == 0, r.err
    data = json.loads(r.out)
    cut = [n for n in data["notes"] if "stream ends early" in n]
    assert len(cut) == 1 and f"read up to line {len(data['records']):,}" in cut[0]


def test_json_of_a_document_format(cli, tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_text("epoch,step,train_loss,val_loss\n0,10,2.0,2.5\n1,20,1.5,\n")
    data = json.loads(cli(["parse", p, "-f", "json"]).out)
    assert data["format"] == "csv-table"
    assert [(d["step"], d["split"], d["value"]) for d in data["records"]] == [
        (10, "train", 2.0), (10, "eval", 2.5), (20, "train", 1.5)]


def test_no_records_is_still_an_error_without_output(cli, tmp_path):
    p = _write(tmp_path, BAD_MIDDLE)
    r = cli(["parse", p, "-f", "json", "--metric", "accuracy"])
    assert r.code == 2 and r.out == ""
    assert "no records match --metric accuracy" in r.err


def test_records_are_written_as_they_come():
    """The records array is written incrementally (bounded memory on a 2 GB log): each
    record is on the output before the next one is asked for."""
    out = io.StringIO()
    seen = []

    def records():
        for i in range(3):
            if i:
                assert out.getvalue().count('"metric"') == i  # the previous record is out already
            seen.append(i)
            yield Record(step=float(i), split="train", metric="loss", value=1.0 / (i + 1), name="loss", run=1)

    n = export.write_long_json(records(), out, head={"source": "x", "format": "y"},
                               tail=lambda: {"skipped_lines": len(seen), "bad": float("nan")})
    assert n == 3
    data = json.loads(out.getvalue())
    assert data["skipped_lines"] == 3  # the tail is computed after the records
    assert data["bad"] is None
    assert [d["value"] for d in data["records"]] == [1.0, 0.5, 1 / 3]


def test_empty_records_array_is_valid_json():
    out = io.StringIO()
    export.write_document({"a": 1}, iter(()), lambda: {"b": [float("inf")]}, out)
    assert out.getvalue() == '{\n  "a": 1,\n  "records": [],\n  "b": [null]\n}\n'
    assert json.loads(out.getvalue()) == {"a": 1, "records": [], "b": [None]}


# ---------------------------------------------------------------- the summary table's "best"

from lossctl.logs.tidy import higher_is_better  # noqa: E402


@pytest.mark.parametrize("metric", [
    "accuracy", "hellaswag_accuracy", "acc@1", "Acc@5", "top1", "top5_acc", "f1", "bleu", "sacrebleu", "rouge_l",
    "rougeLsum", "metrics/mAP50-95(B)", "metrics/mAP50(B)", "bbox/AP50", "bbox/AP", "map", "auc", "roc_auc",
    "precision", "recall", "miou", "exact_match", "reward", "samples_per_second", "tokens_per_sec", "mfu"])
def test_higher_is_better(metric):
    assert higher_is_better(metric)


@pytest.mark.parametrize("metric", [
    "loss", "box_loss", "cls_acc_loss", "dice_loss", "precision_loss", "perplexity", "error", "top1_err", "wer",
    "mae", "grad_norm", "learning_rate", "runtime", "train_runtime", "loss_per_second", "epoch", "happiness", "capacity", "maple"])
def test_not_higher_is_better(metric):
    assert not higher_is_better(metric)


METRICS_CSV = "epoch,step,train_loss,val_loss,val_acc,val_f1\n0,10,2.0,2.5,0.5,0.4\n1,20,1.5,2.2,0.7,nan\n" \
              "2,30,1.2,2.3,0.65,0.6\n"
METRICS_HF = "".join(
    f"{{'loss': {tl}, 'epoch': {e}.0}}\n{{'eval_loss': {vl}, 'eval_accuracy': {a}, 'eval_f1': {f}, 'epoch': {e}.0}}\n"
    for e, tl, vl, a, f in [(1, 2.0, 2.5, 0.5, 0.4), (2, 1.5, 2.2, 0.7, "nan"), (3, 1.2, 2.3, 0.65, 0.6)])


@pytest.mark.parametrize("name,text,steps", [
    ("metrics.csv", METRICS_CSV, ["30", "20", "20", "30"]),  # csv-table: the record path
    ("train.log", METRICS_HF, ["3", "2", "2", "3"]),  # hf-console: the fast CSV path
])
def test_table_best_is_the_max_where_higher_is_better(cli, tmp_path, name, text, steps):
    p = tmp_path / name
    p.write_text(text)
    r = cli(["parse", p])
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[1].split() == ["split", "metric", "points", "NaN", "first", "last", "best", "at", "step"]
    table = {tuple(ln.split()[:2]): ln.split()[2:] for ln in lines[3:-1]}
    assert table == {
        ("train", "loss"): ["3", "0", "2", "1.2", "1.2", steps[0]],
        ("eval", "loss"): ["3", "0", "2.5", "2.3", "2.2", steps[1]],  # lowest
        ("eval", "accuracy"): ["3", "0", "0.5", "0.65", "0.7", steps[2]],  # highest, not the last
        ("eval", "f1"): ["3", "1", "0.4", "0.6", "0.6", steps[3]],  # NaN is never the best
    }
    assert lines[-1] == "best: the highest value for accuracy, f1 (higher is better); the lowest for the others"


def test_fast_path_summary_equals_record_summary(tmp_path):
    from lossctl.logs import fastpath, iter_records

    p = tmp_path / "train.log"
    p.write_text(METRICS_HF * 5)
    sink = export.SummarySink()
    assert fastpath.run(iter_records(p), sink, metrics=None, splits=None, run=None) == 60
    assert sink.rows() == export.summarize_records(iter_records(p))
    assert [r["best_is"] for r in sink.rows()] == ["min", "min", "max", "max"]


def test_table_without_higher_is_better_metrics_has_no_footnote(cli):
    r = cli(["parse", "-"], stdin="{'loss': 2.0, 'epoch': 0.5}\n{'loss': 1.0, 'epoch': 1.0}\n")
    assert r.code == 0
    assert r.out.splitlines()[-1].split() == ["train", "loss", "2", "0", "2", "1", "1", "2"]
    assert "best:" not in r.out


def test_series_summary_rows():
    rows = export.summarize_records([
        Record(step=float(i), split="eval", metric=m, value=v, name=m, run=1)
        for i, (m, v) in enumerate([("accuracy", 0.5), ("loss", 2.0), ("accuracy", 0.9), ("loss", 1.0),
                                    ("accuracy", float("nan")), ("accuracy", 0.8)])])
    acc, loss = rows
    assert acc == {"run": 1, "split": "eval", "metric": "accuracy", "points": 4, "nan": 1, "first": 0.5,
                   "last": 0.8, "min": 0.5, "min_step": 0, "max": 0.9, "max_step": 2,
                   "best": 0.9, "best_step": 2, "best_is": "max"}
    assert (loss["best"], loss["best_step"], loss["best_is"]) == (1.0, 3, "min")
