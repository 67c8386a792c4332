"""Reading predictions (lossctl.inputs) and the Python API over files: every format,
sniffing, column selection, gzip, stdin, streaming in chunks, and refusing what is unsafe."""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossctl
from lossctl import inputs
from lossctl.compute import ComputeResult, compute
from lossctl.errors import InputError, MissingDependency, UsageError

RNG = np.random.default_rng(11)
X = np.round(RNG.normal(size=(40, 4)), 4)
Y = RNG.integers(0, 4, 40)


def ce_reference(x: np.ndarray, y: np.ndarray) -> float:
    """Cross-entropy mean, computed independently of lossctl (float64, stable)."""
    m = x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]
    return float(np.mean(lse - x[np.arange(len(y)), y]))


EXPECTED = ce_reference(X, Y)


def write_csv(path, sep=",", x=X, y=Y, names=None):
    names = names or ["label"] + [f"logit_{i}" for i in range(x.shape[1])]
    lines = [sep.join(names)] + [sep.join([str(int(t))] + [repr(float(v)) for v in row]) for t, row in zip(y, x)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def chunks_of(path, **kw):
    preds = inputs.read_predictions(str(path), **kw)
    try:
        return preds, list(preds.chunks())
    finally:
        preds.close()


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    "head, fmt",
    [
        (b'{"input": [1], "target": [1]}', "json"),
        (b'  [[1, 2], [3, 4]]', "json"),
        (b'{"input": [1,2], "target": 0}\n{"input": [3,4], "target": 1}\n', "jsonl"),
        (b'{\n  "input": [1],\n  "target": [1]\n}\n', "json"),
        (b"label,a,b\n0,1,2\n", "csv"),
        (b"label\ta\tb\n0\t1\t2\n", "tsv"),
        (b"\xef\xbb\xbflabel,a\n0,1\n", "csv"),
        (b"\x93NUMPY\x01\x00", "npy"),
        (b"PK\x03\x04rest", "npz"),
        (b"PAR1\x15\x04", "parquet"),
    ],
)
def test_sniff_from_the_first_bytes(head, fmt):
    assert inputs.sniff(head) == fmt


def test_the_file_name_does_not_decide_the_format(tmp_path):
    p = tmp_path / "preds.json"  # CSV content behind a .json name
    write_csv(p)
    preds, chunks = chunks_of(p)
    assert preds.format == "csv"
    assert compute("cross-entropy", p).value == pytest.approx(EXPECTED, rel=1e-12)


def test_input_format_overrides_the_sniffing(tmp_path):
    p = tmp_path / "preds.txt"
    p.write_text("label;a;b\n0;1;2\n", encoding="utf-8")
    preds, _ = chunks_of(p, fmt="csv")
    assert preds.format == "csv"
    with pytest.raises(UsageError, match="unknown --input-format 'xml'"):
        inputs.read_predictions(str(p), fmt="xml")


# ---------------------------------------------------------------- every format gives the same number


def make_all_formats(tmp_path) -> dict:
    import pandas as pd

    files = {}
    files["csv"] = write_csv(tmp_path / "p.csv")
    files["tsv"] = write_csv(tmp_path / "p.tsv", sep="\t")
    files["semicolon"] = write_csv(tmp_path / "p.ssv", sep=";")
    files["json"] = tmp_path / "p.json"
    files["json"].write_text(json.dumps({"input": X.tolist(), "target": Y.tolist()}))
    files["json-logits-labels"] = tmp_path / "q.json"
    files["json-logits-labels"].write_text(json.dumps({"logits": X.tolist(), "labels": Y.tolist()}))
    files["json-records"] = tmp_path / "r.json"
    files["json-records"].write_text(json.dumps([{"pred": a, "y": int(b)} for a, b in zip(X.tolist(), Y)]))
    files["jsonl-samples"] = tmp_path / "s.jsonl"
    files["jsonl-samples"].write_text("".join(json.dumps({"input": a, "target": int(b)}) + "\n" for a, b in zip(X.tolist(), Y)))
    files["jsonl-batches"] = tmp_path / "b.jsonl"
    files["jsonl-batches"].write_text("".join(
        json.dumps({"predictions": X[i:i + 15].tolist(), "targets": Y[i:i + 15].tolist()}) + "\n" for i in range(0, 40, 15)))
    files["npz"] = tmp_path / "p.npz"
    np.savez(files["npz"], logits=X, labels=Y)
    files["parquet"] = tmp_path / "p.parquet"
    df = pd.DataFrame(X, columns=[f"logit_{i}" for i in range(4)])
    df.insert(0, "label", Y)
    df.to_parquet(files["parquet"])
    for name in ("csv", "json", "jsonl-samples", "npz", "parquet"):
        gz = tmp_path / (files[name].name + ".gz")
        gz.write_bytes(gzip.compress(files[name].read_bytes()))
        files[name + ".gz"] = gz
    return files


