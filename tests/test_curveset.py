"""The streamed curves (lossctl.logs.curveset, used by diagnose and plot) against
parse_log's DataFrame: exactly the same points (NaN-aware), runs, attrs, and the same
diagnoses, on every fixture log, every real log and a few made-up edge cases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lossctl import diagnose as diag
from lossctl import diagnose_cli, render
from lossctl.errors import LossctlError
from lossctl.logs import curveset, parse_log
from tests.conftest import FIXTURES, REAL_LOGS, run_cli

LOGS = FIXTURES / "logs"


def _logs() -> list[Path]:
    out = sorted(p for p in LOGS.iterdir() if p.is_file() and "--" in p.name and not p.name.endswith(".expected.csv"))
    if REAL_LOGS.is_dir():
        out += sorted(p for p in REAL_LOGS.iterdir() if p.name not in ("README.md", "MANIFEST.tsv"))
    return out


CASES = _logs()

# made-up logs for what the fixtures do not have: NaN/inf steps (forward fill), no
# step at all (epoch axis, then row index axis), a resume, several runs, NaN values
EDGE = {
    "nan-steps.csv": "step,epoch,loss,val_loss\n1,0.1,2.0,\nnan,0.2,1.9,2.1\n3,,1.8,\ninf,0.4,1.7,1.9\n5,0.5,nan,\n",
    "epoch-axis.jsonl": '{"step": NaN, "loss": 2.0}\n{"step": NaN, "loss": 1.5}\n{"step": NaN, "loss": 1.2, "epoch": 1}\n'
                        '{"step": NaN, "loss": 1.1, "epoch": 2}\n{"step": NaN, "eval_loss": 1.3}\n',
    "index-axis.jsonl": "".join(f'{{"step": NaN, "loss": {2 - i / 10}}}\n' for i in range(6)),
    "resume-and-restart.jsonl": "".join(f'{{"step": {s}, "loss": {v}, "lr": 0.1}}\n' for s, v in
                                        [(1, 2.0), (2, 1.8), (3, 1.7), (4, 1.6), (3, 1.65), (4, 1.55), (5, 1.5),
                                         (1, 3.0), (2, "NaN"), (3, 2.0), (4, 1.9), (5, 1.8)]),
    "yolo-parts.csv": "epoch,train/box_loss,train/cls_loss,train/dfl_loss,val/box_loss,val/cls_loss,val/dfl_loss\n"
                      + "".join(f"{e},{1.5 - e / 20},{2.0 - e / 10},{1.2 - e / 30},{1.6 - e / 25},{2.1 - e / 12},{1.3}\n"
                                for e in range(1, 9)),
}


_frames: dict[str, object] = {}


def _parse(path):
    """parse_log(path), or the error it raises (cached: the big real logs are read once)."""
    key = str(path)
    if key not in _frames or "tmp" in key:
        try:
            _frames[key] = parse_log(key)
        except LossctlError as e:
            _frames[key] = e
    res = _frames[key]
    if isinstance(res, LossctlError):
        raise res
    return res


def assert_same_as_frame(path) -> None:
    """CurveSet (one series per run, split, metric) == parse_log's frame, exactly."""
    try:
        df = _parse(path)
    except LossctlError as e:
        with pytest.raises(LossctlError) as got:
            curveset.load_curves(str(path))
        assert str(got.value) == str(e)
        return
    cs = curveset.load_curves(str(path), ordered=lambda label: True)
    assert cs.n_records == len(df)
    assert cs.attrs == dict(df.attrs)
    assert cs.run_ids() == sorted(int(r) for r in df["run"].unique())
    assert list(cs.metrics) == list(dict.fromkeys(df["metric"]))
    groups = df.groupby(["run", "split", "metric"], sort=False)
    assert len(cs.series) == groups.ngroups
    for (run, split, metric), part in groups:
        s = cs.get(int(run), (split, metric))
        step, epoch, value = s.arrays()
        for got, col in ((step, "step"), (epoch, "epoch"), (value, "value")):
            assert np.array_equal(got, part[col].to_numpy(np.float64), equal_nan=True), (run, split, metric, col)
        run_rows = np.flatnonzero((df["run"] == run).to_numpy())
        assert np.array_equal(s.rows(cs.runs[int(run)].first_seq), np.searchsorted(run_rows, part.index.to_numpy()))
    for run, info in cs.runs.items():
        sub = df[df["run"] == run]
        assert info.rows == len(sub)
        assert info.present == dict.fromkeys(zip(sub["split"], sub["metric"]))


