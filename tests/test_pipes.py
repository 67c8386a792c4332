"""Pipes, full disks, closed streams, Ctrl-C and live logs, in real subprocesses.

These need a real process: `| head` closes the pipe under a writer, `> /dev/full` fails the
write with ENOSPC, `>&-` starts Python without a stdout, SIGINT reaches the signal handler.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LOSSCTL = [sys.executable, "-m", "lossctl"]
HF_LINE = "{{'loss': {loss:.4f}, 'learning_rate': 1e-05, 'epoch': {epoch:.2f}}}\n"


def hf_log(n: int, start: int = 0) -> str:
    return "".join(HF_LINE.format(loss=3.0 - 0.0001 * i, epoch=i / 1000) for i in range(start, start + n))


@pytest.fixture(scope="module")
def big_log(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pipes") / "big.log"
    path.write_text(hf_log(60_000))  # ~3.6 MB of CSV output: far more than a pipe buffer
    return path


def run(args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(LOSSCTL + [str(a) for a in args], capture_output=True, text=True, timeout=60, **kw)


def test_head_closes_the_pipe_quietly(big_log):
    p = subprocess.run(
        " ".join(LOSSCTL + ["parse", str(big_log), "--format", "csv"]) + " | head -n 3; exit ${PIPESTATUS[0]}",
        shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60,
    )
    assert p.stdout.splitlines() == ["run,step,epoch,split,metric,value", "1,1,0.0,train,loss,3.0",
                                     "1,1,0.0,train,learning_rate,1e-05"]
    assert p.returncode == 0
    assert "Traceback" not in p.stderr and "error" not in p.stderr
    assert "BrokenPipe" not in p.stderr


def test_head_on_compute_rows_exits_quietly(tmp_path):
    rows = "\n".join(f"{i % 3},{i * 0.001},0.5,-1" for i in range(200_000))
    f = tmp_path / "preds.csv"
    f.write_text("label,a,b,c\n" + rows + "\n")
    p = subprocess.run(
        " ".join(LOSSCTL + ["compute", "cross-entropy", str(f), "-r", "none", "--format", "csv"])
        + " | head -n 2; exit ${PIPESTATUS[0]}",
        shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60,
    )
    assert len(p.stdout.splitlines()) == 2
    assert p.returncode == 0
    assert "Traceback" not in p.stderr and "error:" not in p.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [
    ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0"],  # small: fails at the final flush
    ["parse", "BIG", "--format", "csv"],  # big: fails while writing
    ["losses"],
])
def test_full_disk_is_a_clear_error(args, big_log):
    args = [str(big_log) if a == "BIG" else a for a in args]
    with open("/dev/full", "w") as full:
        p = subprocess.run(LOSSCTL + args, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    err = [l for l in p.stderr.splitlines() if "note:" not in l]
    assert p.returncode == 2
    assert err == ["lossctl: error: cannot write output: No space left on device",
                   "hint: free some disk space or write elsewhere"]


@pytest.mark.parametrize("args", [
    ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0"],
    ["parse", "BIG", "--format", "csv"],
])
def test_closed_stdout_is_a_clear_error(args, big_log):
    args = [str(big_log) if a == "BIG" else a for a in args]
    cmd = " ".join(LOSSCTL + args) + " >&-"
    p = subprocess.run(cmd, shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.splitlines() == ["lossctl: error: cannot write output: standard output is closed",
                                     "hint: redirect it to a file or a pipe, e.g. '> out.txt' or '| less'"]


def test_closed_stderr_still_gives_the_exit_code(tmp_path):
    missing = tmp_path / "nope.log"
    p = subprocess.run(" ".join(LOSSCTL + ["parse", str(missing)]) + " 2>&-", shell=True,
                       executable="/bin/bash", capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == ""


def test_truncated_gzip_in_a_subprocess(tmp_path):
    import gzip

    f = tmp_path / "cut.log.gz"
    f.write_bytes(b"\x1f\x8b\x08\x00garbage")
    p = run(["parse", f])
    assert p.returncode == 2
    assert p.stderr.startswith("lossctl: error:")  # no blank line before it, no 'Aborted!'
    assert "ended unexpectedly" in p.stderr or "truncated" in p.stderr
    assert "Traceback" not in p.stderr


def _wait_for(pred, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


class Reader:
    """Collect a subprocess's stdout lines in a thread (no blocking reads in the test)."""

    def __init__(self, proc):
        import threading

        self.lines: list[str] = []
        self._t = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self._t.start()

    def _run(self, proc):
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))