def test_every_format_gives_the_reference_value(tmp_path):
    files = make_all_formats(tmp_path)
    assert len(files) == 15
    for name, path in files.items():
        r = compute("cross-entropy", path)
        assert r.value == pytest.approx(EXPECTED, rel=1e-12), name
        assert r.count == 40 and r.denominator == 40.0, name


def test_notes_say_what_was_taken_as_what(tmp_path):
    files = make_all_formats(tmp_path)
    assert compute("cross-entropy", files["csv"]).notes == [
        f"{files['csv']}: took 'logit_0', 'logit_1', 'logit_2', 'logit_3' as the input, 'label' as the target"]
    assert compute("cross-entropy", files["json-logits-labels"]).notes == [
        f"{files['json-logits-labels']}: took key 'logits' as the input, 'labels' as the target"]
    assert compute("cross-entropy", files["json-records"]).notes == [
        f"{files['json-records']}: 40 records; took key 'pred' as the input, 'y' as the target"]
    assert compute("cross-entropy", files["npz"]).notes == [
        f"{files['npz']}: took array 'logits' as the input, 'labels' as the target"]
    seen = []
    compute("cross-entropy", files["jsonl-samples"], on_note=seen.append)
    assert seen == [f"{files['jsonl-samples']}: JSON Lines; took key 'input' as the input, 'target' as the target"]


def test_npy_is_the_input_and_the_target_comes_separately(tmp_path):
    p = tmp_path / "x.npy"
    np.save(p, X)
    r = compute("cross-entropy", p, Y)
    assert r.value == pytest.approx(EXPECTED, rel=1e-12)
    with pytest.raises(InputError, match="cross-entropy needs a target"):
        compute("cross-entropy", p)


def test_npy_with_python_objects_is_refused_not_unpickled(tmp_path):
    p = tmp_path / "evil.npy"
    np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="holds Python objects; lossctl never unpickles"):
        compute("mse", p, [1.0, 2.0])


def test_npz_with_python_objects_is_refused(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, input=np.array([object()], dtype=object), target=np.array([1.0]))
    with pytest.raises(InputError, match="never unpickles|not numbers"):
        compute("mse", p)


# ---------------------------------------------------------------- CSV column selection


def test_csv_columns_by_glob_and_list(tmp_path):
    p = tmp_path / "wide.csv"
    names = ["id", "truth", "logit_0", "logit_1", "logit_2", "logit_3", "note"]
    rows = ["id,truth,logit_0,logit_1,logit_2,logit_3,note"] + [
        ",".join([str(i), str(int(t))] + [repr(float(v)) for v in row] + ["7"]) for i, (t, row) in enumerate(zip(Y, X))]
    p.write_text("\n".join(rows) + "\n")
    r = compute("cross-entropy", p, input_cols="logit_*")
    assert r.value == pytest.approx(EXPECTED, rel=1e-12)
    assert r.notes == [f"{p}: took 'logit_0', 'logit_1', 'logit_2', 'logit_3' as the input, 'truth' as the target; "
                       f"ignored 'id', 'note'"]
    r2 = compute("cross-entropy", p, input_cols="logit_0,logit_1,logit_2,logit_3", target_col="truth")
    assert r2.value == r.value
    assert names  # the id column is never an input by default:
    r3 = compute("cross-entropy", p, input_cols="logit_*,note")
    assert r3.count == 40 and r3.value != r.value


def test_csv_unknown_column_suggests_the_closest(tmp_path):
    p = write_csv(tmp_path / "p.csv")
    with pytest.raises(InputError) as e:
        compute("cross-entropy", p, target_col="lable")
    assert "no column matches 'lable' (--target-col)" in str(e.value)
    assert e.value.hint.startswith("did you mean 'label'?")


def test_csv_regression_single_columns(tmp_path):
    p = tmp_path / "reg.csv"
    p.write_text("y_pred,y\n1.0,1.5\n2.0,2.0\n4.0,3.0\n")
    r = compute("mse", p)
    assert r.value == pytest.approx((0.25 + 0 + 1) / 3, rel=1e-15)
    assert r.notes == [f"{p}: took 'y_pred' as the input, 'y' as the target"]