def _same_series(a: diag.Series, b: diag.Series, what: str) -> None:
    for f in ("x", "y", "epoch"):
        u, v = getattr(a, f), getattr(b, f)
        assert u.shape == v.shape and np.array_equal(u, v, equal_nan=True), (what, f)


def assert_same_diagnosis(path) -> None:
    """diagnose's streamed curves and diagnoses == those of parse_log's frame."""
    try:
        df = _parse(path)
    except LossctlError:
        with pytest.raises(LossctlError):
            diagnose_cli.diagnose_runs(str(path))
        return
    cs = diagnose_cli.load_curves(str(path))
    runs = sorted(int(r) for r in df["run"].unique())
    for r in runs:
        want = diag.curves_from_frame(df, r if len(runs) > 1 else None)
        got = diagnose_cli.curves_for(cs, r)
        for f in ("train", "eval", "lr", "grad_norm", "nan_iterations"):
            _same_series(getattr(got, f), getattr(want, f), f)
        assert (got.hparams, got.fmt, got.axis, got.loss_parts) == (want.hparams, want.fmt, want.axis, want.loss_parts)
    want_ds = diag.diagnose_runs(df)
    for d in want_ds:
        d.source = str(path)
    got_ds = diagnose_cli.diagnose_runs(str(path))
    assert [d.to_dict() for d in got_ds] == [d.to_dict() for d in want_ds]
    for a, b in zip(got_ds, want_ds):
        assert a.lines == b.lines and a.skipped_lines == b.skipped_lines
        assert a.chart.keys() == b.chart.keys()
        for k in a.chart:
            assert np.array_equal(np.asarray(a.chart[k]), np.asarray(b.chart[k]), equal_nan=True) \
                if not isinstance(a.chart[k], str) else a.chart[k] == b.chart[k]


def assert_same_plot(path) -> None:
    """plot's streamed curves == select_curves() of parse_log's frame, for every metric."""
    try:
        df = _parse(path)
    except LossctlError:
        return
    metrics = list(dict.fromkeys(df["metric"]))
    others = [m for m in metrics if m != "loss"][:1] + [n for n in dict.fromkeys(df["name"]) if n not in metrics][:1]
    for metric in ["loss"] + others:
        try:
            want = render.select_curves(df, source=str(path), metric=metric, splits=None, file_label=None)
        except LossctlError as e:
            with pytest.raises(LossctlError) as got_e:
                render.read_curves(str(path), metric=metric, splits=None, file_label=None)
            assert str(got_e.value) == str(e)
            continue
        got = render.read_curves(str(path), metric=metric, splits=None, file_label=None)
        assert [c.label for c in got] == [c.label for c in want]
        for a, b in zip(got, want):
            for f in ("x", "y", "epochs"):
                assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), (metric, a.label, f)
            assert a.x_is_epoch == b.x_is_epoch


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_streamed_curves_equal_parse_log(path):
    assert_same_as_frame(path)


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_streamed_diagnosis_equals_parse_log(path):
    assert_same_diagnosis(path)


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_streamed_plot_curves_equal_parse_log(path):
    assert_same_plot(path)


@pytest.mark.parametrize("name", sorted(EDGE))
def test_edge_cases_equal_parse_log(tmp_path, name):
    path = tmp_path / name
    path.write_text(EDGE[name], encoding="utf-8")
    assert_same_as_frame(path)
    assert_same_diagnosis(path)
    assert_same_plot(path)


