"""``lossctl parse --follow`` on a pipe (stdin, a FIFO, ``<(...)``) ends with the pipe.

A pipe cannot grow after its writer closed it, so, like ``tail -f`` (which ignores -f
for pipes and FIFOs), records are printed as lines arrive and the command exits 0 at
EOF. These run real processes with a timeout: a regression hangs, it must fail instead.
"""

from __future__ import annotations

import gzip
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hf-trainer.log"
LOSSCTL = [sys.executable, "-m", "lossctl"]
TIMEOUT = 30


def run(args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(LOSSCTL + [str(a) for a in args], capture_output=True, timeout=TIMEOUT, **kw)


@pytest.fixture(scope="module")
def expected_csv() -> bytes:
    """What plain ``parse FILE -f csv`` prints for the example (no --follow)."""
    p = run(["parse", EXAMPLE, "-f", "csv"])
    assert p.returncode == 0 and p.stdout.count(b"\n") == 341
    return p.stdout


def _fifo_writer(path: Path, data: bytes) -> threading.Thread:
    def feed():
        with open(path, "wb") as w:
            w.write(data)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("log_format", [[], ["--log-format", "hf-console"]])
def test_stdin_pipe_ends_at_eof(expected_csv, log_format):
    p = run(["parse", "-", "--follow", *log_format], input=EXAMPLE.read_bytes())
    assert p.returncode == 0, p.stderr
    assert p.stdout == expected_csv
    err = p.stderr.decode()
    assert "<stdin>: read as hf-console (a pipe: records are printed as they come" in err
    assert "run summary" in err  # the notes are given at the end, as without --follow


def test_fifo_ends_when_the_writer_closes(tmp_path, expected_csv):
    fifo = tmp_path / "train.fifo"
    os.mkfifo(fifo)
    t = _fifo_writer(fifo, EXAMPLE.read_bytes())
    p = run(["parse", fifo, "--follow"])
    t.join(TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert p.stdout == expected_csv
    assert f"{fifo}: read as hf-console (a pipe" in p.stderr.decode()


def test_gzipped_fifo_is_read_to_its_end(tmp_path, expected_csv):
    fifo = tmp_path / "train.fifo"
    os.mkfifo(fifo)
    t = _fifo_writer(fifo, gzip.compress(EXAMPLE.read_bytes()))
    p = run(["parse", fifo, "--follow", "--metric", "loss", "--split", "eval"])
    t.join(TIMEOUT)
    assert p.returncode == 0, p.stderr
    want = [ln for ln in expected_csv.splitlines() if ln.endswith(b",eval,loss," + ln.rsplit(b",", 1)[1])]
    assert p.stdout.splitlines()[1:] == want and len(want) == 10
    assert "read as hf-console (a pipe: read to its end)" in p.stderr.decode()


def test_process_substitution_ends(expected_csv):
    cmd = " ".join(LOSSCTL) + f" parse <(cat '{EXAMPLE}') --follow --format json"
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 340  # --follow prints ndjson for json: one record per line
    assert lines[0] == b'{"run": 1, "step": 10, "epoch": 0.04, "split": "train", "metric": "loss", "value": 2.134}'
    assert "using --format ndjson" in p.stderr.decode()


def test_a_document_log_through_a_pipe_is_read_whole():
    csv = b"epoch,step,train_loss,val_loss\n0,10,2.0,2.5\n1,20,1.5,2.25\n"
    p = run(["parse", "-", "--follow"], input=csv)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().splitlines() == [
        "run,step,epoch,split,metric,value", "1,10,0.0,train,loss,2.0", "1,10,0.0,eval,loss,2.5",
        "1,20,1.0,train,loss,1.5", "1,20,1.0,eval,loss,2.25"]


def test_unrecognised_pipe_is_an_input_error_without_output():
    p = run(["parse", "-", "--follow"], input=b"hello\nworld\n")
    assert p.returncode == 2
    assert p.stdout == b""
    assert "lossctl: error: no loss values found in <stdin>" in p.stderr.decode()


def _readline(stream, deadline: float) -> bytes:
    """One line of ``stream`` (a pipe), or fail when it does not come before ``deadline``."""
    buf = b""
    fd = stream.fileno()
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            pytest.fail(f"no line within the time limit (got {buf!r})")
        ch = os.read(fd, 1)
        if not ch:
            pytest.fail(f"stdout closed early (got {buf!r})")
        buf += ch
    return buf


def test_live_pipe_prints_each_record_before_the_writer_closes():
    """`tail -f x.log | lossctl parse - --follow`: the format is recognised once the writer
    pauses (no --log-format needed), records come out as their lines arrive, and the
    command ends when the pipe closes."""
    proc = subprocess.Popen(LOSSCTL + ["parse", "-", "--follow", "--metric", "loss"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + TIMEOUT
        proc.stdin.write(b"{'loss': 2.5, 'learning_rate': 1e-05, 'epoch': 0.1}\n")
        proc.stdin.flush()
        assert _readline(proc.stdout, deadline) == b"run,step,epoch,split,metric,value\n"
        assert _readline(proc.stdout, deadline) == b"1,1,0.1,train,loss,2.5\n"
        proc.stdin.write(b"{'loss': 2.0, 'learning_rate': 1e-05, 'epoch': 0.2}\n")
        proc.stdin.flush()
        assert _readline(proc.stdout, deadline) == b"1,2,0.2,train,loss,2.0\n"
        proc.stdin.close()
        assert proc.wait(timeout=TIMEOUT) == 0
        assert proc.stdout.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_regular_file_still_follows(tmp_path):
    """A regular file may still grow: --follow keeps reading it after its end (until Ctrl-C)."""
    log = tmp_path / "live.log"
    log.write_text("{'loss': 2.5, 'epoch': 0.1}\n")
    proc = subprocess.Popen(LOSSCTL + ["parse", str(log), "--follow"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + TIMEOUT
        assert _readline(proc.stdout, deadline) == b"run,step,epoch,split,metric,value\n"
        assert _readline(proc.stdout, deadline) == b"1,1,0.1,train,loss,2.5\n"
        with open(log, "a") as f:
            f.write("{'loss': 2.0, 'epoch': 0.2}\n")
        assert _readline(proc.stdout, deadline) == b"1,2,0.2,train,loss,2.0\n"
        time.sleep(0.5)
        assert proc.poll() is None  # still following
    finally:
        proc.kill()
        proc.wait()


def test_stdin_redirected_from_a_regular_file_is_followed(tmp_path):
    """`lossctl parse - --follow < train.log`: stdin is a file, which can grow (tail -f
    follows it too); only pipes end at EOF."""
    log = tmp_path / "live.log"
    log.write_text("{'loss': 2.5, 'epoch': 0.1}\n")
    with open(log, "rb") as stdin:
        proc = subprocess.Popen(LOSSCTL + ["parse", "-", "--follow"], stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + TIMEOUT
        assert _readline(proc.stdout, deadline) == b"run,step,epoch,split,metric,value\n"
        assert _readline(proc.stdout, deadline) == b"1,1,0.1,train,loss,2.5\n"
        with open(log, "a") as f:
            f.write("{'loss': 2.0, 'epoch': 0.2}\n")
        assert _readline(proc.stdout, deadline) == b"1,2,0.2,train,loss,2.0\n"
        time.sleep(0.5)
        assert proc.poll() is None  # still following
    finally:
        proc.kill()
        proc.wait()