def _follow(path: Path, *extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        LOSSCTL + ["parse", str(path), "--follow", "--format", "csv", "--metric", "loss", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def test_ctrl_c_on_follow_exits_130_without_traceback(tmp_path):
    log = tmp_path / "live.log"
    log.write_text(hf_log(3))
    p = _follow(log)
    r = Reader(p)
    try:
        assert _wait_for(lambda: len(r.lines) >= 4), r.lines  # header + 3 records
        p.send_signal(signal.SIGINT)
        code = p.wait(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    err = p.stderr.read()
    assert code == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert r.lines[1:4] == ["1,1,0.0,train,loss,3.0", "1,2,0.0,train,loss,2.9999", "1,3,0.0,train,loss,2.9998"]


def test_follow_waits_for_the_newline_and_survives_truncation(tmp_path):
    log = tmp_path / "live.log"
    log.write_text(hf_log(2))
    p = _follow(log)
    r = Reader(p)
    try:
        assert _wait_for(lambda: len(r.lines) >= 3), r.lines
        with open(log, "a") as f:  # a partial line: must not be read as a broken record
            f.write("{'loss': 1.2345, 'learning_rate'")
            f.flush()
            time.sleep(1.0)
            assert len(r.lines) == 3
            f.write(": 1e-05, 'epoch': 0.5}\n")
        assert _wait_for(lambda: len(r.lines) >= 4), r.lines
        assert r.lines[3].endswith(",train,loss,1.2345")
        # truncated in place (a new run overwrote the log): read from the top again
        log.write_text("{'loss': 0.5, 'learning_rate': 1e-05, 'epoch': 0.01}\n")
        assert _wait_for(lambda: any(l.endswith(",loss,0.5") for l in r.lines)), r.lines
        # rotated: renamed away and a new file created under the name (tail -F)
        log.rename(tmp_path / "live.log.1")
        log.write_text("{'loss': 0.25, 'learning_rate': 1e-05, 'epoch': 0.02}\n")
        assert _wait_for(lambda: any(l.endswith(",loss,0.25") for l in r.lines)), r.lines
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) == 130
    finally:
        if p.poll() is None:
            p.kill()
    assert "Traceback" not in p.stderr.read()


# ---------------------------------------------------------------------- progress on a terminal


def test_file_progress_follows_the_read_offset(tmp_path):
    import io as _io

    from lossctl.output import FileProgress

    f = tmp_path / "big.log"
    f.write_bytes(b"x" * 100_000)
    out = _io.StringIO()
    p = FileProgress({os.path.realpath(f): 100_000}, stream=out, delay=0.0, period=0.01)
    fd = os.open(f, os.O_RDONLY)
    try:
        os.read(fd, 50_000)
        p.start()
        assert _wait_for(lambda: "50%" in out.getvalue(), timeout=5), out.getvalue()
    finally:
        os.close(fd)
    assert _wait_for(lambda: not p._thread.is_alive(), timeout=5)  # file closed: done
    p.stop()
    text = out.getvalue()
    assert "lossctl: reading big.log [############------------]  50% 50.0 KB / 100.0 KB" in text
    assert text.endswith("\r\x1b[K")  # the line is cleared at the end


def test_parse_shows_progress_on_a_terminal_only(tmp_path):
    import pty

    log = tmp_path / "big.log"
    with open(log, "w") as f:
        chunk = hf_log(20_000)
        while f.tell() < 40_000_000:
            f.write(chunk)
    master, slave = pty.openpty()
    p = subprocess.Popen(LOSSCTL + ["parse", str(log), "--format", "csv"], stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    buf = b""
    while True:
        try:
            d = os.read(master, 4096)
        except OSError:
            break
        if not d:
            break
        buf += d
    assert p.wait(timeout=120) == 0
    assert b"lossctl: reading big.log [" in buf and b"MB / 40." in buf
    # not a terminal: no progress at all
    q = run(["parse", log, "--format", "csv", "--metric", "nope"])
    assert "reading" not in q.stderr


@pytest.mark.parametrize("args", [
    ["plot", "SMALL"], ["diagnose", "SMALL"], ["diagnose", "SMALL", "-f", "json"], ["parse", "SMALL"],
    ["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0"], ["losses"], ["parse", "--list-formats"],
])
def test_reader_gone_before_any_output_exits_quietly(args, tmp_path):
    """`... | head -0` or a pager quit at once: rich's own handler would exit 1."""
    log = tmp_path / "small.log"
    log.write_text(hf_log(40))
    args = [str(log) if a == "SMALL" else a for a in args]
    p = subprocess.Popen(LOSSCTL + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()
    code = p.wait(timeout=60)
    err = [l for l in p.stderr.read().splitlines() if "note:" not in l]
    assert code == 0 and err == []