def test_axes_and_forward_fill(tmp_path):
    """The x of a point without a finite step is the last finite one before it (0 first)."""
    p = tmp_path / "a.csv"
    p.write_text(EDGE["nan-steps.csv"], encoding="utf-8")
    cs = curveset.load_curves(str(p))
    train = cs.get(1, ("train", "loss"))
    assert cs.runs[1].axis() == "step"
    assert cs.x(train).tolist() == [1.0, 1.0, 3.0, 3.0, 5.0]
    assert np.isnan(train.arrays()[2][-1])  # a NaN loss is kept
    p = tmp_path / "b.jsonl"
    p.write_text(EDGE["epoch-axis.jsonl"], encoding="utf-8")
    cs = curveset.load_curves(str(p))
    assert cs.runs[1].axis() == "epoch"
    assert cs.x(cs.get(1, ("train", "loss"))).tolist() == [0.0, 0.0, 1.0, 2.0]
    assert cs.x(cs.get(1, ("eval", "loss"))).tolist() == [2.0]
    p = tmp_path / "c.jsonl"
    p.write_text(EDGE["index-axis.jsonl"], encoding="utf-8")
    cs = curveset.load_curves(str(p))
    assert cs.runs[1].axis() == "index"
    assert cs.x(cs.get(1, ("train", "loss"))).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_resume_keeps_the_last_value_and_restart_is_a_new_run(tmp_path):
    p = tmp_path / "r.jsonl"
    p.write_text(EDGE["resume-and-restart.jsonl"], encoding="utf-8")
    cs = curveset.load_curves(str(p))
    assert cs.run_ids() == [1, 2]
    s1 = cs.get(1, ("train", "loss"))
    assert s1.arrays()[0].tolist() == [1, 2, 3, 4, 5] and s1.arrays()[2].tolist() == [2.0, 1.8, 1.65, 1.55, 1.5]
    v2 = cs.get(2, ("train", "loss")).arrays()[2]
    assert v2.size == 5 and math.isnan(v2[1])
    assert any("duplicated record" in n and "kept the last" in n for n in cs.notes)


def test_duplicate_beyond_the_window_is_read_again_exactly(tmp_path, monkeypatch):
    """A step logged again further back than the look-back window: the second, exact
    reading gives parse_log's curves (and its notes), not both copies."""
    import lossctl.logs as logs

    rows = [(s, 3.0 - s / 100) for s in range(1, 201)] + [(50, 9.0), (51, 9.5)] + [(s, 1.0) for s in range(201, 211)]
    p = tmp_path / "late.jsonl"
    p.write_text("".join(f'{{"step": {s}, "loss": {v}}}\n' for s, v in rows), encoding="utf-8")
    monkeypatch.setattr(logs, "PARSE_LOG_WINDOW", 20)
    monkeypatch.setattr(curveset, "WINDOW", 20)
    assert_same_as_frame(p)
    cs = curveset.load_curves(str(p))
    step, _, value = cs.get(1, ("train", "loss")).arrays()
    assert step.size == 210 and value[49] == 9.0 and value[50] == 9.5
    assert not any("both were kept" in n for n in cs.notes)


def test_stdin_gives_the_same_report_as_the_file(tmp_path):
    text = (LOGS / "hf-console--resumed-and-restarted.log").read_text(encoding="utf-8")
    p = tmp_path / "x.log"
    p.write_text(text, encoding="utf-8")
    a = run_cli(["diagnose", str(p), "--format", "json"])
    b = run_cli(["diagnose", "-", "--format", "json"], stdin=text)
    assert a.code == b.code == 0
    assert a.out.replace(str(p), "<stdin>") == b.out


def _stream_source(data: bytes):
    import io

    from lossctl.logs import reader

    return reader.LogSource("<stdin>", stream=io.BufferedReader(io.BytesIO(data)))


