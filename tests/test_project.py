"""The project's own promises: README commands and CI stay in step."""

from __future__ import annotations

import re

from conftest import ROOT


def _readme_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```(?:bash|sh)\n(.*?)\n```", text, flags=re.S | re.M)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    blocks = [b.strip() for b in _readme_commands()]
    assert ci in blocks, f"the last line of .ci/run must be one of README's command blocks: {ci!r}"
