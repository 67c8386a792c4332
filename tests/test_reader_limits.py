"""Inputs with no newline in sight (binary junk, /dev/zero) keep memory bounded and end."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lossctl.logs import reader


def test_a_line_without_newline_is_cut_and_skipped(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_LINE_CHARS", 1000)
    p = tmp_path / "junk-then-log.log"
    p.write_bytes(b"\x01" * 50_000 + b"\nEpoch 1: Loss = 2.5\nEpoch 2: Loss = 1.8\n")
    lengths = [len(line) for _, line in reader.iter_physical_lines(reader.LogSource(p.name, path=p), 4096)]
    assert max(lengths) <= 1000 + 4096 and sum(lengths[:-2]) == 50_000  # cut into pieces, nothing lost
    r = cli(["parse", p, "--format", "csv"])
    assert r.code == 0, r.err
    assert r.out.splitlines()[1:] == ["1,1,1.0,train,loss,2.5", "1,2,2.0,train,loss,1.8"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_not_a_log_and_does_not_hang():
    r = subprocess.run([sys.executable, "-m", "lossctl", "parse", "/dev/zero"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2
    assert r.stderr.startswith("lossctl: error: no loss values found in /dev/zero")