def test_stream_keeps_its_name_and_its_copy_is_removed(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cs = curveset.load_curves(_stream_source(b"{'loss': 2.0}\n{'loss': 1.0}\n"))
    assert cs.attrs["source"] == "<stdin>" and cs.get(1, ("train", "loss")).arrays()[2].tolist() == [2.0, 1.0]
    assert list(tmp_path.iterdir()) == []


def test_stream_with_a_duplicate_beyond_the_window_is_read_again_from_its_copy(tmp_path, monkeypatch):
    """stdin cannot be read twice: the copy made while reading it is read the second time."""
    import tempfile

    import lossctl.logs as logs

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(logs, "PARSE_LOG_WINDOW", 20)
    monkeypatch.setattr(curveset, "WINDOW", 20)
    rows = [(s, 3.0 - s / 100) for s in range(1, 101)] + [(30, 9.0)] + [(s, 1.0) for s in range(101, 106)]
    data = "".join(f'{{"step": {s}, "loss": {v}}}\n' for s, v in rows).encode()
    want = parse_log(data)
    cs = curveset.load_curves(_stream_source(data))
    step, _, value = cs.get(1, ("train", "loss")).arrays()
    assert np.array_equal(step, want["step"].to_numpy(np.float64)) and np.array_equal(value, want["value"].to_numpy())
    assert value[29] == 9.0 and step.size == 105
    assert cs.notes == want.attrs["notes"] and cs.attrs["source"] == "<stdin>"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_endless_device_is_not_copied_forever(tmp_path, monkeypatch):
    """/dev/zero is read as a stream: the reader gives up on its first 'line' (exit 2),
    and the copy kept for a second reading stops there too and is removed. (plot reads
    through the same load_curves; ~10 s: the reader's 32 MiB line limit.)"""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    r = run_cli(["diagnose", "/dev/zero"])
    assert r.code == 2 and "/dev/zero" in r.err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ property: any jsonl log

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_num = st.one_of(st.floats(-10, 10, allow_nan=False), st.sampled_from([float("nan"), float("inf"), 0.0]))
_entry = st.fixed_dictionaries(
    {"loss": _num},
    optional={
        "step": st.one_of(st.integers(0, 25), st.just(float("nan"))),
        "epoch": st.one_of(st.floats(0, 4, allow_nan=False), st.just(float("nan"))),
        "eval_loss": _num,
        "learning_rate": _num,
        "grad_norm": _num,
        "accuracy": _num,
    },
)


@settings(max_examples=60)
@given(entries=st.lists(_entry, min_size=1, max_size=60), window=st.sampled_from([3, 50_000]))
def test_any_jsonl_log_gives_parse_logs_curves(entries, window):
    """Steps that repeat, go back (resumes, restarts), are NaN or missing, epochs without
    steps, NaN/inf values; a tiny look-back window forces the exact second reading."""
    import json
    import tempfile

    import lossctl.logs as logs

    with tempfile.TemporaryDirectory() as d, pytest.MonkeyPatch.context() as mp:
        mp.setattr(logs, "PARSE_LOG_WINDOW", window)
        mp.setattr(curveset, "WINDOW", window)
        p = Path(d) / "x.jsonl"
        p.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
        _frames.pop(str(p), None)
        assert_same_as_frame(p)
        _frames.pop(str(p), None)
        assert_same_diagnosis(p)
        _frames.pop(str(p), None)
        assert_same_plot(p)


@pytest.mark.parametrize("back, windows", [(10, [20]), (100, [20, 160]), (500, [20, 160, None])])
def test_readings_until_the_window_covers_the_duplicates(tmp_path, monkeypatch, back, windows):
    """A duplicate within the window: one reading; beyond it: a second one with an 8x
    window; beyond that too: a last one without limit. Always parse_log's curves."""
    import lossctl.logs as logs

    seen = []
    real = logs.RecordStream

    def spy(*a, **k):
        seen.append(k.get("window"))
        return real(*a, **k)

    n = 600
    rows = [(s, 3.0 - s / 1000) for s in range(1, n + 1)] + [(n + 1 - back, 9.0)] + [(n + 1, 1.0)]
    p = tmp_path / "late.jsonl"
    p.write_text("".join(f'{{"step": {s}, "loss": {v}}}\n' for s, v in rows), encoding="utf-8")
    monkeypatch.setattr(curveset, "WINDOW", 20)
    monkeypatch.setattr(logs, "RecordStream", spy)
    cs = curveset.load_curves(str(p))
    assert seen == windows
    want = parse_log(str(p))
    step, _, value = cs.get(1, ("train", "loss")).arrays()
    assert np.array_equal(step, want["step"].to_numpy(np.float64)) and np.array_equal(value, want["value"].to_numpy())
    assert value[n - back] == 9.0 and step.size == n + 1
    assert cs.attrs == dict(want.attrs)
