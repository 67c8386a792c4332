"""Nothing in an input is ever executed: no eval, no pickle.

Hostile inputs carry payloads that would leave a trace (a file) if they ran; the tests
check the trace is absent, the dict or array is refused or skipped, and the rest is read.
A static check over lossctl's source keeps eval/exec/pickle out for good.
"""

from __future__ import annotations

import ast
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _payloads(mark: Path) -> list[str]:
    m = str(mark)
    return [
        f"__import__('os').system('touch {m}')",
        f"open('{m}', 'w').write('x')",
        f"(lambda: __import__('pathlib').Path('{m}').touch())()",
        f"exec(\"open('{m}','w')\")",
        f"eval(\"open('{m}','w')\")",
        f"[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', '{m}'])",
        f"getattr(__builtins__, 'open')('{m}', 'w')",
        f"__import__('subprocess').run(['touch', '{m}'])",
    ]


@pytest.mark.parametrize("i", range(8))
def test_hf_console_dict_with_a_call_is_skipped_not_run(i, cli, tmp_path):
    mark = tmp_path / f"PWNED-{i}"
    payload = _payloads(mark)[i]
    log = tmp_path / "train.log"
    log.write_text(
        "{'loss': 2.5, 'learning_rate': 1e-05, 'epoch': 0.1}\n"
        f"{{'loss': {payload}, 'learning_rate': 1e-05, 'epoch': 0.2}}\n"
        "{'loss': 2.0, 'learning_rate': 1e-05, 'epoch': 0.3}\n"
    )
    for cmd in (["parse", log, "-f", "csv", "--metric", "loss"], ["diagnose", log, "-f", "json"], ["plot", log]):
        r = cli(cmd)
        assert r.code == 0, r.err
        assert not mark.exists(), cmd
    r = cli(["parse", log, "-f", "csv", "--metric", "loss"])
    assert [l.split(",")[5] for l in r.out.splitlines()[1:]] == ["2.5", "2.0"]
    assert "skipped 1 line(s)" in r.err and "line 2" in r.err


def test_payload_as_a_key_or_in_eval_dict_is_not_run(cli, tmp_path):
    mark = tmp_path / "PWNED"
    log = tmp_path / "train.log"
    log.write_text(
        "{'loss': 2.5, 'epoch': 0.1}\n"
        f"{{__import__('os').system('touch {mark}'): 1.0, 'loss': 2.2, 'epoch': 0.2}}\n"
        f"{{'eval_loss': 2.4, 'eval_runtime': open('{mark}', 'w'), 'epoch': 0.2}}\n"
        "{'loss': 2.0, 'epoch': 0.3}\n"
    )
    r = cli(["parse", log, "-f", "csv"])
    assert r.code == 0
    assert not mark.exists()
    assert [l.split(",")[5] for l in r.out.splitlines()[1:]] == ["2.5", "2.0"]  # neither hostile dict is read
    # both are counted (the call as a key too); the note names the first
    assert "skipped 2 line(s)" in r.err and "line 2: a dict that contains a call" in r.err
    r = cli(["parse", log, "-f", "json"])
    assert [(s["line"], s["reason"][:29]) for s in json.loads(r.out)["skipped"]] == [
        (2, "a dict that contains a call ("), (3, "a dict that contains a call (")]


def test_dict_with_a_call_as_key_is_counted(cli, tmp_path):
    log = tmp_path / "train.log"
    log.write_text("{'loss': 2.5, 'epoch': 0.1}\n{__import__('os').getcwd(): 1.0, 'loss': 2.2, 'epoch': 0.2}\n"
                   "{'loss': 2.0, 'epoch': 0.3}\n")
    r = cli(["parse", log, "-f", "csv"])
    assert "skipped 1 line(s)" in r.err and "line 2" in r.err


