"""lossctl parse / lossctl.parse_log: reading, cleaning, tidy rules, outputs, errors."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import threading
import time
from pathlib import Path

import pytest

from lossctl import errors
from lossctl.logs import detect_format, export, fastpath, hf_console, iter_records, parse_log, reader, tidy
from lossctl.logs.base import ParseContext, Record
from tests.conftest import FIXTURES

LOGS = FIXTURES / "logs"

HF = """\
{'loss': 2.5, 'grad_norm': 1.5, 'learning_rate': 1e-05, 'epoch': 0.5}
{'loss': 2.0, 'grad_norm': 1.25, 'learning_rate': 2e-05, 'epoch': 1.0}
{'eval_loss': 2.25, 'eval_runtime': 1.5, 'epoch': 1.0}
{'loss': 1.5, 'grad_norm': nan, 'learning_rate': 3e-05, 'epoch': 1.5}
"""


def rows(out: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(out)))


def series(out: str, split="train", metric="loss") -> list[tuple[str, str]]:
    return [(r["step"], r["value"]) for r in rows(out) if r["split"] == split and r["metric"] == metric]


# ---------------------------------------------------------------- cleaning


@pytest.mark.parametrize("raw,expected", [
    (" 45%|████▌     | 3/10 [00:01<00:02,  1.23it/s]\r{'loss': 1.0}", [" 45%|████▌     | 3/10 [00:01<00:02,  1.23it/s]".strip(), "{'loss': 1.0}"]),
    ("\x1b[1m\x1b[32mloss: 1.5\x1b[0m", ["loss: 1.5"]),
    ("[default7]: iteration 5/ 10 | lm loss: 2.0", ["iteration 5/ 10 | lm loss: 2.0"]),
    ("[rank0]:{'loss': 1.0}", ["{'loss': 1.0}"]),
    ("[1,0]<stdout>:step 3 loss 2.0", ["step 3 loss 2.0"]),
    ("> {'loss': 0.5, 'epoch': 1.0}", ["{'loss': 0.5, 'epoch': 1.0}"]),
    ("> > nested quote", ["nested quote"]),
    ("2024-05-01 12:00:00,123 - INFO - Epoch 1 loss 2.0", ["INFO - Epoch 1 loss 2.0"]),
    ("[2024-05-01 12:00:00] step 3", ["step 3"]),
    ("07/15/2023 04:58:22 - INFO - x", ["INFO - x"]),
    ("[default0]:[2024-05-01T12:00:00Z] loss 1", ["loss 1"]),
    ("     padded loss: 3.0      ", ["padded loss: 3.0"]),
])
def test_clean_segments(raw, expected):
    assert reader.clean_segments(raw) == expected


def test_csv_timestamp_column_is_not_stripped():
    # a timestamp followed by a comma is data (a CSV column), not a log prefix
    assert reader.strip_prefixes("2024-01-01 12:00:00,0.5,0.25") == "2024-01-01 12:00:00,0.5,0.25"


def test_progress_bar_detection():
    assert reader.is_progress_bar(" 45%|████▌     | 3/10 [00:01<00:02,  1.23it/s]")
    assert not reader.is_progress_bar(" 45%|████▌     | 3/10 [00:01<00:02,  1.23it/s]{'loss': 1.0}")


def test_line_numbers_are_physical_lines(tmp_path):
    p = tmp_path / "a.log"
    p.write_text("noise\n" + " 1%|x| 1/9 [00:00]\r 2%|x| 2/9 [00:00]\r{'loss': 1.0, 'epoch': 0.1}\n\n{'loss': 0.5, 'epoch': 0.2}\n")
    df = parse_log(p)
    assert list(df["line"]) == [2, 4]
    assert list(df["value"]) == [1.0, 0.5]


# ---------------------------------------------------------------- naming


@pytest.mark.parametrize("name,expected", [
    ("loss", ("train", "loss")),
    ("eval_loss", ("eval", "loss")),
    ("val_loss", ("eval", "loss")),
    ("valid_loss", ("eval", "loss")),
    ("validation loss", ("eval", "loss")),
    ("val/box_loss", ("eval", "box_loss")),
    ("train/box_loss", ("train", "box_loss")),
    ("train_loss", ("train", "loss")),
    ("test_accuracy", ("test", "accuracy")),
    ("predict_loss", ("test", "loss")),
    ("lr", ("train", "learning_rate")),
    ("lr-Adam", ("train", "learning_rate")),
    ("lr-AdamW", ("train", "learning_rate")),
    ("grad_norm", ("train", "grad_norm")),
    ("total_loss", ("train", "loss")),
    ("Loss/train", ("train", "loss")),
    ("train_loss_step", ("train", "loss")),
    ("train_loss_epoch", ("train", "loss_epoch")),
    ("eval_T005_f1", ("eval", "T005_f1")),
    ("acc", ("train", "accuracy")),
    ("loss_scale", ("train", "loss_scale")),
])
def test_canonical_names(name, expected):
    assert tidy.canonical(name) == expected


def test_is_loss():
    assert tidy.is_loss("loss") and tidy.is_loss("box_loss") and tidy.is_loss("cls_om")
    assert not tidy.is_loss("accuracy") and not tidy.is_loss("learning_rate")


# ---------------------------------------------------------------- tidy rules


def _recs(points, split="train", metric="loss"):
    return [Record(step=s, split=split, metric=metric, value=v, name=metric, line=i + 1, group=i)
            for i, (s, v) in enumerate(points)]


@pytest.mark.parametrize("window", [None, 3, 1000])
def test_duplicates_keep_the_last_value_in_place(window):
    ctx = ParseContext()
    recs = list(tidy.postprocess(_recs([(10, 1.0), (20, 2.0), (30, 3.0), (20, 2.5), (30, 3.5), (40, 4.0)]),
                                 ctx, window=window))
    assert [(r.step, r.value) for r in recs] == [(10, 1.0), (20, 2.5), (30, 3.5), (40, 4.0)]
    assert {r.run for r in recs} == {1}
    assert any("2 duplicated record(s)" in n for n in ctx.notes)


def test_duplicate_beyond_the_window_is_kept_and_said():
    ctx = ParseContext()
    recs = list(tidy.postprocess(_recs([(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0), (2, 9.0)]), ctx, window=1))
    assert [r.value for r in recs] == [1.0, 2.0, 3.0, 4.0, 9.0]
    assert any("repeat a step written more than 1 records earlier" in n for n in ctx.notes)


def test_restarting_step_counter_starts_a_new_run():
    ctx = ParseContext()
    recs = list(tidy.postprocess(_recs([(1, 3.0), (2, 2.0), (3, 1.0), (1, 3.5), (2, 2.5)]), ctx))
    assert [(r.run, r.step, r.value) for r in recs] == [(1, 1, 3.0), (1, 2, 2.0), (1, 3, 1.0), (2, 1, 3.5), (2, 2, 2.5)]
    only2 = list(tidy.postprocess(_recs([(1, 3.0), (2, 2.0), (1, 3.5), (2, 2.5)]), ParseContext(), run=2))
    assert [(r.step, r.value) for r in only2] == [(1, 3.5), (2, 2.5)]


def test_steps_numbered_per_entry_never_merged_on_equal_epoch():
    ctx = ParseContext()
    ctx.hparams["logging_steps"] = 50
    recs = [
        Record(step=None, split="train", metric="loss", value=1.0, name="loss", epoch=0.0, group=1),
        Record(step=None, split="train", metric="learning_rate", value=1e-5, name="lr", epoch=0.0, group=1),
        Record(step=None, split="train", metric="loss", value=0.9, name="loss", epoch=0.0, group=2),
        Record(step=None, split="eval", metric="loss", value=1.1, name="eval_loss", epoch=0.0, group=3),
    ]
    out = list(tidy.postprocess(recs, ctx))
    assert [(r.step, r.split, r.metric) for r in out] == [
        (50, "train", "loss"), (50, "train", "learning_rate"), (100, "train", "loss"), (100, "eval", "loss")]


def test_nan_and_inf_are_kept(tmp_path):
    p = tmp_path / "x.log"
    p.write_text("{'loss': nan, 'epoch': 0.1}\n{'loss': inf, 'epoch': 0.2}\n{'loss': -inf, 'epoch': 0.3}\n"
                 "{'loss': 0.0, 'grad_norm': nan, 'epoch': 0.4}\n")
    df = parse_log(p)
    loss = df[df.metric == "loss"]["value"].tolist()
    assert math.isnan(loss[0]) and loss[1] == math.inf and loss[2] == -math.inf and loss[3] == 0.0
    assert math.isnan(df[df.metric == "grad_norm"]["value"].iloc[0])


# ---------------------------------------------------------------- HF dict scanner


def test_scanner_never_evaluates_and_skips_calls(tmp_path):
    p = tmp_path / "x.log"
    marker = tmp_path / "pwned"
    p.write_text(f"{{'loss': __import__('os').system('touch {marker}'), 'epoch': 1.0}}\n"
                 "{'loss': tensor([2.1, 2.2]), 'epoch': 1.0}\n"
                 "{'loss': 1.25, 'note': 'a, b: {c}', 'tags': ['x', 'y'], 'epoch': 1.0}\n"
                 "{'loss': tensor(2.5, device='cuda:0', grad_fn=<AddBackward0>), 'grad_norm': np.float64(0.5), 'epoch': 2.0}\n")
    df = parse_log(p)
    assert not marker.exists()
    # scalar wrappers give their literal (read as text); any other call skips the dict
    assert df[df.metric == "loss"]["value"].tolist() == [1.25, 2.5]
    assert df[df.metric == "grad_norm"]["value"].tolist() == [0.5]
    assert df.attrs["skipped"] == 2


def test_scanner_values():
    pairs, end = hf_console.scan_dict("{'a': 1e-05, 'b': -inf, 'c': NaN, 'd': None, 'e': [1, (2, 3)], \"f\": 'x'}", 0)
    assert pairs[0] == ("a", 1e-05) and pairs[1] == ("b", -math.inf) and math.isnan(pairs[2][1])
    assert pairs[3] == ("d", None) and pairs[4] == ("e", None) and pairs[5] == ("f", "x")
    assert hf_console.scan_dict("{'a': f(1)}", 0)[0] is hf_console.CALL
    assert hf_console.scan_dict("{'a': 1,", 0)[0] is None


def test_hf_config_dicts_and_loss_scale_are_not_losses(tmp_path):
    p = tmp_path / "x.log"
    p.write_text("fsdp_config={'min_num_params': 0, 'xla': False},\n"
                 "[INFO] loss_scale ................... 0\n"
                 "overflow {'loss_scale': 1024}\n"
                 "{'loss': 1.5, 'epoch': 0.5}\n")
    df = parse_log(p)
    assert df[["step", "metric", "value"]].values.tolist() == [[1, "loss", 1.5]]


def test_hf_final_summary_is_not_a_curve_point():
    df = parse_log(HF + "{'train_runtime': 10.5, 'train_samples_per_second': 3.0, 'train_loss': 2.0, 'epoch': 1.5}\n")
    assert df[df.metric == "loss"]["value"].tolist() == [2.5, 2.0, 2.25, 1.5]
    assert df.attrs["summary"]["train_loss"] == 2.0 and df.attrs["summary"]["train_runtime"] == 10.5


def test_hf_steps_use_logging_steps_when_known():
    df = parse_log("TrainingArguments(\nlogging_steps=25,\n)\n" + HF)
    assert df.attrs["hparams"]["logging_steps"] == 25
    train = df[(df.metric == "loss") & (df.split == "train")]
    assert train["step"].tolist() == [25, 50, 75]
    assert df[(df.split == "eval") & (df.metric == "loss")]["step"].tolist() == [50]


def test_hf_infinite_explicit_step_is_ignored_and_the_dict_kept():
    """A 400-digit step overflows to inf: treated as no step (was OverflowError, exit 3)."""
    df = parse_log("{'loss': 2.1, 'epoch': 0.1, 'step': " + "9" * 400 + "}\n{'loss': 2.0, 'epoch': 0.2, 'step': nan}\n"
                   "{'loss': 1.9, 'epoch': 0.3}\n")
    assert df["step"].tolist() == [1, 2, 3]
    assert df["value"].tolist() == [2.1, 2.0, 1.9]


def test_hf_resume_from_a_huge_global_step_is_ignored_with_a_note():
    text = ("logging_steps=10\n  Continuing training from global step " + "9" * 400 + "\n"
            "{'loss': 2.1, 'epoch': 0.1}\n{'loss': 2.0, 'epoch': 0.2}\n")
    stream = iter_records(text)
    recs = list(stream)
    assert [r.step for r in recs] == [10, 20]
    assert any("400-digit step" in n for n in stream.ctx.notes)


def _cut(data: bytes, compress) -> bytes:
    z = compress(data)
    return z[: len(z) // 2]


@pytest.mark.parametrize("kind", ["gzip", "bz2", "xz"])
def test_truncated_compressed_log_keeps_the_complete_lines_before_the_cut(tmp_path, kind, cli):
    import bz2
    import lzma

    lines = [f"{{'loss': {1 + i % 97 / 100:.4f}, 'epoch': {i / 100:.2f}}}\n" for i in range(1, 20001)]
    text = "".join(lines).encode()
    comp = {"gzip": gzip.compress, "bz2": lambda d: bz2.compress(d, 1), "xz": lzma.compress}[kind]  # bz2: 100 kB blocks
    p = tmp_path / "t.log.z"
    p.write_bytes(_cut(text, comp))
    # what survives the cut, as zcat/bzcat/xzcat give it: the complete lines only
    dec = {"gzip": lambda: gzip.GzipFile(p), "bz2": lambda: bz2.BZ2File(p), "xz": lambda: lzma.LZMAFile(p)}[kind]()
    got = b""
    with pytest.raises(EOFError):
        while chunk := dec.read1(1 << 16):
            got += chunk
    n = got.count(b"\n")
    assert 0 < n < 20000
    recs = list(iter_records(p))
    assert [r.value for r in recs] == [float(l.split()[1].rstrip(",")) for l in lines[:n]]
    for fmt in ("csv", "json", "table"):  # the csv fast path and the record path
        r = cli(["parse", p, "-f", fmt])
        assert r.code == 0, r.err
        assert f"t.log.z: the {kind} stream ends early (truncated file?): read up to line {n:,}" in r.err
    r = cli(["parse", p, "-f", "csv"])
    assert r.out.count("\n") == n + 1
    df = parse_log(p)
    assert len(df) == n and any("ends early" in x for x in df.attrs["notes"])


def test_gzip_cut_before_the_first_line_is_an_input_error(tmp_path, cli):
    p = tmp_path / "t.log.gz"
    p.write_bytes(gzip.compress(HF.encode())[:20])
    r = cli(["parse", p])
    assert r.code == 2
    assert "t.log.gz: the gzip stream ended unexpectedly, before the first complete line" in r.err


@pytest.mark.parametrize("enc", ["utf-16", "utf-16-be-bom", "utf-32", "latin-1", "utf-8-sig", "utf-16-gz"])
def test_csv_output_of_non_utf8_logs_equals_the_record_path(tmp_path, enc, cli):
    """The fast path scans UTF-8 bytes: other encodings must go the record path (a UTF-16
    log gave a header and 'found no metrics')."""
    text = ("{'loss': 2.5, 'café_acc': 0.5, 'epoch': 0.1}\n{'loss': 2.1, 'café_acc': 0.6, 'epoch': 0.2}\n"
            "{'eval_loss': 1.5, 'eval_naïve': 0.25, 'epoch': 0.2}\n")
    data = {"utf-16-be-bom": lambda: b"\xfe\xff" + text.encode("utf-16-be"),
            "utf-16-gz": lambda: gzip.compress(text.encode("utf-16"))}.get(enc, lambda: text.encode(enc))()
    p = tmp_path / "u.log"
    p.write_bytes(data)
    assert fastpath.applies(iter_records(p)) == (enc == "utf-8-sig")
    a = io.StringIO()
    export.write_long(iter_records(p), "csv", a)
    r = cli(["parse", p, "-f", "csv"])
    assert r.code == 0, r.err
    assert r.out == a.getvalue()
    assert r.out.splitlines()[1:] == ["1,1,0.1,train,loss,2.5", "1,1,0.1,train,café_acc,0.5",
                                      "1,2,0.2,train,loss,2.1", "1,2,0.2,train,café_acc,0.6",
                                      "1,2,0.2,eval,loss,1.5", "1,2,0.2,eval,naïve,0.25"]


def test_ragged_metrics_csv_skips_the_ragged_rows_and_keeps_the_others(tmp_path, cli):
    p = tmp_path / "metrics.csv"
    p.write_text("epoch,step,train_loss,val_loss\n0,10,1.0,\n0,20,0.9,\n1,30,0.8,0.85,99\n1,40,0.7,0.75\n"
                 "2,50,0.6\n")
    stream = iter_records(p)
    recs = [(r.step, r.split, r.metric, r.value) for r in stream]
    assert stream.format == "csv-table"
    assert recs == [(10, "train", "loss", 1.0), (20, "train", "loss", 0.9),
                    (40, "train", "loss", 0.7), (40, "eval", "loss", 0.75)]
    assert stream.ctx.skipped == 2
    assert stream.ctx.skipped_examples[:2] == [(4, "5 cells where the header has 4"),
                                              (6, "3 cells where the header has 4")]
    r = cli(["parse", p, "-f", "csv"])
    assert r.code == 0 and r.out.count("\n") == 5
    assert "skipped 2 line(s) that could not be read (first: line 4: 5 cells where the header has 4)" in r.err


def test_a_table_with_many_long_rows_is_not_read_as_a_csv_table():
    rows = "".join(f"{i},{i * 10},1.0,2,3\n" for i in range(10))
    assert detect_format("epoch,step,train_loss\n" + rows)[0] != "csv-table"


@pytest.mark.parametrize("cut,why", [
    (lambda d: b"\x00garbage" * 100, "the first record's length field says 7,306,915,995,885,594,368 bytes "
                                     "but the file has 800: damaged, or not an event file"),
    (lambda d: d[:20], "the first record's length field says 72 bytes but the file has 20"),
    (lambda d: d[:12] + b"x" * (len(d) - 12), "its first record is not TensorBoard's 'brain.Event' version stamp"),
    (lambda d: d[:10], "10 bytes, shorter than one event record"),
])
def test_damaged_tensorboard_file_says_what_is_wrong(tmp_path, cli, cut, why):
    pytest.importorskip("tensorboard")  # the damage check runs after the optional reader is found
    good = (LOGS / "tensorboard--scalars.tfevents").read_bytes()
    p = tmp_path / "events.out.tfevents.1.host"
    p.write_bytes(cut(good))
    r = cli(["parse", p])
    assert r.code == 2
    assert f"events.out.tfevents.1.host: not a readable TensorBoard event file ({why}" in r.err
    assert "no known training-log format" not in r.err
    r = cli(["parse", p, "--log-format", "tensorboard"])  # TensorBoard's own reader finds nothing
    assert r.code == 2
    assert f"events.out.tfevents.1.host: not a readable TensorBoard event file ({why}" in r.err


# ---------------------------------------------------------------- sources


def _through_fifo(tmp_path, data: bytes, run, timeout: float = 20.0):
    """``run(path)`` on a real FIFO fed by a thread; never hangs: on timeout the FIFO is
    opened for writing and closed (a reader blocked in open() or read() then sees EOF)."""
    import os

    f = tmp_path / "pipe.log"
    os.mkfifo(f)

    def feed():
        try:
            with open(f, "wb") as w:
                w.write(data)
        except OSError:
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    result: dict = {}

    def work():
        try:
            result["value"] = run(f)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            result["error"] = e

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout)
    hung = worker.is_alive()
    deadline = time.monotonic() + 5
    while worker.is_alive() and time.monotonic() < deadline:
        try:
            os.close(os.open(f, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        worker.join(0.1)
    if feeder.is_alive():  # nobody opened the FIFO for reading: release the feeder
        try:
            os.close(os.open(f, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert not hung, "reading the FIFO blocked (opened a second time by path?)"
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_log_from_a_fifo_is_read_once_as_a_stream(tmp_path, cli, fmt, compress):
    """`lossctl parse <(zcat x.log.gz)` / a mkfifo: was opened again by path after the
    detection sample (blocked on a FIFO, found nothing in /dev/fd/N)."""
    data = (HF * 200).encode()
    r = _through_fifo(tmp_path, gzip.compress(data) if compress else data,
                      lambda f: cli(["parse", f, "-f", fmt, "--metric", "loss"]))
    assert r.code == 0, r.err
    assert "pipe.log: read as hf-console" in r.err
    expected = [r.value for r in iter_records(HF * 200) if r.metric == "loss"]
    got = ([float(l.split(",")[-1]) for l in r.out.splitlines()[1:]] if fmt == "csv"
           else [d["value"] for d in json.loads(r.out)["records"]])
    assert len(expected) == 800 and got == expected


def test_log_api_reads_a_fifo(tmp_path):
    df = _through_fifo(tmp_path, HF.encode(), parse_log)
    assert df[df.metric == "loss"]["value"].tolist() == [2.5, 2.0, 2.25, 1.5]


def test_stdin(cli):
    r = cli(["parse", "-", "--format", "csv", "--metric", "loss"], stdin=HF)
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "run,step,epoch,split,metric,value",
        "1,1,0.5,train,loss,2.5", "1,2,1.0,train,loss,2.0", "1,2,1.0,eval,loss,2.25", "1,3,1.5,train,loss,1.5"]
    assert "<stdin>: read as hf-console" in r.err


def test_gzip_same_as_plain(cli, tmp_path):
    src = LOGS / "hf-console--messy.log"
    gz = tmp_path / "messy.log.whatever"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    a = cli(["parse", src, "--format", "csv"])
    b = cli(["parse", gz, "--format", "csv"])
    assert a.code == b.code == 0
    assert a.out == b.out
    c = cli(["parse", "-", "--format", "csv"], stdin=gzip.compress(src.read_bytes()))
    assert c.out == a.out


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "latin-1"])
def test_encodings(tmp_path, encoding):
    text = "épochs: données\n" + HF
    p = tmp_path / "x.log"
    p.write_bytes(text.encode(encoding))
    df = parse_log(p)
    assert df[df.metric == "loss"]["value"].tolist() == [2.5, 2.0, 2.25, 1.5]


def test_lfs_pointer(cli, tmp_path):
    p = tmp_path / "trainer_log.jsonl"
    p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:9fc7\nsize 45778\n")
    r = cli(["parse", p])
    assert r.code == 2
    assert "Git LFS pointer file" in r.err and "45,778 bytes" in r.err and "git lfs pull" in r.err
    with pytest.raises(errors.InputError, match="Git LFS pointer"):
        parse_log(p)


def test_no_loss_lists_the_metrics(cli, tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"step": 1, "accuracy": 0.5, "lr": 0.1}\n{"step": 2, "accuracy": 0.6, "lr": 0.1}\n')
    r = cli(["parse", p, "--log-format", "jsonl"])
    assert r.code == 2
    assert f"no loss values found in {p}; found metrics: accuracy, lr" in r.err
    assert r.out == ""


def test_unrecognised_log(cli, tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("hello world\nnothing to see\n")
    r = cli(["parse", p])
    assert r.code == 2 and "no loss values found in" in r.err and "--log-format" in r.err


def test_missing_file_and_empty(cli, tmp_path):
    r = cli(["parse", tmp_path / "nope.log"])
    assert r.code == 2 and "nope.log: no such file" in r.err
    (tmp_path / "e.log").write_text("")
    r = cli(["parse", tmp_path / "e.log"])
    assert r.code == 2 and "the log is empty" in r.err


def test_tensorboard_without_the_extra(cli, monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("tensorboard"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    r = cli(["parse", LOGS / "tensorboard--scalars.tfevents"])
    assert r.code == 2
    assert "TensorBoard event files needs the optional package 'tensorboard'" in r.err
    assert "pip install 'lossctl[tensorboard]'" in r.err


# ---------------------------------------------------------------- outputs


def test_table_summary(cli):
    r = cli(["parse", "-"], stdin=HF)
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0] == "<stdin> (hf-console)"
    head = lines[1].split()
    assert head == ["split", "metric", "points", "NaN", "first", "last", "best", "at", "step"]
    table = {tuple(ln.split()[:2]): ln.split()[2:] for ln in lines[3:]}
    assert table[("train", "loss")] == ["3", "0", "2.5", "1.5", "1.5", "3"]
    assert table[("train", "grad_norm")] == ["3", "1", "1.5", "nan", "1.25", "2"]
    assert table[("eval", "loss")] == ["1", "0", "2.25", "2.25", "2.25", "2"]


def test_json_and_ndjson(cli):
    r = cli(["parse", "-", "--format", "json", "--metric", "grad_norm"], stdin=HF)
    data = json.loads(r.out)
    assert list(data) == ["source", "format", "records", "skipped_lines", "skipped", "notes", "hparams", "summary"]
    assert data["source"] == "<stdin>" and data["format"] == "hf-console"
    assert data["records"] == [
        {"run": 1, "step": 1, "epoch": 0.5, "split": "train", "metric": "grad_norm", "value": 1.5},
        {"run": 1, "step": 2, "epoch": 1.0, "split": "train", "metric": "grad_norm", "value": 1.25},
        {"run": 1, "step": 3, "epoch": 1.5, "split": "train", "metric": "grad_norm", "value": None}]
    assert data["skipped_lines"] == 0 and data["skipped"] == [] and data["notes"] == []
    r = cli(["parse", "-", "--format", "ndjson", "--split", "eval"], stdin=HF)
    objs = [json.loads(ln) for ln in r.out.splitlines()]
    assert [(o["metric"], o["value"]) for o in objs] == [("loss", 2.25), ("runtime", 1.5)]


def test_tsv(cli):
    r = cli(["parse", "-", "--format", "tsv", "--metric", "loss", "--split", "eval"], stdin=HF)
    assert r.out == "run\tstep\tepoch\tsplit\tmetric\tvalue\n1\t2\t1.0\teval\tloss\t2.25\n"


def test_wide(cli):
    r = cli(["parse", "-", "--wide", "--format", "csv", "--metric", "loss,grad_norm"], stdin=HF)
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "run,step,epoch,train/loss,train/grad_norm,eval/loss",
        "1,1,0.5,2.5,1.5,",
        "1,2,1.0,2.0,1.25,2.25",
        "1,3,1.5,1.5,nan,"]


def test_filters_and_errors(cli):
    r = cli(["parse", "-", "--format", "csv", "--metric", "nosuch"], stdin=HF)
    assert r.code == 2 and "no records match --metric nosuch" in r.err and "train/loss" in r.err
    r = cli(["parse", "-", "--split", "bogus"], stdin=HF)
    assert r.code == 2 and "unknown --split 'bogus'" in r.err
    r = cli(["parse", "-", "--log-format", "nope"], stdin=HF)
    assert r.code == 2 and "unknown --log-format 'nope'" in r.err
    r = cli(["parse", "-", "--split", "validation", "--format", "csv", "--metric", "eval_loss"], stdin=HF)
    assert r.out.splitlines()[1:] == ["1,2,1.0,eval,loss,2.25"]


def test_run_option(cli):
    text = HF + "***** Running training *****\n{'loss': 3.0, 'epoch': 0.5}\n{'loss': 2.75, 'epoch': 1.0}\n"
    r = cli(["parse", "-", "--format", "csv", "--metric", "loss", "--split", "train", "--run", "2"], stdin=text)
    assert r.out.splitlines()[1:] == ["2,1,0.5,train,loss,3.0", "2,2,1.0,train,loss,2.75"]
    r = cli(["parse", "-", "--format", "csv", "--run", "3"], stdin=text)
    assert r.code == 2


def test_list_formats(cli):
    r = cli(["parse", "--list-formats", "--format", "json"])
    names = [f["name"] for f in json.loads(r.out)]
    for n in ("hf-console", "hf-trainer-state", "jsonl", "csv-table", "detectron2", "mmdet-json", "tensorboard"):
        assert n in names
    assert all(f["example"] for f in json.loads(r.out))
    r = cli(["parse", "--list-formats"])
    assert "example: {'loss': 2.157" in r.out


def test_forced_format(cli, tmp_path):
    p = tmp_path / "x.txt"
    p.write_text('epoch,loss\n0,1.5\n1,1.25\n')
    r = cli(["parse", p, "--log-format", "csv_table", "--format", "csv"])
    assert r.code == 0 and r.out.splitlines()[1:] == ["1,0,0.0,train,loss,1.5", "1,1,1.0,train,loss,1.25"]


def test_parse_log_dataframe():
    df = parse_log(LOGS / "hf-trainer-state--eval-best.json")
    assert list(df.columns) == ["run", "step", "epoch", "split", "metric", "value", "name", "time", "line"]
    assert str(df["value"].dtype) == "float64"
    assert df.attrs["format"] == "hf-trainer-state"
    hp = df.attrs["hparams"]
    assert hp["logging_steps"] == 5 and hp["train_batch_size"] == 16 and hp["num_train_epochs"] == 2
    assert hp["max_steps"] == 30 and hp["best_metric"] == 0.30825763940811157
    assert hp["best_model_checkpoint"] == "./results/checkpoint-20"
    assert df.attrs["summary"]["train_loss"] == 0.55
    ev = df[(df.split == "eval") & (df.metric == "loss")]
    assert ev[["step", "value", "name"]].values.tolist() == [[10, 0.45, "eval_loss"], [20, 0.30825763940811157, "eval_loss"], [30, 0.35, "eval_loss"]]


def test_parse_log_raw_text_and_file_object():
    a = parse_log(HF)
    b = parse_log(io.StringIO(HF))
    assert a[["step", "split", "metric"]].values.tolist() == b[["step", "split", "metric"]].values.tolist()
    assert a.attrs["source"] == "<text>"


# ---------------------------------------------------------------- fast path = record path


def _both(path: Path, metrics=None, splits=None, run=None) -> tuple[str, str]:
    a = io.StringIO()
    export.write_long(export.filter_records(iter_records(path, run=run), metrics, splits), "csv", a)
    b = io.StringIO()
    stream = iter_records(path)
    assert fastpath.applies(stream)
    fastpath.write_csv(stream, b, metrics=metrics, splits=splits, run=run)
    return a.getvalue(), b.getvalue()


def _synthetic(path: Path, n=3000) -> None:
    with open(path, "w") as out:
        out.write("***** Running training *****\n  Total optimization steps = 9000\n")
        for s in range(1, n + 1):
            if s % 3 == 0:
                out.write(f" 45%|████▌     | {s}/{n} [01:23<01:40,  1.23it/s]\r")
            loss = "nan" if s == 1500 else f"{2.5 / s:.4f}"
            out.write(f"{{'loss': {loss}, 'grad_norm': {s % 7 / 3:.6f}, 'learning_rate': {5e-5 * (1 - s / n):.6e}, 'epoch': {s / n * 3:.2f}}}\n")
            if s % 100 == 0:
                out.write(f"{{'eval_loss': {1 / s:.6f}, 'eval_runtime': 12.3, 'epoch': {s / n * 3:.2f}}}\n")
            if s == 2000:
                out.write("{'eval_loss': 0.5, 'eval_runtime': 1.0, 'epoch': 2.0}\n")  # same step again
                out.write("***** Running training *****\n")
        out.write("***** eval metrics *****\n  epoch = 3.0\n  eval_loss = 0.1234\n  eval_acc = 0.9\n")


@pytest.mark.parametrize("metrics,splits,run", [
    (None, None, None), (["loss"], ["train"], None), (["loss"], None, None), (["loss"], ["eval"], None),
    (["grad_norm", "loss"], None, None), (None, ["eval"], None), (["loss"], ["train"], 2), (None, None, 1)])
def test_fast_path_equals_record_path(tmp_path, metrics, splits, run):
    p = tmp_path / "big.log"
    _synthetic(p)
    rec, fast = _both(p, metrics, splits, run)
    assert fast == rec
    assert fast.count("\n") > 2


@pytest.mark.parametrize("name", sorted(p.name for p in LOGS.glob("hf-console--*") if not p.name.endswith(".csv")))
def test_fast_path_on_fixtures(name):
    text = (LOGS / name).read_bytes()
    if "resumed" in name or fastpath._GLUED_RE.search(text):
        # a resume inside the log, or dicts glued to progress bars: the record path is used
        assert not fastpath.applies(iter_records(LOGS / name))
        return
    rec, fast = _both(LOGS / name)
    assert fast == rec


# ---------------------------------------------------------------- follow


def test_follow_prints_records_as_the_file_grows(tmp_path):
    from lossctl.logs import follow

    p = tmp_path / "live.log"
    p.write_text("{'loss': 3.0, 'epoch': 0.1}\n{'loss': 2.5, 'ep")  # a partial last line
    ctx = ParseContext(source=str(p))
    got: list[Record] = []
    done = threading.Event()

    def writer():
        time.sleep(0.15)
        with open(p, "a") as f:
            f.write("och': 0.2}\n")
            f.flush()
            time.sleep(0.15)
            f.write("{'loss': 2.0, 'epoch': 0.3}\n")
        time.sleep(0.15)
        p.write_text("{'loss': 9.0, 'epoch': 0.1}\n")  # truncated and rewritten
        time.sleep(0.3)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    for rec in follow.follow_records(p, hf_console, ctx, stop=done.is_set, poll=0.02):
        got.append(rec)
    t.join()
    assert [r.value for r in got] == [3.0, 2.5, 2.0, 9.0]
    assert any("truncated" in n for n in ctx.notes)


def test_follow_cli_interrupt_exits_130(tmp_path):
    import signal
    import subprocess
    import sys

    p = tmp_path / "live.log"
    p.write_text("{'loss': 3.0, 'epoch': 0.1}\n")
    proc = subprocess.Popen([sys.executable, "-m", "lossctl", "parse", str(p), "--follow", "--format", "csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        with open(p, "a") as f:
            f.write("{'loss': 2.0, 'epoch': 0.2}\n")
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert out.splitlines() == ["run,step,epoch,split,metric,value", "1,1,0.1,train,loss,3.0", "1,2,0.2,train,loss,2.0"]
    assert "Traceback" not in err


# ---------------------------------------------------------------- number canonicalisation

from hypothesis import given, settings, strategies as st  # noqa: E402

_tokens = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1e6, max_value=1e6).flatmap(
        lambda x: st.sampled_from([f"{x:.4f}", f"{x:.6e}", f"{x:.2f}", f"{x:g}", f"{x:.17g}", f"{x:E}"])),
    st.integers(min_value=-10**6, max_value=10**6).map(str),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "0.0", "-0.0", "1e-05", "1.0e-5", "0.0001", "0.00001",
                     "1e+16", "1e16", "123456789012345.0", "1234567890123456.0", "0.1000000000000000055511",
                     "+1.5", "00.5", "1.5E-07", "5.000000e-05", "2.8470", "0.00"]),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_tokens, min_size=65, max_size=200))
def test_fast_canonical_numbers_equal_repr_of_float(tokens):
    """The fast path prints repr(float(token)) for every token, whichever way it gets there."""
    col = [t.encode() for t in tokens]
    expected = ["nan" if math.isnan(float(t)) else repr(float(t)) for t in tokens]
    assert fastpath._canon_column(col, fastpath._Canon()) == expected
    distinct = [f"{i * 0.37:.6f}".encode() for i in range(100)] + col  # the bulk branch
    exp2 = ["nan" if math.isnan(float(t)) else repr(float(t)) for t in distinct]
    assert fastpath._canon_column(distinct, fastpath._Canon()) == exp2
    dotted = [t for t in distinct if b"." in t]  # no integer mantissa: zeros stripped in bulk
    exp3 = ["nan" if math.isnan(float(t)) else repr(float(t)) for t in dotted]
    assert fastpath._canon_column(dotted, fastpath._Canon()) == exp3


@pytest.mark.parametrize("banner_late", [False, True])
@pytest.mark.parametrize("metrics,splits", [(None, None), (["loss"], ["train"]), (["loss"], None)])
def test_fast_path_two_processes_equals_record_path(tmp_path, monkeypatch, banner_late, metrics, splits):
    """A child process reads the second half of big logs: its rows are used only when the
    first half ends as it assumed (else the parent reads on); the output is the same."""
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", 1000)
    monkeypatch.setattr(fastpath.reader, "CHUNK", 20_000)
    p = tmp_path / "big.log"
    if banner_late:
        _synthetic(p)  # a banner and a repeated eval in the second half: the parent reads it
    else:
        with open(p, "w") as out:
            out.write("TrainingArguments(\nlogging_steps=5,\n)\n")
            for s in range(1, 4001):
                out.write(f"{{'loss': {3 / s:.4f}, 'learning_rate': {s * 1e-7:.6e}, 'epoch': {s / 4000:.2f}}}\n")
                if s % 250 == 0:
                    out.write(f"{{'eval_loss': {3.5 / s:.6f}, 'eval_runtime': 1.5, 'epoch': {s / 4000:.2f}}}\n")
    rec, fast = _both(p, metrics, splits)
    assert fast == rec
    assert fast.count("\n") > 1000


def test_follow_notices_rotation(tmp_path):
    from lossctl.logs import follow

    p = tmp_path / "live.log"
    p.write_text("{'loss': 3.0, 'epoch': 0.1}\n")
    ctx = ParseContext(source=str(p))
    done = threading.Event()

    def rotate():
        time.sleep(0.2)
        p.rename(tmp_path / "live.log.1")
        (tmp_path / "new.log").write_text("{'loss': 1.0, 'epoch': 0.5}\n")
        (tmp_path / "new.log").rename(p)
        time.sleep(0.3)
        done.set()

    t = threading.Thread(target=rotate)
    t.start()
    values = [r.value for r in follow.follow_records(p, hf_console, ctx, stop=done.is_set, poll=0.02)]
    t.join()
    assert values == [3.0, 1.0]
    assert any("rotated" in n for n in ctx.notes)


def test_double_quoted_dicts_and_crlf(tmp_path):
    p = tmp_path / "x.log"
    p.write_bytes(b'{"loss": 1.5, "epoch": 0.5}\r\n{"loss": 1.25, "epoch": 1.0}\r\n\t{"eval_loss": 1.4, "epoch": 1.0}\t\r\n')
    df = parse_log(p, log_format="hf-console")
    assert df[["split", "metric", "value"]].values.tolist() == [["train", "loss", 1.5], ["train", "loss", 1.25], ["eval", "loss", 1.4]]


def test_table_summary_from_the_fast_path_equals_the_record_path(cli, tmp_path, monkeypatch):
    p = tmp_path / "big.log"
    _synthetic(p)
    fast = cli(["parse", p])
    monkeypatch.setattr(fastpath, "applies", lambda *a, **k: False)
    slow = cli(["parse", p])
    assert fast.code == slow.code == 0
    assert fast.out == slow.out
    rows = {tuple(ln.split()[:3]): ln.split()[3:] for ln in fast.out.splitlines()[3:]}
    assert rows[("1", "train", "loss")][:2] == ["2000", "1"]  # run 1: 2000 points, one NaN
    assert rows[("2", "train", "loss")][:2] == ["1000", "0"]


def test_fast_path_quotes_odd_names(tmp_path):
    p = tmp_path / "x.log"
    p.write_text("{'loss': 1.0, 'eval_a,b': 2.0, 'epoch': 0.5}\n" * 3)
    rec, fast = _both(p)
    assert fast == rec and '"a,b"' in fast


def test_follow_stdin_streams_and_ends_with_the_pipe(cli):
    # the format is recognised from what has arrived (no --log-format needed); a pipe
    # ends at EOF (tests/test_parse_follow_pipes.py runs real pipes and FIFOs)
    for extra in ([], ["--log-format", "hf-console"]):
        r = cli(["parse", "-", "--follow", "--metric", "loss", *extra], stdin=HF)
        assert r.code == 0, r.err
        assert r.out.splitlines() == ["run,step,epoch,split,metric,value", "1,1,0.5,train,loss,2.5",
                                      "1,2,1.0,train,loss,2.0", "1,2,1.0,eval,loss,2.25", "1,3,1.5,train,loss,1.5"]


_LINE_KINDS = [
    lambda r, s: f"{{'loss': {r.choice(['nan', 'inf', f'{r.random():.4f}', repr(r.random()), '0.0'])}, 'grad_norm': "
                 f"{r.choice(['nan', f'{r.random() * 3:.6f}'])}, 'learning_rate': {r.random() * 1e-4:.6e}, 'epoch': {s / 100:.2f}}}",
    lambda r, s: f"{{'eval_loss': {r.random():.6f}, 'eval_runtime': 1.5, 'epoch': {s / 100:.2f}}}",
    lambda r, s: f" 45%|████▌     | {s}/100 [01:23<01:40,  1.23it/s]\r{{'loss': {r.random():.4f}, 'learning_rate': 1e-05, 'epoch': {s / 100:.2f}}}",
    lambda r, s: "***** Running training *****",
    lambda r, s: "logging_steps=5,",
    lambda r, s: "***** eval metrics *****\n  epoch = 1.0\n  eval_loss = 0.5\n",
    lambda r, s: "{'loss': tensor(1.0), 'epoch': 1.0}",
    lambda r, s: "some warning line",
    lambda r, s: "{'train_runtime': 1.0, 'train_loss': 0.5, 'epoch': 1.0}",
    lambda r, s: "fsdp_config={'min_num_params': 0}",
    lambda r, s: "{'eval_a,b': 1.0, 'eval_loss': 0.25, 'epoch': 1.0}",
    lambda r, s: "{'grad_norm': 0.3, 'loss': 1.0, 'epoch': 1.0}",
    lambda r, s: "{'loss': 1.0}",
    lambda r, s: "{'loss': 1.0, 'total_loss': 2.0, 'learning_rate': 1e-05, 'epoch': 1.0}",
    lambda r, s: "[rank0]: {'loss': 1.0, 'epoch': 2.0}",
    lambda r, s: "{'loss': 1.0, 'note': 'x', 'epoch': 2.0}",
    lambda r, s: "{'loss': 1.0, 'epoch': 2.0} {'eval_loss': 1.0, 'epoch': 2.0}",
]


@pytest.mark.parametrize("seed", range(40))
def test_fast_path_equals_record_path_on_random_mixes(tmp_path, monkeypatch, seed):
    import random

    r = random.Random(seed)
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", r.choice([1000, 10**12]))
    monkeypatch.setattr(fastpath.reader, "CHUNK", r.choice([2000, 1 << 22]))
    weights = [r.random() ** 3 for _ in _LINE_KINDS]
    p = tmp_path / "mix.log"
    with open(p, "w") as f:
        for s in range(1, r.randint(2, 300)):
            f.write(r.choices(_LINE_KINDS, weights)[0](r, s) + "\n")
    metrics = r.choice([None, ["loss"], ["loss", "grad_norm"]])
    splits = r.choice([None, ["train"], ["eval"]])
    try:
        a = io.StringIO()
        export.write_long(export.filter_records(iter_records(p), metrics, splits), "csv", a)
        rec = a.getvalue()
    except errors.LossctlError as e:
        rec = f"error: {e}"
    stream = iter_records(p)
    if not fastpath.applies(stream):
        return
    try:
        b = io.StringIO()
        fastpath.write_csv(stream, b, metrics=metrics, splits=splits)
        fast = b.getvalue()
    except errors.LossctlError as e:
        fast = f"error: {e}"
    assert fast == rec


def test_tensorboard_directory_hint(cli, tmp_path):
    (tmp_path / "events.out.tfevents.1.host.2.0").write_bytes((LOGS / "tensorboard--scalars.tfevents").read_bytes())
    r = cli(["parse", tmp_path])
    assert r.code == 2 and "is a directory, not a log file" in r.err
    assert "events.out.tfevents.1.host.2.0" in r.err


def test_hf_logging_first_step(tmp_path):
    text = "TrainingArguments(\nlogging_first_step=True,\nlogging_steps=10,\n)\n" + HF
    df = parse_log(text)
    assert df[(df.split == "train") & (df.metric == "loss")]["step"].tolist() == [1, 10, 20]
    p = tmp_path / "x.log"
    p.write_text(text)
    rec, fast = _both(p)
    assert fast == rec


@pytest.mark.parametrize("block_loss,repeat", [("2.25", True), ("2.1234", False)])
def test_hf_eval_metrics_block_after_the_last_eval(tmp_path, block_loss, repeat):
    text = HF + "{'eval_loss': 2.25003, 'epoch': 1.5}\n***** eval metrics *****\n  epoch = 1.5\n" \
                f"  eval_loss = {block_loss}\n  eval_f1 = 0.5\n"
    df = parse_log(text)
    ev = df[(df.split == "eval") & (df.metric == "loss")]
    assert ev["value"].tolist() == [2.25, 2.25003]  # the block never replaces the dict's value
    assert df[df.metric == "f1"]["value"].tolist() == [0.5]  # a metric only the block has
    notes = " ".join(df.attrs["notes"])
    if repeat:
        assert "repeats (rounded) 1 value" in notes and "final eval_loss" not in df.attrs["summary"]
    else:
        assert df.attrs["summary"]["final eval_loss"] == 2.1234 and "eval_loss=2.1234" in notes
    p = tmp_path / "x.log"
    p.write_text(text)
    rec, fast = _both(p)
    assert fast == rec


@pytest.mark.parametrize("tail", ["", "Continuing training from global step 5\n", "{'loss': 1.0, 'step': 3}\n"])
def test_fast_run_checks_in_the_child_and_falls_back(cli, tmp_path, monkeypatch, tail):
    """lossctl parse on a big log: the child checks the whole file while the parent reads;
    a resume or an explicit step anywhere sends everything to the record path."""
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", 1000)
    monkeypatch.setattr(fastpath.reader, "CHUNK", 20_000)
    p = tmp_path / "big.log"
    with open(p, "w") as out:
        out.write("TrainingArguments(\nlogging_steps=5,\n)\n")
        for s in range(1, 4001):
            out.write(f"{{'loss': {3 / s:.4f}, 'learning_rate': {s * 1e-7:.6e}, 'epoch': {s / 4000:.2f}}}\n")
            if s == 3000:
                out.write(tail)
    calls = []
    real_write = fastpath.write_csv
    monkeypatch.setattr(fastpath, "write_csv", lambda *a, **k: calls.append(k) or real_write(*a, **k))
    fast = cli(["parse", p, "--format", "csv"])
    monkeypatch.setattr(fastpath, "run", lambda *a, **k: None)
    rec = cli(["parse", p, "--format", "csv"])
    assert fast.code == rec.code == 0
    assert fast.out == rec.out
    assert fast.err == rec.err
    assert calls and calls[0].get("verdict") is True


def test_parse_log_exact_when_a_duplicate_is_far_back(tmp_path, monkeypatch):
    import lossctl.logs as logs

    monkeypatch.setattr(logs, "PARSE_LOG_WINDOW", 2)
    p = tmp_path / "m.jsonl"
    lines = [f'{{"step": {s}, "loss": {s / 10}}}' for s in range(1, 8)] + ['{"step": 2, "loss": 9.5}', '{"step": 8, "loss": 0.8}']
    p.write_text("\n".join(lines) + "\n")
    df = parse_log(p)
    assert df[["step", "value"]].values.tolist() == [[1, 0.1], [2, 9.5], [3, 0.3], [4, 0.4], [5, 0.5], [6, 0.6], [7, 0.7], [8, 0.8]]
    assert not any("both were kept" in n for n in df.attrs["notes"])
    assert any("1 duplicated record" in n for n in df.attrs["notes"])
