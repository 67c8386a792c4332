"""Rewrite the expected output of log fixtures: ``python tests/regen_fixtures.py [NAME ...]``.

With no NAME, every fixture without an expected file is written (existing ones are
kept); with names (fixture file names or ``<format>`` prefixes), those are rewritten.
Read each changed ``*.expected.csv`` against its raw log before committing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import run_cli  # noqa: E402
from tests.test_log_fixtures import EXPECTED, fixture_logs  # noqa: E402


def main(names: list[str]) -> int:
    for path in fixture_logs():
        exp = path.with_name(path.name + EXPECTED)
        wanted = not names and not exp.exists() or any(
            path.name == n or path.name.startswith(n + "--") for n in names)
        if not wanted:
            continue
        r = run_cli(["parse", path, "--format", "csv"])
        if r.code != 0:
            print(f"{path.name}: exit {r.code}: {r.err.strip()}")
            continue
        old = exp.read_text(encoding="utf-8") if exp.exists() else None
        exp.write_text(r.out, encoding="utf-8")
        print(f"{path.name}: {'unchanged' if old == r.out else 'written'} ({r.out.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
