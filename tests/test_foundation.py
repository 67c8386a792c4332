"""The CLI foundation: exit codes, error lines, colour rules, start-up imports."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from lossctl import errors, output


def test_help_exits_0_and_lists_options(cli):
    r = cli(["--help"])
    assert r.code == 0
    assert "Usage: lossctl" in r.out
    assert "--version" in r.out


def test_version(cli):
    from lossctl import __version__

    r = cli(["--version"])
    assert (r.code, r.out) == (0, f"lossctl {__version__}\n")


def test_unknown_option_is_one_error_line_exit_2(cli):
    r = cli(["--bogus"])
    assert r.code == 2
    assert r.out == ""
    lines = r.err.splitlines()
    assert lines[0] == "lossctl: error: No such option: --bogus"
    assert lines[1].startswith("hint: run 'lossctl --help'")
    assert "Traceback" not in r.err


def test_error_location_format():
    e = errors.InputError("'abc' is not a number", source="p.csv", line=12, column="logit_3")
    assert str(e) == "p.csv:12: column 'logit_3': 'abc' is not a number"
    assert e.exit_code == 2
    assert errors.CheckFailed("x").exit_code == 1
    assert str(errors.InputError("bad", key="input")) == "key 'input': bad"


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    "env, tty, expected",
    [
        ({}, False, False),
        ({}, True, True),
        ({"NO_COLOR": "1"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, False, True),
        ({"NO_COLOR": ""}, True, True),  # an empty NO_COLOR does not count (no-color.org)
    ],
)
def test_colour_matrix(monkeypatch, env, tty, expected):
    for k in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    stream = _Tty() if tty else io.StringIO()
    assert output.color_enabled(stream) is expected


def test_json_nan_is_null():
    assert output.dumps({"a": float("nan"), "b": [1.5, float("inf")], "c": 2}) == '{"a": null, "b": [1.5, null], "c": 2}'


def test_csv_cells():
    buf = io.StringIO()
    output.write_delimited([{"a": 0.1, "b": None, "c": float("nan")}], ["a", "b", "c"], buf)
    assert buf.getvalue() == "a,b,c\n0.1,,nan\n"


def test_help_does_not_import_pandas():
    code = (
        "import sys; from lossctl.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['--help'])\n"
        "heavy = [m for m in ('pandas', 'pyarrow', 'torch', 'matplotlib') if m in sys.modules]\n"
        "print(rc, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0 []"


def test_internal_error_is_exit_3_without_traceback(cli, monkeypatch):
    import lossctl.cli as cli_mod

    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli_mod, "app", boom)
    r = cli(["anything"])
    assert r.code == 3
    assert r.err.splitlines()[0] == "lossctl: error: internal error: ZeroDivisionError: division by zero"
    assert "--debug" in r.err
    assert "Traceback" not in r.err
    r = cli(["--debug", "anything"])
    assert r.code == 3 and "Traceback" in r.err


def test_lossctl_error_maps_to_its_exit_code(cli, monkeypatch):
    import lossctl.cli as cli_mod

    def fail(*a, **k):
        raise errors.CheckFailed("verdict 'overfitting' is in --fail-on", hint="see the findings above")

    monkeypatch.setattr(cli_mod, "app", fail)
    r = cli(["x"])
    assert r.code == 1
    assert r.err == "lossctl: error: verdict 'overfitting' is in --fail-on\nhint: see the findings above\n"


def test_keyboard_interrupt_exits_130(cli, monkeypatch):
    import lossctl.cli as cli_mod

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_mod, "app", interrupted)
    r = cli(["x"])
    assert r.code == 130
    assert "Traceback" not in r.err


def test_python_dash_m(tmp_path):
    p = subprocess.run([sys.executable, "-m", "lossctl", "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("lossctl ")