def test_gaussian_nll_variance_column(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("mean,target,var\n0.0,1.0,2.0\n1.0,1.0,0.5\n")
    r = compute("gaussian-nll", p)
    expected = np.mean([0.5 * (np.log(2.0) + 1 / 2.0), 0.5 * np.log(0.5)])
    assert r.value == pytest.approx(expected, rel=1e-12)
    assert "'var' as the variance" in r.notes[0]


def test_a_file_that_has_no_header_is_refused(tmp_path):
    p = tmp_path / "nohead.csv"
    p.write_text("0,1.5,2\n1,2,3\n")
    with pytest.raises(InputError, match=r"nohead.csv:1: has no header line"):
        compute("cross-entropy", p)


# ---------------------------------------------------------------- streaming


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 1024)
    monkeypatch.setattr(inputs, "CHUNK_ROWS", 7)


def big_csv(tmp_path, n=2000):
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=(n, 6)) * 3, 5)
    y = rng.integers(0, 6, n)
    return write_csv(tmp_path / "big.csv", x=x, y=y), x, y


@pytest.mark.parametrize("engine", ["pyarrow", "pandas"])
def test_a_file_over_several_chunks_gives_the_one_chunk_result(tmp_path, monkeypatch, engine):
    monkeypatch.setenv("LOSSCTL_CSV_ENGINE", engine)
    p, x, y = big_csv(tmp_path)
    whole = {red: compute("cross-entropy", p, reduction=red, weight="1,2,3,1,1,0.5") for red in ("mean", "sum", "none")}
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 1024)
    _, chunks = chunks_of(p)
    assert len(chunks) > 10
    assert [c.row0 for c in chunks] == list(np.cumsum([0] + [len(c.x) for c in chunks[:-1]]))
    for red, one in whole.items():
        many = compute("cross-entropy", p, reduction=red, weight="1,2,3,1,1,0.5")
        assert many.count == one.count == 2000
        assert many.denominator == pytest.approx(one.denominator, rel=1e-15)
        if red == "none":
            np.testing.assert_array_equal(many.values, one.values)
        else:
            assert many.value == pytest.approx(one.value, rel=1e-13)


def test_jsonl_and_parquet_stream_in_chunks(tmp_path, small_chunks):
    files = make_all_formats(tmp_path)
    for name in ("jsonl-samples", "parquet"):
        _, chunks = chunks_of(files[name])
        assert len(chunks) == 6, name  # 40 rows, 7 per chunk
        assert compute("cross-entropy", files[name]).value == pytest.approx(EXPECTED, rel=1e-12)


def test_errors_in_later_chunks_name_the_file_line(tmp_path, small_chunks):
    p, x, y = big_csv(tmp_path, n=300)
    lines = p.read_text().splitlines()
    lines[251] = lines[251].split(",", 1)[0] + ",oops," + lines[251].split(",", 2)[2]
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"big.csv:252: column 'logit_0': 'oops' is not a number"):
        compute("cross-entropy", p)
    lines[251] = "9," + lines[251].split(",", 1)[1].replace("oops", "1.0")
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"big.csv:252: column 'label': row 250: target class 9 is out of range"):
        compute("cross-entropy", p)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), chunk=st.integers(1, 13), seed=st.integers(0, 2**16))
