"""Shared test helpers: run the CLI in-process and capture stdout/stderr/exit code."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same property examples every time (a red CI must be reproducible);
# locally, hypothesis explores new examples on every run.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
# ../shared beside the repository (CI lays a copy there); LOSSCTL_SHARED overrides.
SHARED = Path(os.environ.get("LOSSCTL_SHARED", ROOT.parent / "shared"))
REAL_LOGS = SHARED / "real-logs"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(args, stdin: str | bytes | None = None, env: dict | None = None) -> CliResult:
    """Run ``lossctl ARGS`` in this process through ``lossctl.cli.main``."""
    from lossctl.cli import main

    data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
    old = sys.stdin, sys.stdout, sys.stderr
    old_env = {}
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    sys.stdout = io.StringIO()
    sys.stderr = io.StringIO()
    try:
        for k, v in (env or {}).items():
            old_env[k] = os.environ.get(k)
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        code = main([str(a) for a in args])
        return CliResult(code, sys.stdout.getvalue(), sys.stderr.getvalue())
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(autouse=True)
def _no_colour(monkeypatch):
    """Tests see plain output unless they set the colour variables themselves."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