def test_jsonl_and_csv_strings_are_data(cli, tmp_path):
    mark = tmp_path / "PWNED"
    j = tmp_path / "log.jsonl"
    j.write_text('{"step": 1, "loss": 2.5}\n'
                 f'{{"step": 2, "loss": "__import__(\'os\').system(\'touch {mark}\')"}}\n'
                 '{"step": 3, "loss": 2.0}\n')
    c = tmp_path / "metrics.csv"
    c.write_text(f"step,train_loss\n1,2.5\n2,\"__import__('os').system('touch {mark}')\"\n3,2.0\n")
    for f in (j, c):
        r = cli(["parse", f, "-f", "csv", "--metric", "loss"])
        assert r.code == 0, r.err
        assert not mark.exists()
        assert [l.split(",")[5] for l in r.out.splitlines()[1:]] == ["2.5", "2.0"]


class _Trap:
    """Pickling this writes a reduce payload that touches a file when unpickled."""

    def __init__(self, mark: str):
        self.mark = mark

    def __reduce__(self):
        return (os.system, (f"touch {self.mark}",))


def _pickle_npy(mark: Path) -> bytes:
    arr = np.empty(2, dtype=object)
    arr[0] = _Trap(str(mark))
    arr[1] = 1.0
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)  # the test writes the trap; lossctl must not load it
    return buf.getvalue()


def test_pickled_npy_is_refused_not_loaded(cli, tmp_path):
    mark = tmp_path / "PWNED"
    f = tmp_path / "preds.npy"
    f.write_bytes(_pickle_npy(mark))
    r = cli(["compute", "mse", f])
    assert r.code == 2
    assert not mark.exists()
    assert r.err.splitlines()[0].startswith("lossctl: error:")
    assert "Python objects" in r.err and "never unpickles" in r.err


def test_pickled_npz_member_is_refused_not_loaded(cli, tmp_path):
    mark = tmp_path / "PWNED"
    f = tmp_path / "preds.npz"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("input.npy", _pickle_npy(mark))
        buf = io.BytesIO()
        np.save(buf, np.array([1.0, 2.0]))
        z.writestr("target.npy", buf.getvalue())
    r = cli(["compute", "mse", f])
    assert r.code == 2
    assert not mark.exists()
    assert "Python objects" in r.err


def test_inline_options_are_not_evaluated(cli, tmp_path):
    mark = tmp_path / "PWNED"
    for args in (["--input", f"__import__('os').system('touch {mark}')", "--target", "0"],
                 ["--input", "2,1,0.5", "--target", "0", "--weight", f"open('{mark}','w')"]):
        r = cli(["compute", "cross-entropy", *args])
        assert r.code == 2
        assert not mark.exists()


# ---------------------------------------------------------------------- static check

FORBIDDEN_CALLS = {"eval", "exec", "compile", "literal_eval", "execfile", "input"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "joblib", "yaml"}
FORBIDDEN_ATTRS = {"read_pickle", "loads_pickle", "unsafe_load", "full_load"}


def _sources():
    return sorted(p for p in (ROOT / "lossctl").rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_eval_or_pickle_in_the_source(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            # bare eval()/exec()/compile(); re.compile() and friends are attributes and fine
            if (isinstance(f, ast.Name) and name in FORBIDDEN_CALLS) or name in FORBIDDEN_ATTRS \
                    or name == "literal_eval":
                problems.append(f"line {node.lineno}: call to {name}")
            if name == "__import__" and not all(isinstance(a, ast.Constant) for a in node.args):
                problems.append(f"line {node.lineno}: __import__ of a computed name")
            if name == "load" and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in ("np", "numpy"):
                kw = {k.arg: k.value for k in node.keywords}
                if not (isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value is False):
                    problems.append(f"line {node.lineno}: np.load without allow_pickle=False")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in FORBIDDEN_MODULES:
                    problems.append(f"line {node.lineno}: import {a.name}")
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                problems.append(f"line {node.lineno}: from {node.module} import ...")
    assert not problems, problems
