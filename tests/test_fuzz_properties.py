"""Property-based robustness: random log text and random prediction files never crash lossctl.

Whatever hypothesis generates, a command ends with exit 0 or with exactly one
``lossctl: error:`` line and exit 2: never a traceback, never an internal error (exit 3).
Plus the data-keeping properties: a log cut at any byte keeps every complete record
before the cut, and a garbage line anywhere is skipped, counted, and nothing else is lost.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lossctl.errors import LossctlError
from lossctl.logs import iter_records

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])

# ---------------------------------------------------------------------- strategies

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["1e400", "-1e400", "nan", "NaN", "inf", "-inf", "1e-400", "0x1p3", "1_000", "", "-", ".",
                     "1.2.3", "９", "٣", "1e", "e5", "+", "9" * 50]),
)
keys = st.sampled_from(["loss", "eval_loss", "learning_rate", "epoch", "step", "grad_norm", "lm loss", "val_loss",
                        "acc", "'", "", "loss\x00", "損失"])


@st.composite
def hf_line(draw):
    items = draw(st.lists(st.tuples(keys, numbers), min_size=1, max_size=5))
    return "{" + ", ".join(f"'{k}': {v}" for k, v in items) + "}"


@st.composite
def megatron_line(draw):
    it = draw(st.integers(-5, 10**7))
    loss = draw(numbers)
    lr = draw(numbers)
    return (f" iteration {it:>8}/ 1000 | consumed samples: 32 | learning rate: {lr} | global batch size: 32 | "
            f"lm loss: {loss} | loss scale: 1.0 |")


@st.composite
def keras_line(draw):
    a, b = draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6))
    return f"{a}/{b} [==============================] - 2s 10ms/step - loss: {draw(numbers)} - val_loss: {draw(numbers)}"


@st.composite
def epoch_line(draw):
    return f"Epoch {draw(st.integers(-3, 10**9))}: Loss = {draw(numbers)}"


noise = st.one_of(
    st.text(max_size=80),
    st.sampled_from([" 45%|████▌     | 45/100 [01:23<01:40,  1.23it/s]\r", "\x1b[32m", "\x1b[0m", "\r", "\t",
                     "[rank0]: ", "> ", "2024-01-01 12:00:00 INFO ", "\ufeff", "\x00", "{", "}", "[[[[", "'", '"',
                     "Traceback (most recent call last):", "nan", "Epoch 1/3"]),
)
line = st.one_of(hf_line(), megatron_line(), keras_line(), epoch_line(), noise,
                 st.tuples(noise, hf_line()).map("".join))
log_text = st.lists(line, max_size=40).map("\n".join)
encodings = st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-8-sig"])


def _known_logs_core_bug(e: BaseException) -> None:
    """Only the known bug may pass: hf_console.next_train_step on an explicit step of 1e400
    (catalogue case parse-huge-explicit-step, a strict xfail, owned by logs-core)."""
    import traceback

    frames = traceback.extract_tb(e.__traceback__)
    if not any(f.filename.endswith("hf_console.py") and f.name == "next_train_step" for f in frames):
        raise e


def _one_error_or_ok(r) -> None:
    assert "Traceback" not in r.err, r.err
    assert "internal error" not in r.err, r.err
    assert r.code in (0, 2), (r.code, r.err)
    if r.code == 2:
        errs = [l for l in r.err.splitlines() if l.startswith("lossctl: error:")]
        assert len(errs) == 1, r.err


# ---------------------------------------------------------------------- logs


@SETTINGS
@given(text=log_text, enc=encodings, fmt=st.sampled_from([None, "hf-console", "megatron", "keras-console",
                                                          "plaintext", "nanogpt", "avgmeter", "fairseq", "timm",
                                                          "caffe", "dllogger", "mmdet-text", "jsonl", "csv-table"]))
def test_random_log_text_never_crashes_the_parser(text, enc, fmt):
    data = text.encode(enc, errors="replace")
    try:
        for rec in iter_records(io.BytesIO(data), log_format=fmt):
            assert rec.split in ("train", "eval", "test")
            assert isinstance(rec.value, float)
    except LossctlError as e:
        assert str(e)  # a message for the user
    except RecursionError:
        pass  # main() reports it as an input error
    except OverflowError as e:
        _known_logs_core_bug(e)


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_random_bytes_never_crash_the_parser(data):
    try:
        for _ in iter_records(io.BytesIO(data)):
            pass
    except LossctlError:
        pass


@pytest.mark.parametrize("data", [b"BZh", b"\x1f\x8b\x08\x00", b"\xfd7zXZ\x00"])
def test_cut_compressed_log_is_an_input_error(data):
    with pytest.raises(LossctlError):
        for _ in iter_records(io.BytesIO(data)):
            pass


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(text=log_text, cmd=st.sampled_from(["parse", "diagnose", "plot"]))
def test_random_logs_through_every_command(text, cmd, cli, tmp_path_factory):
    # an infinite explicit step is the known logs-core bug (catalogue: parse-huge-explicit-step)
    assume(not re.search(r"'step': -?(1e400|inf)", text))
    f = tmp_path_factory.mktemp("log") / "train.log"
    f.write_text(text, encoding="utf-8", errors="replace")
    args = [cmd, f] + (["-f", "csv"] if cmd == "parse" else ["-f", "json"] if cmd == "diagnose" else ["--width", "60"])
    _one_error_or_ok(cli(args))


HF_LINES = ["{'loss': %s, 'learning_rate': 1e-05, 'epoch': %s}" % (f"{2 - i * 0.01:.4f}", f"{i / 100:.2f}")
            for i in range(30)]


@SETTINGS
@given(n=st.integers(4, 30), cut=st.integers(0, 10**6))
def test_a_log_cut_anywhere_keeps_every_complete_record(n, cut, tmp_path_factory):
    text = "\n".join(HF_LINES[:n]) + "\n"
    cut = cut % (len(text) + 1)
    part = text[:cut]
    complete = part.count("\n")  # lines whose newline made it
    want = [float(l.split("'loss': ")[1].split(",")[0]) for l in HF_LINES[:complete]]
    if complete == len(HF_LINES[:n]) or part.endswith("\n") or not part:
        tail_ok = True
    else:
        tail_ok = False
    try:
        got = [r.value for r in iter_records(io.BytesIO(part.encode()), log_format="hf-console")
               if r.metric == "loss"]
    except LossctlError:
        got = []
    # the cut line itself may still be a complete dict when only its newline was lost
    assert got[:len(want)] == want
    assert len(got) <= len(want) + 1
    if tail_ok:
        assert got == want


@SETTINGS
@given(n=st.integers(5, 30), at=st.integers(0, 29), junk=st.one_of(noise, hf_line(), st.just("{'loss': 2.0, 'epo")))
def test_a_bad_line_anywhere_is_skipped_and_nothing_else_is_lost(n, at, junk):
    lines = HF_LINES[:n]
    at = at % (n + 1)
    junk = junk.replace("\n", " ").replace("\r", " ")
    # a dict with its own 'step' legitimately renumbers what follows (and steps beyond 2**53
    # collapse in float64, a logs-core limit): not junk for this property
    assume("step" not in junk)
    text = "\n".join(lines[:at] + [junk] + lines[at:]) + "\n"
    stream = iter_records(io.BytesIO(text.encode()), log_format="hf-console")
    got = [r.value for r in stream if r.metric == "loss" and r.split == "train"]
    want = [float(l.split("'loss': ")[1].split(",")[0]) for l in lines]
    # every good record survives, in order (the junk line may add a record of its own)
    it = iter(got)
    assert all(any(g == w for g in it) for w in want), (got, want)
    assert stream.ctx.skipped <= 1


# ---------------------------------------------------------------------- predictions

cells = st.one_of(numbers, st.sampled_from(["abc", "", " ", '"1"', "1,2", "\x00", "True", "None", "[1]", "-100"]))


@st.composite
def csv_file(draw):
    ncol = draw(st.integers(1, 5))
    header = draw(st.lists(st.sampled_from(["label", "target", "y", "logit_0", "logit_1", "logit_2", "a", "pred", ""]),
                           min_size=ncol, max_size=ncol))
    rows = draw(st.lists(st.lists(cells, min_size=max(ncol - 1, 0), max_size=ncol + 1), max_size=12))
    sep = draw(st.sampled_from([",", "\t", ";"]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return (sep.join(header) + eol + eol.join(sep.join(r) for r in rows) + draw(st.sampled_from(["", eol]))).encode()


json_values = st.recursive(
    st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-5, 5), st.text(max_size=3), st.none(),
              st.booleans()),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=30,
)


@st.composite
def json_file(draw):
    obj = draw(st.one_of(
        st.fixed_dictionaries({"input": json_values, "target": json_values}),
        st.fixed_dictionaries({"logits": json_values, "labels": json_values}),
        st.lists(st.fixed_dictionaries({"input": json_values, "target": json_values}), max_size=4),
        json_values,
    ))
    text = json.dumps(obj)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # cut short
    return text.encode()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.one_of(csv_file(), json_file(), st.binary(max_size=300)),
       loss=st.sampled_from(["cross-entropy", "mse", "bce-with-logits", "nll", "kl-div", "lm", "huber"]),
       suffix=st.sampled_from([".csv", ".json", ".jsonl", ".tsv", ".npy", ""]))
def test_random_prediction_files_never_crash_compute(data, loss, suffix, cli, tmp_path_factory):
    f = tmp_path_factory.mktemp("preds") / f"p{suffix}"
    f.write_bytes(data)
    r = cli(["compute", loss, f, "-f", "json"])
    _one_error_or_ok(r)
    if r.code == 0:
        obj = json.loads(r.out)
        assert obj["loss"] == loss


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inp=st.lists(cells, min_size=0, max_size=6).map(",".join),
       tgt=st.lists(cells, min_size=0, max_size=3).map(",".join),
       loss=st.sampled_from(["cross-entropy", "mse", "bce", "nll", "multi-margin", "focal", "poisson-nll"]))
def test_random_inline_values_never_crash_compute(inp, tgt, loss, cli):
    r = cli(["compute", loss, "--input", inp, "--target", tgt, "-f", "json"])
    _one_error_or_ok(r)
