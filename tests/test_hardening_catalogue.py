"""A catalogue of broken, hostile and odd inputs for every command.

Each case runs ``lossctl`` in-process and asserts the exact exit code, that stderr has
exactly one ``lossctl: error:`` line (plus at most a ``hint:``) and no traceback, and the key
words of the message (what is wrong and where). Inputs that are odd but readable (CRLF,
BOM, Latin-1, a log cut mid-line, progress bars) assert the values that come out.

Cases marked ``LOGS_CORE`` fail today in files owned by the logs-core work
(lossctl/logs/reader.py, hf_console.py, ...); they are strict xfails so that the fix shows.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field

import pytest

HF = (
    "{'loss': 2.5, 'learning_rate': 1e-05, 'epoch': 0.1}\n"
    "{'loss': 2.1, 'learning_rate': 1e-05, 'epoch': 0.2}\n"
    "{'loss': 1.9, 'learning_rate': 1e-05, 'epoch': 0.3}\n"
)
HF_B = HF.encode()
PREDS = b"label,a,b,c\n0,1,2,3\n2,0.5,0.1,3\n"
LFS = (b"version https://git-lfs.github.com/spec/v1\n"
       b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n")
GARBAGE = bytes((i * 7919 + 13) % 256 for i in range(4096))  # deterministic binary noise
TRUNC_GZ = gzip.compress(b"label,a,b\n" + b"".join(b"%d,%d.25,%d.5\n" % (i % 2, i, i * 7 % 13) for i in range(40000)))
TRUNC_GZ = TRUNC_GZ[: len(TRUNC_GZ) // 2]
TRUNC_LOG_GZ = gzip.compress("".join("{'loss': %d.%04d, 'epoch': %d.%02d}\n" % (i % 7, i * 37 % 9973, i // 100, i % 100)
                                     for i in range(20000)).encode())
TRUNC_LOG_GZ = TRUNC_LOG_GZ[: len(TRUNC_LOG_GZ) // 2]

LOGS_CORE = "logs-core file (not owned by the hardening work)"


@dataclass
class Case:
    id: str
    args: list
    files: dict = field(default_factory=dict)  # name -> bytes, written into a temporary dir
    code: int = 2
    words: tuple = ()  # must appear in the error (and hint) lines
    stdin: bytes | None = None
    xfail: str | None = None


def C(id, args, files=None, code=2, words=(), stdin=None, xfail=None):
    return Case(id, args, files or {}, code, tuple(words), stdin, xfail)


CASES = [
    # ------------------------------------------------------------------ compute: files
    C("compute-missing-file", ["compute", "cross-entropy", "{d}/nope.csv"], words=["nope.csv", "no such file"]),
    C("compute-directory", ["compute", "cross-entropy", "{d}"], words=["is a directory"]),
    C("compute-empty-file", ["compute", "cross-entropy", "{d}/e.csv"], {"e.csv": b""}, words=["e.csv", "is empty"]),
    C("compute-whitespace-json", ["compute", "mse", "{d}/w.json"], {"w.json": b"  \n\n "}, words=["w.json", "empty"]),
    C("compute-dev-null", ["compute", "cross-entropy", "/dev/null"], words=["/dev/null", "empty"]),
    C("compute-empty-stdin", ["compute", "cross-entropy", "-"], stdin=b"", words=["<stdin>", "empty"]),
    C("compute-truncated-json", ["compute", "cross-entropy", "{d}/t.json"],
      {"t.json": b'{"input": [[1,2,3]], "target": [0'}, words=["t.json:1", "not valid JSON", "column 34"]),
    C("compute-binary-garbage", ["compute", "cross-entropy", "{d}/g.bin"], {"g.bin": b"\x00" + GARBAGE},
      words=["g.bin", "binary file"]),
    C("compute-utf16", ["compute", "cross-entropy", "{d}/u.csv"], {"u.csv": "label,a,b\n0,1,2\n".encode("utf-16")},
      words=["u.csv", "UTF-16", "iconv"]),
    C("compute-latin1-header", ["compute", "cross-entropy", "{d}/l.csv"],
      {"l.csv": "label,café,b\n0,1,2\n".encode("latin-1")}, words=["l.csv:1", "not UTF-8", "0xe9", "iconv"]),
    C("compute-ragged-csv-short-row", ["compute", "cross-entropy", "{d}/r.csv"],
      {"r.csv": b"label,a,b,c\n0,1,2,3\n2,0.5\n"}, words=["r.csv:3", "2 cells", "4 columns"]),
    C("compute-ragged-csv-long-row", ["compute", "cross-entropy", "{d}/r.csv"],
      {"r.csv": b"label,a,b,c\n0,1,2,3\n1,1,2,3,4\n"}, words=["r.csv:3", "5 cells", "4 columns"]),
    C("compute-string-in-csv", ["compute", "cross-entropy", "{d}/s.csv"],
      {"s.csv": b"label,a,b,c\n0,1,2,3\n2,0.5,abc,3\n"}, words=["s.csv:3", "column 'b'", "'abc' is not a number"]),
    C("compute-string-in-json", ["compute", "cross-entropy", "{d}/s.json"],
      {"s.json": b'{"input": [[1,"x",3]], "target": [0]}'}, words=["s.json", "key 'input'", "'x'", "[0][1]"]),
    C("compute-string-in-jsonl", ["compute", "cross-entropy", "{d}/s.jsonl"],
      {"s.jsonl": b'{"input": [1,2,3], "target": 0}\n{"input": "abc", "target": 1}\n'},
      words=["s.jsonl", "'abc'", "[1]"]),
    C("compute-jsonl-bad-line", ["compute", "cross-entropy", "{d}/b.jsonl"],
      {"b.jsonl": b'{"input": [1,2,3], "target": 0}\n{"input": [1,2\n'}, words=["b.jsonl:2", "not valid JSON"]),
    C("compute-ragged-json-rows", ["compute", "cross-entropy", "{d}/r.jsonl"],
      {"r.jsonl": b'{"input": [1,2,3], "target": 0}\n{"input": [1,2], "target": 1}\n'},
      words=["r.jsonl", "different lengths", "[1] has 2"]),
    C("compute-deeply-nested-json", ["compute", "mse", "{d}/d.json"], {"d.json": b"[" * 100000 + b"]" * 100000},
      words=["d.json", "nested too deeply"]),
    C("compute-nested-input-json", ["compute", "mse", "{d}/d.json"],
      {"d.json": b'{"input":' + b"[" * 3000 + b"1" + b"]" * 3000 + b', "target": [0]}'},
      words=["d.json", "nested too deeply"]),
    C("compute-5000-digit-integer", ["compute", "cross-entropy", "{d}/i.json"],
      {"i.json": b'{"input": [[1, 2, 3]], "target": [' + b"9" * 5000 + b"]}"}, words=["i.json", "5000 digits"]),
    C("compute-huge-class-target", ["compute", "cross-entropy", "{d}/i.json"],
      {"i.json": b'{"input": [[1, 2, 3]], "target": [99999999999999999999999999]}'},
      words=["i.json", "key 'target'", "1e+26", "out of range", "3 classes"]),
    C("compute-huge-token-id", ["compute", "lm", "{d}/i.json"],
      {"i.json": b'{"input": [[1, 2, 3]], "target": [99999999999999999999999999]}'},
      words=["i.json", "token 0", "1e+26", "not a token id"]),
    C("compute-target-out-of-range", ["compute", "cross-entropy", "{d}/o.csv"],
      {"o.csv": b"label,a,b,c\n7,1,2,3\n"}, words=["o.csv:2", "column 'label'", "target class 7", "out of range"]),
    C("compute-float-class-target", ["compute", "cross-entropy", "{d}/o.csv"],
      {"o.csv": b"label,a,b,c\n0.5,1,2,3\n"}, words=["o.csv:2", "0.5", "not a class index"]),
    C("compute-header-only", ["compute", "cross-entropy", "{d}/h.csv"], {"h.csv": b"label,a,b,c\n"},
      words=["h.csv", "no predictions"]),
    C("compute-duplicate-columns", ["compute", "cross-entropy", "{d}/h.csv"], {"h.csv": b"label,a,a,a\n0,1,2,3\n"},
      words=["h.csv:1", "column 'a' twice"]),
    C("compute-no-header", ["compute", "cross-entropy", "{d}/h.csv"], {"h.csv": b"0,1,2,3\n1,2,3,4\n"},
      words=["h.csv:1", "no header"]),
    C("compute-bad-gzip", ["compute", "cross-entropy", "{d}/b.csv.gz"], {"b.csv.gz": b"\x1f\x8b\x08\x00garbage"},
      words=["b.csv.gz", "gzip"]),
    C("compute-truncated-gzip", ["compute", "cross-entropy", "{d}/t.csv.gz"], {"t.csv.gz": TRUNC_GZ},
      words=["t.csv.gz", "gzip file is truncated", "gzip -t"]),
    C("compute-lfs-pointer", ["compute", "cross-entropy", "{d}/p.csv"], {"p.csv": LFS},
      words=["p.csv", "Git LFS pointer", "12,345 bytes", "git lfs pull"]),
    C("compute-bad-npy", ["compute", "mse", "{d}/b.npy"], {"b.npy": b"\x93NUMPY\x01\x00garbage"},
      words=["b.npy", "not a readable numpy file"]),
    C("compute-bad-npz", ["compute", "mse", "{d}/b.npz"], {"b.npz": b"PK\x03\x04garbage"},
      words=["b.npz", "not a readable numpy file"]),
    C("compute-json-null", ["compute", "mse", "{d}/n.json"], {"n.json": b"null"}, words=["n.json", "JSON null"]),
    C("compute-json-object-without-input", ["compute", "mse", "{d}/n.json"], {"n.json": b'{"a": 1}'},
      words=["n.json", "no input key", "keys found: a"]),
    C("compute-json-object-as-input", ["compute", "mse", "{d}/n.json"],
      {"n.json": b'{"input": {"x": 1}, "target": [0]}'}, words=["n.json", "key 'input'", "JSON object"]),
    # found by bench/fuzz_logs.py --preds: a lone \r inside a line was a csv.Error (exit 3)
    C("compute-carriage-return-in-header", ["compute", "cross-entropy", "{d}/cr.csv"],
      {"cr.csv": b"label,logit_0,lo\rgit_1\n1,0.5,2\n"}, words=["cr.csv:1", "carriage return", "\\r\\n"]),
    C("compute-carriage-return-in-row", ["compute", "lm", "{d}/cr.csv"],
      {"cr.csv": b"label,logit_0,logit_1\n1,0.5,2\n0,2.5,\r1.5\n"}, words=["cr.csv:", "carriage return"]),
    # ------------------------------------------------------------------ compute: options
    C("compute-unknown-loss", ["compute", "foo-loss", "--input", "2", "--target", "1"], words=["unknown loss 'foo-loss'"]),
    C("compute-misspelt-loss", ["compute", "cross-entropi", "--input", "2", "--target", "1"],
      words=["unknown loss", "did you mean 'cross-entropy'"]),
    C("compute-label-smoothing-out-of-range", ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0",
                                               "--label-smoothing", "2"], words=["--label-smoothing", "between 0 and 1", "got 2"]),
    C("compute-label-smoothing-not-a-number", ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0",
                                               "--label-smoothing", "abc"], words=["--label-smoothing", "number", "'abc'"]),
    C("compute-negative-delta", ["compute", "huber", "--input", "2,1", "--target", "0,1", "--delta", "-1"],
      words=["--delta", "greater than 0", "-1"]),
    C("compute-p-out-of-range", ["compute", "multi-margin", "--input", "2,1,0.5", "--target", "0", "--p", "3"],
      words=["--p", "1 or 2", "3"]),
    C("compute-bad-reduction", ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0", "-r", "foo"],
      words=["--reduction foo", "mean, sum, none"]),
    C("compute-option-of-another-loss", ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0",
                                         "--gamma", "1"], words=["--gamma", "not an option of cross-entropy"]),
    C("compute-weight-wrong-length", ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0",
                                      "--weight", "1,2"], words=["--weight", "2 values", "3 classes"]),
    C("compute-weight-not-numbers", ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0",
                                     "--weight", "a,b"], words=["--weight", "numbers", "'a,b'"]),
    C("compute-inline-string", ["compute", "cross-entropy", "--input", "1,a", "--target", "0"],
      words=["--input", "'a'", "not a number"]),
    C("compute-inline-ragged", ["compute", "cross-entropy", "--input", "1,2;3", "--target", "0,1"],
      words=["different lengths"]),
    C("compute-shape-mismatch", ["compute", "mse", "--input", "1,2", "--target", "1,2,3"],
      words=["shape (2,)", "shape (3,)"]),
    C("compute-ignore-index-not-int", ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0",
                                       "--ignore-index", "1.5"], words=["--ignore-index", "integer", "'1.5'"]),
    C("compute-negative-var", ["compute", "gaussian-nll", "--input", "1,2", "--target", "1,2", "--var", "-1"],
      words=["--var", "0 or more", "-1"]),
    C("compute-unknown-format", ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0", "-f", "xml"],
      words=["unknown --format 'xml'", "json"]),
    C("compute-unknown-input-format", ["compute", "cross-entropy", "{d}/p.csv", "--input-format", "xls"],
      {"p.csv": PREDS}, words=["--input-format", "'xls'"]),
    C("compute-no-such-target-col", ["compute", "cross-entropy", "{d}/p.csv", "--target-col", "nope"],
      {"p.csv": PREDS}, words=["p.csv", "'nope'", "--target-col", "label, a, b, c"]),
    C("compute-file-and-inline", ["compute", "cross-entropy", "{d}/p.csv", "--input", "1"], {"p.csv": PREDS},
      words=["either FILE or --input"]),
    C("compute-strict-inf", ["compute", "mse", "--input", "1e400", "--target", "1", "--strict"],
      words=["inf"]),
    # ------------------------------------------------------------------ parse
    C("parse-missing-file", ["parse", "{d}/nope.log"], words=["nope.log", "no such file"]),
    C("parse-directory", ["parse", "{d}"], words=["is a directory"]),
    C("parse-empty-file", ["parse", "{d}/e.log"], {"e.log": b""}, words=["e.log", "empty"]),
    C("parse-dev-null", ["parse", "/dev/null"], words=["/dev/null", "empty"]),
    C("parse-dev-null-follow", ["parse", "/dev/null", "--follow"], words=["/dev/null", "empty"]),  # waited forever
    C("parse-empty-stdin-follow", ["parse", "-", "--follow"], stdin=b"", words=["<stdin>", "empty"]),
    C("parse-empty-stdin", ["parse", "-"], stdin=b"", words=["<stdin>", "empty"]),
    C("parse-binary-garbage", ["parse", "{d}/g.bin"], {"g.bin": GARBAGE}, words=["g.bin", "no loss values"]),
    C("parse-lfs-pointer", ["parse", "{d}/p.jsonl"], {"p.jsonl": LFS}, words=["p.jsonl", "Git LFS pointer", "git lfs pull"]),
    C("parse-bad-gzip", ["parse", "{d}/b.log.gz"], {"b.log.gz": b"\x1f\x8b\x08\x00garbage"},
      words=["ended unexpectedly", "gzip"]),
    C("parse-truncated-trainer-state", ["parse", "{d}/trainer_state.json"],
      {"trainer_state.json": b'{"log_history": [{"loss": 1.0, "step": 1}, {"lo'},
      words=["trainer_state.json:1", "not valid JSON", "complete"]),
    C("parse-log-history-not-a-list", ["parse", "{d}/trainer_state.json"],
      {"trainer_state.json": b'{"log_history": {"loss": 1}}'}, words=["trainer_state.json", "log_history"]),
    C("parse-deeply-nested-json", ["parse", "{d}/d.json"], {"d.json": b"[" * 100000 + b"]" * 100000},
      words=["d.json", "no loss values"]),
    C("parse-5mb-single-line", ["parse", "{d}/one.log"], {"one.log": b"x" * 5_000_000},
      words=["one.log", "no loss values"]),
    C("parse-unknown-log-format", ["parse", "{d}/t.log", "--log-format", "nope"], {"t.log": HF_B},
      words=["unknown --log-format 'nope'", "hf-console"]),
    C("parse-wrong-log-format", ["parse", "{d}/t.log", "--log-format", "megatron"], {"t.log": HF_B},
      words=["t.log", "no loss values", "megatron"]),
    C("parse-unknown-split", ["parse", "{d}/t.log", "--split", "bogus"], {"t.log": HF_B},
      words=["--split 'bogus'", "train, eval, test"]),
    C("parse-run-zero", ["parse", "{d}/t.log", "--run", "0"], {"t.log": HF_B}, words=["--run", "greater than or equal to 1"]),
    C("parse-no-match", ["parse", "{d}/t.log", "--metric", "nope"], {"t.log": HF_B}, words=["no records match"]),
    C("parse-unknown-format", ["parse", "{d}/t.log", "-f", "xml"], {"t.log": HF_B}, words=["unknown --format 'xml'"]),
    C("parse-unknown-option", ["parse", "{d}/t.log", "--bogus"], {"t.log": HF_B},
      words=["No such option: --bogus", "lossctl parse --help"]),
    C("parse-huge-explicit-step", ["parse", "{d}/t.log", "-f", "csv"],
      {"t.log": b"{'loss': 2.1, 'epoch': 0.1, 'step': " + b"9" * 400 + b"}\n{'loss': 2.0, 'epoch': 0.2}\n"},
      code=0),
    C("parse-truncated-gzip-keeps-records", ["parse", "{d}/t.log.gz", "-f", "csv"],
      {"t.log.gz": TRUNC_LOG_GZ}, code=0),
    C("parse-utf16-csv-output", ["parse", "{d}/u.log", "-f", "csv"], {"u.log": HF.encode("utf-16")}, code=0),
    C("parse-ragged-metrics-csv", ["parse", "{d}/metrics.csv", "-f", "csv"],
      {"metrics.csv": b"epoch,step,train_loss,val_loss\n0,10,1.0,\n0,20,0.9\n1,30,0.8,0.85,99\n1,40,0.7,\n"},
      code=0),
    C("parse-tensorboard-garbage", ["parse", "{d}/events.out.tfevents.1.host"],
      {"events.out.tfevents.1.host": b"\x00garbage" * 100}, words=["events.out.tfevents.1.host", "TensorBoard"]),
    # found by bench/fuzz_logs.py: an infinite number in a plaintext line was an OverflowError (exit 3)
    C("parse-plaintext-infinite-number", ["parse", "{d}/p.log", "-f", "csv"],
      {"p.log": b"epoch 1 | loss 2.4410 | acc 0.1210\nepoch 2 | loss 1.e8123 | acc 0.3320\n"
                b"epoch 3 | loss 0.5002 | acc 0.8870\n"}, code=0),
    # ------------------------------------------------------------------ diagnose
    C("diagnose-missing-file", ["diagnose", "{d}/nope.log"], words=["nope.log", "no such file"]),
    C("diagnose-empty-dir", ["diagnose", "{d}/sub"], {"sub/.keep": b""}, words=["sub", "no training log"]),
    C("diagnose-empty-file", ["diagnose", "{d}/e.log"], {"e.log": b""}, words=["e.log", "empty"]),
    C("diagnose-dev-null", ["diagnose", "/dev/null"], words=["/dev/null", "empty"]),
    C("diagnose-binary-garbage", ["diagnose", "{d}/g.bin"], {"g.bin": GARBAGE}, words=["g.bin", "no loss values"]),
    C("diagnose-lfs-pointer", ["diagnose", "{d}/p.jsonl"], {"p.jsonl": LFS}, words=["Git LFS pointer"]),
    C("diagnose-bad-gzip", ["diagnose", "{d}/b.log.gz"], {"b.log.gz": b"\x1f\x8b\x08\x00garbage"}, words=["gzip"]),
    C("diagnose-unknown-verdict", ["diagnose", "{d}/t.log", "--fail-on", "bogus"], {"t.log": HF_B},
      words=["--fail-on", "bogus", "diverged"]),
    C("diagnose-unknown-lang", ["diagnose", "{d}/t.log", "--lang", "xx"], {"t.log": HF_B}, words=["--lang 'xx'", "en, zh"]),
    C("diagnose-interval-out-of-range", ["diagnose", "{d}/t.log", "--interval", "0"], {"t.log": HF_B},
      words=["--interval", "0.05"]),
    C("diagnose-no-such-run", ["diagnose", "{d}/t.log", "--run", "3"], {"t.log": HF_B}, words=["no run 3"]),
    C("diagnose-unknown-format", ["diagnose", "{d}/t.log", "-f", "xml"], {"t.log": HF_B}, words=["--format 'xml'"]),
    C("diagnose-string-metrics-csv", ["diagnose", "{d}/metrics.csv"],
      {"metrics.csv": b"epoch,step,train_loss\n0,10,abc\n0,20,def\n"}, words=["metrics.csv", "loss"]),
    # ------------------------------------------------------------------ plot
    C("plot-missing-file", ["plot", "{d}/nope.log"], words=["nope.log", "no such file"]),
    C("plot-directory", ["plot", "{d}"], words=["is a directory"]),
    C("plot-empty-file", ["plot", "{d}/e.log"], {"e.log": b""}, words=["e.log", "empty"]),
    C("plot-no-files-stdin-empty", ["plot", "-"], stdin=b"", words=["<stdin>", "empty"]),
    C("plot-width-too-small", ["plot", "{d}/t.log", "--width", "5"], {"t.log": HF_B}, words=["--width", "20"]),
    C("plot-height-too-small", ["plot", "{d}/t.log", "--height", "1"], {"t.log": HF_B}, words=["--height", "5"]),
    C("plot-smooth-out-of-range", ["plot", "{d}/t.log", "--smooth", "2"], {"t.log": HF_B}, words=["--smooth", "[0, 1)", "2"]),
    C("plot-smooth-not-a-number", ["plot", "{d}/t.log", "--smooth", "abc"], {"t.log": HF_B}, words=["--smooth", "'abc'"]),
    C("plot-unknown-kind", ["plot", "{d}/t.log", "--kind", "foo"], {"t.log": HF_B}, words=["--kind 'foo'", "bar"]),
    C("plot-unknown-glyphs", ["plot", "{d}/t.log", "--glyphs", "foo"], {"t.log": HF_B}, words=["--glyphs 'foo'", "braille"]),
    C("plot-unknown-metric", ["plot", "{d}/t.log", "--metric", "nope"], {"t.log": HF_B},
      words=["t.log", "no metric 'nope'", "learning_rate, loss"]),
    C("plot-binary-garbage", ["plot", "{d}/g.bin"], {"g.bin": GARBAGE}, words=["g.bin", "no loss values"]),
    C("plot-lfs-pointer", ["plot", "{d}/p.jsonl"], {"p.jsonl": LFS}, words=["Git LFS pointer"]),
    C("plot-one-missing-of-two", ["plot", "{d}/t.log", "{d}/nope.log"], {"t.log": HF_B}, words=["nope.log", "no such file"]),
    # ------------------------------------------------------------------ top level
    C("unknown-command", ["bogus"], words=["No such command 'bogus'", "lossctl --help"]),
    C("unknown-global-option", ["--bogus"], words=["No such option: --bogus"]),
]


def test_symlink_loop_is_an_input_error(cli, tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.symlink_to(b)
    b.symlink_to(a)
    for cmd in (["parse", a], ["diagnose", a], ["plot", a], ["compute", "mse", a]):
        r = cli(cmd)
        assert r.code == 2, (cmd, r.err)
        assert "a.log" in r.err and "symbolic links" in r.err
        assert "internal error" not in r.err


def test_dev_zero_predictions_are_refused_at_once(cli):
    r = cli(["compute", "mse", "/dev/zero"])
    assert r.code == 2 and "/dev/zero: is a binary file" in r.err


def _fifo(tmp_path, data: bytes):
    import threading

    f = tmp_path / "pipe"
    os.mkfifo(f)

    def feed():
        with open(f, "wb") as w:
            w.write(data)

    threading.Thread(target=feed, daemon=True).start()
    return f


def test_predictions_from_a_named_pipe(cli, tmp_path):
    """`lossctl compute ce <(zcat preds.csv.gz)`: /dev/fd/63 is a pipe, read once (was exit 3: not seekable)."""
    r = cli(["compute", "cross-entropy", _fifo(tmp_path, PREDS), "-f", "json"])
    assert r.code == 0, r.err
    assert json.loads(r.out)["value"] == pytest.approx(1.2680471769109423, rel=1e-12)


# A log given as a FIFO or `<(zcat x.log.gz)` is opened once and read as a stream (it
# used to be opened a second time by path after the detection sample: that blocked on a
# FIFO and read nothing from /dev/fd/N). With --follow, a FIFO ends with its writer, as
# `tail -f` does on a pipe (it used to wait forever). These run in a subprocess with a
# timeout, so a regression fails instead of hanging the suite; '{fifo}' is a FIFO fed
# with the case's 'fifo' bytes by a thread.
FIFO_CASES = [
    C("parse-fifo-log", ["parse", "{fifo}", "-f", "csv", "--metric", "loss"], {"fifo": HF_B}, code=0),
    C("parse-fifo-follow-log", ["parse", "{fifo}", "--follow", "--metric", "loss"], {"fifo": HF_B}, code=0),
    C("parse-fifo-follow-gzip-log", ["parse", "{fifo}", "--follow", "--metric", "loss"],
      {"fifo": gzip.compress(HF_B)}, code=0),
    C("parse-fifo-empty", ["parse", "{fifo}"], {"fifo": b""}, words=["fifo", "the log is empty"]),
    C("parse-fifo-follow-empty", ["parse", "{fifo}", "--follow"], {"fifo": b""}, words=["fifo", "the log is empty"]),
    C("parse-fifo-garbage", ["parse", "{fifo}"], {"fifo": GARBAGE}, words=["fifo", "no loss values"]),
    C("parse-fifo-follow-garbage", ["parse", "{fifo}", "--follow"], {"fifo": GARBAGE},
      words=["fifo", "no loss values", "--log-format"]),
    C("parse-fifo-follow-lfs-pointer", ["parse", "{fifo}", "--follow", "--log-format", "hf-console"],
      {"fifo": LFS}, words=["fifo", "Git LFS pointer", "12,345 bytes", "git lfs pull"]),
    C("parse-fifo-follow-wrong-log-format", ["parse", "{fifo}", "--follow", "--log-format", "megatron"],
      {"fifo": HF_B}, words=["fifo", "no records found", "megatron"]),
    C("parse-fifo-follow-bad-gzip", ["parse", "{fifo}", "--follow"], {"fifo": b"\x1f\x8b\x08\x00garbage"},
      words=["fifo", "gzip", "ended unexpectedly"]),
    C("diagnose-fifo-garbage", ["diagnose", "{fifo}"], {"fifo": GARBAGE}, words=["fifo", "no loss values"]),
    C("plot-fifo-empty", ["plot", "{fifo}"], {"fifo": b""}, words=["fifo", "empty"]),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in FIFO_CASES])
def test_fifo_catalogue(case: Case, tmp_path):
    import subprocess
    import sys
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed():
        try:
            with open(fifo, "wb") as w:
                w.write(case.files["fifo"])
        except OSError:  # BrokenPipe: the reader stopped early (an error after the sample)
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    args = [str(a).replace("{fifo}", str(fifo)) for a in case.args]
    try:
        p = subprocess.run([sys.executable, "-m", "lossctl", *args], capture_output=True, text=True, timeout=30)
    finally:
        if feeder.is_alive():  # nobody opened the FIFO for reading: release the feeder
            try:
                os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
            except OSError:
                pass
    _check(case, CliResultLike(p.returncode, p.stdout, p.stderr))
    if case.code == 0:
        assert [(row[1], row[4], row[5]) for row in _csv_rows(p.stdout)] == [
            ("1", "loss", "2.5"), ("2", "loss", "2.1"), ("3", "loss", "1.9")]
    else:
        assert p.stdout == ""


@dataclass
class CliResultLike:
    code: int
    out: str
    err: str


def _materialise(case: Case, tmp_path) -> list[str]:
    for name, data in case.files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return [str(a).replace("{d}", str(tmp_path)) for a in case.args]


def _check(case: Case, r) -> None:
    assert "Traceback" not in r.err, r.err
    assert "internal error" not in r.err, r.err
    assert r.code == case.code, (r.code, r.err)
    if case.code == 2:
        lines = [l for l in r.err.splitlines() if not l.startswith(("lossctl: note:", "lossctl: warning:"))]
        errs = [l for l in lines if l.startswith("lossctl: error:")]
        assert len(errs) == 1, r.err
        assert all(l.startswith(("lossctl: error:", "hint:")) for l in lines), r.err
        assert len(lines) <= 2, r.err
        text = "\n".join(lines)
        for w in case.words:
            assert w in text, (w, text)


def _marks(c: Case):
    if not c.xfail:
        return []
    # a reason starting with '~' is non-strict (fixed in another helper's uncommitted work)
    return [pytest.mark.xfail(reason=c.xfail.lstrip("~"), strict=not c.xfail.startswith("~"))]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_marks(c)) for c in CASES])
def test_catalogue(case: Case, cli, tmp_path):
    args = _materialise(case, tmp_path)
    r = cli(args, stdin=case.stdin)
    _check(case, r)


def test_catalogue_size():
    by_cmd: dict[str, int] = {}
    for c in CASES:
        by_cmd[c.args[0] if c.args[0] in ("compute", "parse", "diagnose", "plot") else "other"] = \
            by_cmd.get(c.args[0] if c.args[0] in ("compute", "parse", "diagnose", "plot") else "other", 0) + 1
    assert len(CASES) >= 60
    assert all(by_cmd[k] >= 10 for k in ("compute", "parse", "diagnose", "plot")), by_cmd
    assert len({c.id for c in CASES}) == len(CASES)


# ---------------------------------------------------------------------- readable but odd


def _csv_rows(out: str) -> list[list[str]]:
    return [l.split(",") for l in out.strip().splitlines()[1:]]


@pytest.mark.parametrize("name,data", [
    ("crlf", HF.replace("\n", "\r\n").encode()),
    ("bom", b"\xef\xbb\xbf" + HF_B),
    ("latin1", ("# café résumé\n" + HF).encode("latin-1")),
    ("nul-bytes", HF_B.replace(b"\n", b"\x00\n")),
    ("progress-bars", b"".join(b" 10%%|#   | %d/30 [00:01<00:09]" % i + l + b"\n"
                               for i, l in enumerate(HF_B.splitlines(), 1))),
    ("ansi-colour", b"".join(b"\x1b[32m" + l + b"\x1b[0m\n" for l in HF_B.splitlines())),
])
def test_odd_but_readable_logs_give_every_value(name, data, cli, tmp_path):
    f = tmp_path / f"{name}.log"
    f.write_bytes(data)
    r = cli(["parse", f, "-f", "csv", "--metric", "loss"])
    assert r.code == 0, r.err
    assert [(row[1], row[5]) for row in _csv_rows(r.out)] == [("1", "2.5"), ("2", "2.1"), ("3", "1.9")]


def test_odd_but_readable_predictions(cli, tmp_path):
    for name, data in [("crlf.csv", PREDS.replace(b"\n", b"\r\n")), ("bom.csv", b"\xef\xbb\xbf" + PREDS),
                       ("p.csv.gz", gzip.compress(PREDS))]:
        f = tmp_path / name
        f.write_bytes(data)
        r = cli(["compute", "cross-entropy", f, "-f", "json"])
        assert r.code == 0, (name, r.err)
        assert json.loads(r.out)["value"] == pytest.approx(1.2680471769109423, rel=1e-12), name


def test_wide_csv_header_beyond_the_sniff_window(cli, tmp_path):
    n = 20000  # a 200 KB header: logits over a vocabulary
    f = tmp_path / "wide.csv"
    f.write_text("label," + ",".join(f"logit_{i}" for i in range(n)) + "\n3," + ",".join("0.5" for _ in range(n)) + "\n")
    r = cli(["compute", "cross-entropy", f, "-f", "json"])
    assert r.code == 0, r.err
    assert json.loads(r.out)["value"] == pytest.approx(9.903487552536127, rel=1e-12)  # log(20000)


def test_inf_from_1e400_is_a_warning_not_a_crash(cli, tmp_path):
    f = tmp_path / "p.json"
    f.write_bytes(b'{"input": [[1e400, 2, 3]], "target": [0]}')
    r = cli(["compute", "cross-entropy", f, "-f", "json"])
    assert r.code == 0
    assert json.loads(r.out)["value"] is None
    assert "is inf" in r.err and "--strict" in r.err


# ---------------------------------------------------------------------- partial data is kept


def test_log_cut_mid_line_keeps_every_complete_record(cli, tmp_path):
    f = tmp_path / "cut.log"
    f.write_bytes(HF_B + b"{'loss': 1.7, 'learning_ra")
    r = cli(["parse", f, "-f", "csv", "--metric", "loss"])
    assert r.code == 0
    assert [row[5] for row in _csv_rows(r.out)] == ["2.5", "2.1", "1.9"]
    assert "skipped 1 line(s)" in r.err and "line 4" in r.err


def test_bad_line_in_the_middle_is_skipped_counted_and_parsing_goes_on(cli, tmp_path):
    f = tmp_path / "mid.log"
    f.write_bytes(HF_B + b"{'loss': 2.0, 'epo\n" + HF_B.replace(b"2.5", b"1.5").replace(b"2.1", b"1.4").replace(b"1.9", b"1.3"))
    r = cli(["parse", f, "-f", "csv", "--metric", "loss"])
    assert r.code == 0
    assert [row[5] for row in _csv_rows(r.out)] == ["2.5", "2.1", "1.9", "1.5", "1.4", "1.3"]
    assert "skipped 1 line(s)" in r.err and "line 4" in r.err


def test_megatron_line_with_garbage_is_skipped_and_counted(cli, tmp_path):
    line = (" iteration {i:>8}/     100 | consumed samples: {s:>12} | elapsed time per iteration (ms): 1.0 | "
            "learning rate: 1.000E-04 | global batch size:    32 | lm loss: {loss} | loss scale: 1.0 |\n")
    data = (line.format(i=10, s=320, loss="9.000000E+00") + line.format(i=20, s=640, loss="8.5\x00\x01E+00 | lo")
            + line.format(i=30, s=960, loss="8.000000E+00"))
    f = tmp_path / "m.log"
    f.write_text(data)
    r = cli(["parse", f, "-f", "csv", "--metric", "loss"])
    assert r.code == 0
    assert [(row[1], row[5]) for row in _csv_rows(r.out)] == [("10", "9.0"), ("30", "8.0")]
    assert "skipped 1 line(s)" in r.err and "line 2" in r.err


def test_skipped_count_in_diagnose_json(cli, tmp_path):
    f = tmp_path / "mid.log"
    good = "".join("{'loss': %.3f, 'learning_rate': 1e-05, 'epoch': %.2f}\n" % (3 * 0.97 ** i, i / 50) for i in range(60))
    f.write_text(good + "{'loss': 2.0, 'epo\n" + good)
    r = cli(["diagnose", f, "-f", "json"])
    assert r.code == 0, r.err
    assert json.loads(r.out)["evidence"]["skipped_lines"] == 1
    assert "skipped 1 line" in r.err
