"""Golden pairs for every log format, discovered automatically.

``tests/fixtures/logs/<format>--<case>.<ext>`` is a raw log; next to it,
``<format>--<case>.<ext>.expected.csv`` is exactly what ``lossctl parse FILE --format csv``
must print. ``<format>`` is the NAME of the format module (``hf-console``); the file
must be detected as that format from its content.

Adding a case = adding the two files. To (re)write expected files:
``python tests/regen_fixtures.py [NAME ...]`` — then read every changed expected file
against the raw log before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

LOGS = FIXTURES / "logs"
EXPECTED = ".expected.csv"


def fixture_logs() -> list[Path]:
    if not LOGS.exists():
        return []
    return sorted(p for p in LOGS.iterdir()
                  if p.is_file() and "--" in p.name and not p.name.endswith(EXPECTED))


def fmt_of(path: Path) -> str:
    return path.name.split("--", 1)[0]


CASES = fixture_logs()


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_fixture(path: Path):
    if fmt_of(path) == "tensorboard":
        pytest.importorskip("tensorboard", reason="the optional 'tensorboard' extra is not installed")
    expected = path.with_name(path.name + EXPECTED)
    assert expected.exists(), f"missing {expected.name}: run python tests/regen_fixtures.py {path.name}"
    r = run_cli(["parse", path, "--format", "csv"])
    assert r.code == 0, r.err
    assert f"read as {fmt_of(path)}\n" in r.err, f"detected: {r.err.splitlines()[:1]}"
    assert r.out == expected.read_text(encoding="utf-8")


def test_every_format_has_a_fixture():
    from lossctl.logs import list_formats

    have = {fmt_of(p) for p in CASES}
    missing = [f["name"] for f in list_formats() if f["name"] not in have]
    # formats still being written are listed by name so the gap is visible
    assert not [m for m in missing if m in MINE], missing


MINE = {"hf-console", "hf-trainer-state", "jsonl", "csv-table", "detectron2", "mmdet-json"}