def test_chunking_never_changes_the_result(tmp_path_factory, n, chunk, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * 10
    y = rng.integers(0, 3, n)
    d = tmp_path_factory.mktemp("h")
    p = d / "s.jsonl"
    p.write_text("".join(json.dumps({"input": a, "target": int(b)}) + "\n" for a, b in zip(x.tolist(), y)))
    old = inputs.CHUNK_ROWS
    try:
        inputs.CHUNK_ROWS = chunk
        many = compute("cross-entropy", p, label_smoothing=0.1)
        inputs.CHUNK_ROWS = 10**6
        one = compute("cross-entropy", p, label_smoothing=0.1)
    finally:
        inputs.CHUNK_ROWS = old
    assert many.value == pytest.approx(one.value, rel=1e-13)
    assert many.count == one.count == n


# ---------------------------------------------------------------- optional pyarrow


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    files = make_all_formats(tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setitem(sys.modules, "pyarrow.csv", None)
    with pytest.raises(MissingDependency) as e:
        compute("cross-entropy", files["parquet"])
    assert "pyarrow" in str(e.value) and e.value.hint == "pip install 'lossctl[parquet]'"
    # CSV falls back to pandas without pyarrow
    assert compute("cross-entropy", files["csv"]).value == pytest.approx(EXPECTED, rel=1e-12)


# ---------------------------------------------------------------- stdin


def test_stdin_that_is_a_terminal_is_refused(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    with pytest.raises(UsageError, match="stdin is a terminal"):
        compute("mse", "-")


def test_stdin_bytes(monkeypatch, tmp_path):
    data = gzip.compress(write_csv(tmp_path / "p.csv").read_bytes())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    r = compute("cross-entropy", "-")
    assert r.value == pytest.approx(EXPECTED, rel=1e-12)
    assert r.source == "<stdin>"


# ---------------------------------------------------------------- JSON shapes and errors


def test_json_errors_say_where(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"input": [[1, 2], [3, "x"]], "target": [0, 1]}')
    with pytest.raises(InputError, match=r"bad.json: key 'input': non-numeric value 'x' at \[1\]\[1\]"):
        compute("cross-entropy", p)
    p.write_text('{"input": [[1, 2], [3]], "target": [0, 1]}')
    with pytest.raises(InputError, match=r"rows have different lengths: \[0\] has 2 values, \[1\] has 1"):
        compute("cross-entropy", p)
    p.write_text('{"input": [[1, 2]], "target": [0],')
    with pytest.raises(InputError, match=r"bad.json:1: is not valid JSON"):
        compute("cross-entropy", p)
    p.write_text('{"scores_x": [1]}')
    with pytest.raises(InputError, match="has no input key"):
        compute("mse", p)
    p.write_text('{"input": [1], "target": [1], "labels": [2]}')
    with pytest.raises(InputError, match="several target keys"):
        compute("mse", p)


def test_jsonl_error_names_the_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"input": [1, 2], "target": 0}\n{"input": [1, 2], "target": 1}\n{"input": [1, 2] "target": 1}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:3: is not valid JSON"):
        compute("cross-entropy", p)
    p.write_text('{"input": [1, 2], "target": 0}\n{"input": [1, 2]}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: record has no target while others do"):
        compute("cross-entropy", p)


def test_utf16_and_binary_files_are_named(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes("label,a\n0,1\n".encode("utf-16"))
    with pytest.raises(InputError, match="is UTF-16 text; lossctl reads UTF-8"):
        compute("mse", p)
    b = tmp_path / "blob.bin"
    b.write_bytes(b"\x00\x01\x02garbage" * 10)
    with pytest.raises(InputError, match="is a binary file"):
        compute("mse", b)


# ---------------------------------------------------------------- the Python API


def test_python_api_result_fields():
    r = lossctl.compute("cross-entropy", [[2.0, 1.0, 0.5], [0.1, 3.0, 0.2]], [0, 1], reduction="none")
    assert isinstance(r, ComputeResult)
    assert r.loss == "cross-entropy" and r.reduction == "none" and r.value is None
    assert r.values.tolist() == pytest.approx([0.4643687841079449, ce_reference(np.array([[0.1, 3.0, 0.2]]), np.array([1]))])
    assert r.count == 2 and r.denominator == 2.0
    assert r.options == {"probs": False, "weight": None, "ignore-index": -100, "label-smoothing": 0.0}
    d = r.to_dict()
    assert d["values"] == r.values.tolist() and d["warnings"] == []


def test_python_api_accepts_python_and_cli_option_spellings():
    a = lossctl.compute("cross-entropy", [[2.0, 1.0, 0.5]], [0], label_smoothing=0.2)
    b = lossctl.compute("cross-entropy", [[2.0, 1.0, 0.5]], [0], **{"label-smoothing": 0.2})
    assert a.value == b.value and a.options["label-smoothing"] == 0.2
    with pytest.raises(UsageError, match="--delta is not an option of cross-entropy"):
        lossctl.compute("cross-entropy", [[2.0, 1.0, 0.5]], [0], delta=1.0)


def test_python_api_lm_summary():
    r = lossctl.compute("lm", [[0.8, 0.7], [0.5]], probs=True)
    assert r.lm.tokens == 3
    assert r.lm.sum == pytest.approx(-np.log(0.8) - np.log(0.7) - np.log(0.5), rel=1e-14)
    assert r.value == pytest.approx(r.lm.sum / 3, rel=1e-14)
    assert r.lm.perplexity == pytest.approx(np.exp(r.lm.sum / 3), rel=1e-14)
    assert r.lm.bits_per_token == pytest.approx(r.lm.sum / 3 / np.log(2), rel=1e-14)
    assert [s["tokens"] for s in r.lm.sequences] == [2, 1]
    means = [(-np.log(0.8) - np.log(0.7)) / 2, -np.log(0.5)]
    assert r.lm.mean_of_sequence_means == pytest.approx(np.mean(means), rel=1e-14)
    assert r.lm.mean_of_sequence_means != pytest.approx(r.value)


def test_lossctl_compute_stays_callable_after_the_module_is_imported():
    import lossctl.compute as mod  # binds the module to lossctl.compute

    assert lossctl.compute is mod
    assert lossctl.compute("mse", [1.0, 3.0], [1.0, 1.0]).value == 2.0


def test_explain_over_several_chunks_reduces_the_whole_file(tmp_path, monkeypatch):
    p, x, y = big_csv(tmp_path, n=500)
    one = compute("cross-entropy", p, explain=True)
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 1024)
    many = compute("cross-entropy", p, explain=True)
    assert many.explanation == one.explanation
    assert "… (497 more rows)" in many.explanation
    assert many.explanation[-1] == f"loss (mean) = {one.value:.4f}"


@pytest.mark.parametrize("engine", ["pyarrow", "pandas"])
@pytest.mark.parametrize("body, message", [
    ("0,1,2\n1,x,3\n", "<stdin>:3: column 'a': 'x' is not a number"),
    ("0,1,2\n1,2\n", "<stdin>:3: has 2 cells where the header has 3 columns"),
    ("0,1,2\n1,2,3,4\n", "<stdin>:3: has 4 cells where the header has 3 columns"),
    ("0,1,2\n1,caf\xe9,3\n", "<stdin>:3: is not UTF-8 text (byte 0xe9)"),
])
def test_csv_errors_on_stdin_name_the_line_with_either_engine(monkeypatch, engine, body, message):
    monkeypatch.setenv("LOSSCTL_CSV_ENGINE", engine)
    data = ("label,a,b\n" + body).encode("latin-1")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with pytest.raises(InputError) as e:
        compute("cross-entropy", "-")
    assert str(e.value) == message


@pytest.mark.parametrize("engine", ["pyarrow", "pandas"])
def test_blank_lines_and_nan_words_are_fine(monkeypatch, engine, tmp_path):
    monkeypatch.setenv("LOSSCTL_CSV_ENGINE", engine)
    p = tmp_path / "p.csv"
    p.write_text("label,a,b\n0,2,1\n\n1,nan,1\n")
    r = compute("cross-entropy", p)
    assert r.count == 2 and math.isnan(r.value)
    assert r.warnings[0].startswith("1 NaN/inf value in the data; first: input row 1, column 'a'")


def test_the_csv_reader_and_its_threads(monkeypatch):
    monkeypatch.delenv("LOSSCTL_CSV_ENGINE", raising=False)
    monkeypatch.delenv("LOSSCTL_CSV_THREADS", raising=False)
    assert inputs.csv_engine() == "pyarrow"
    monkeypatch.setattr(inputs, "_usable_cores", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 1.0, 1.0))  # a busy 2-core machine: one thread
    assert inputs.csv_threads() is False
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.3, 0.3))  # an idle one: threads
    assert inputs.csv_threads() is True
    monkeypatch.setattr(os, "getloadavg", lambda: (6.0, 6.0, 6.0))
    monkeypatch.setattr(inputs, "_usable_cores", lambda: 8)
    assert inputs.csv_threads() is True
    monkeypatch.setenv("LOSSCTL_CSV_THREADS", "0")
    assert inputs.csv_threads() is False
    monkeypatch.setenv("LOSSCTL_CSV_ENGINE", "pandas")
    assert inputs.csv_engine() == "pandas"
    monkeypatch.setenv("LOSSCTL_CSV_ENGINE", "pyarrow")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert inputs.csv_engine() == "pandas"  # asked for, but not importable


@pytest.mark.parametrize("threads", ["0", "1"])
def test_pyarrow_with_and_without_threads_agree(tmp_path, monkeypatch, threads):
    monkeypatch.setenv("LOSSCTL_CSV_ENGINE", "pyarrow")
    monkeypatch.setenv("LOSSCTL_CSV_THREADS", threads)
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 4096)
    p, x, y = big_csv(tmp_path, n=1000)
    assert compute("cross-entropy", p).value == pytest.approx(ce_reference(x, y), rel=1e-13)
