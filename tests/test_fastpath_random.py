"""The fast CSV path (lossctl/logs/fastpath.py) equals the record path on random
Hugging Face console logs: progress bars glued to the dicts or not, evals (repeated at a
step), new-run banners, metrics blocks, config lines, ANSI codes, prefixes, dicts spaced
oddly, strings and None where numbers belong. Both one process and two (the second half
read by a forked child) are compared, row by row."""

from __future__ import annotations

import io
import random

import pytest

from lossctl.logs import export, fastpath, iter_records, reader


def make_log(seed: int, n: int = 400) -> str:
    """A random Trainer console log: bars (glued or not), evals, banners, blocks, odd dicts."""
    rnd = random.Random(seed)
    out = []
    ls = rnd.choice([None, None, 1, 5, 10])
    if ls is not None and rnd.random() < 0.7:
        out.append(f"TrainingArguments(\nlogging_steps={ls},\nlogging_first_step=False,\n)\n")
    if rnd.random() < 0.5:
        out.append("***** Running training *****\n  Num Epochs = 3\n  Total optimization steps = %d\n" % (n * (ls or 1)))
    total = n * (ls or 1)
    extra = rnd.random() < 0.3
    glue = rnd.choice(["", " ", "\r", "\n"])
    for s in range(1, n + 1):
        step = s * (ls or 1)
        r = rnd.random()
        if r < 0.3:
            out.append(f" 45%|████▌     | {step if rnd.random() < 0.9 else step + 3}/{total} [01:23<01:40,  1.23it/s]{glue}")
        loss = rnd.choice(["nan", "inf", "0.0"]) if rnd.random() < 0.02 else f"{rnd.uniform(0, 3):.{rnd.choice([4, 4, 6])}f}"
        keys = [f"'loss': {loss}", f"'grad_norm': {rnd.random() * 3:.6f}", f"'learning_rate': {5e-5 * (1 - s / n):.6e}"]
        if extra and rnd.random() < 0.2:
            keys.append(f"'train_acc': {rnd.random():.3f}")
        keys.append(f"'epoch': {s / n * 3:.2f}")
        out.append("{" + ", ".join(keys) + "}\n")
        r = rnd.random()
        if r < 0.05:
            out.append(f"{{'eval_loss': {rnd.uniform(0, 3):.6f}, 'eval_runtime': 12.3, 'eval_accuracy': {rnd.random():.4f}, 'epoch': {s / n * 3:.2f}}}\n")
            if rnd.random() < 0.2:
                out.append(f"{{'eval_loss': {rnd.uniform(0, 3):.6f}, 'epoch': {s / n * 3:.2f}}}\n")
        elif r < 0.06:
            out.append("***** Running training *****\n")
        elif r < 0.065:
            out.append("***** eval metrics *****\n  epoch = 1.0\n  eval_loss = 0.5\n\n")
        elif r < 0.07:
            out.append("Some warning: loss_scale = 1024 (config)\n")
        elif r < 0.075:
            out.append("\x1b[32mINFO\x1b[0m {'loss': 1.5, 'epoch': 0.5}\n")
        elif r < 0.08:
            out.append("{'train_runtime': 100.0, 'train_samples_per_second': 3.0, 'train_loss': 1.2, 'epoch': 3.0}\n")
        elif r < 0.085:
            out.append("  {'loss': 1.25 , 'learning_rate':1e-05,'epoch':0.5}\n")
        elif r < 0.087:
            out.append(rnd.choice(["{'eval_loss':0.5,'epoch':1.0}\n", "{'eval_loss': 0.25 , 'epoch': 1.0}\n", "{'eval_loss': 0.5, 'eval_acc': 'n/a', 'epoch': 1.0}\n", "{'loss': 1.0, 'epoch': None}\n", "{'eval_loss': nan, 'epoch': 1.0}\n", "{'loss': 1.5, 'grad_norm': 'abc', 'learning_rate': 1e-05, 'epoch': 0.5}\n", "{'loss': 1.5, 'grad_norm': 2.0, 'learning_rate': 1e-05, 'epoch': 0.5, 'note': 'x'}\n", "[{'loss': 1.5, 'epoch': 0.5}]\n", "{'eval_loss': 0.5, 'eval_runtime': 1.0,\n 'epoch': 1.0}\n", "{'eval_loss': 0.5, 'eval_run\ntime': 1.0, 'epoch': 1.0}\n", '{"loss": 1.0, "step": 3}\n', '{"loss": 1.0, "epoch": NaN}\n']))
        elif r < 0.09:
            out.append("[rank0]: {'loss': 1.75, 'epoch': 0.6}\n")
    return "".join(out)


def _both(path, metrics, splits):
    a = io.StringIO()
    export.write_long(export.filter_records(iter_records(path), metrics, splits), "csv", a)
    b = io.StringIO()
    n = fastpath.run(iter_records(path), b, metrics=metrics, splits=splits)
    return a.getvalue(), (b.getvalue() if n is not None else None)


@pytest.mark.parametrize("processes", [1, 2])
@pytest.mark.parametrize("seed", range(24))
def test_fast_path_equals_record_path_on_random_logs(tmp_path, monkeypatch, seed, processes):
    if processes == 2:
        monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", 1000)
        monkeypatch.setattr(reader, "CHUNK", 5000)
    p = tmp_path / "train.log"
    p.write_text(make_log(seed), encoding="utf-8")
    for metrics, splits in [(None, None), (["loss"], ["train"]), (["loss"], None)]:
        rec, fast = _both(p, metrics, splits)
        if fast is None:  # the fast path declined: the record path writes the CSV
            continue
        assert fast.splitlines() == rec.splitlines()
        assert rec.count("\n") > 100


def test_a_dict_glued_to_a_progress_bar_takes_the_record_path(tmp_path):
    # without logging_steps in the log, the glued bar's counter is the step (hf_console.glued_bar)
    p = tmp_path / "bars.log"
    p.write_text("".join(f" 45%|####     | {k * 10}/100 [01:23<01:40,  1.23it/s]{{'loss': {2.5 - k / 10:.4f}, "
                         f"'epoch': {k / 10:.2f}}}\n" for k in range(1, 6)), encoding="utf-8")
    assert not fastpath.applies(iter_records(p))
    b = io.StringIO()
    assert fastpath.run(iter_records(p), b, metrics=["loss"]) is None
    rec = io.StringIO()
    export.write_long(iter_records(p), "csv", rec)
    assert [r.split(",")[1] for r in rec.getvalue().splitlines()[1:]] == ["10", "20", "30", "40", "50"]


def test_the_random_logs_do_exercise_the_fast_path(tmp_path):
    used = 0
    for seed in range(24):
        p = tmp_path / f"{seed}.log"
        p.write_text(make_log(seed), encoding="utf-8")
        used += fastpath.run(iter_records(p), io.StringIO()) is not None
    assert used >= 6  # the others have glued bars: record path


def _curveset_state(cs):
    series = {}
    for key, s in cs.series.items():
        step, epoch, value = s.arrays()
        series[key] = repr((step.tolist(), epoch.tolist(), value.tolist(), None if s.seq is None else list(s.seq),
                            list(s.nf_pos)))
    runs = {r: (i.first_seq, i.rows, i.any_step, i.any_epoch, list(i.present)) for r, i in cs.runs.items()}
    return cs.attrs, cs.n_records, list(cs.metrics), runs, series


@pytest.mark.parametrize("seed", range(0, 24, 3))
def test_diagnose_curves_through_the_fast_path_equal_the_records(tmp_path, monkeypatch, seed):
    """diagnose and plot read big HF console logs through the fast CSV path
    (curveset._FastSink): the same CurveSet as from the records, to the last attribute."""
    from lossctl import diagnose_cli
    from lossctl.logs import curveset

    p = tmp_path / "train.log"
    p.write_text(make_log(seed, n=1500), encoding="utf-8")
    used = []
    real = curveset._fast_curves
    monkeypatch.setattr(curveset, "_fast_curves", lambda *a, **k: used.append(1) or real(*a, **k))
    monkeypatch.setattr(curveset, "FAST_PARSE_CHARS", 3000)  # the CSV is parsed in many pieces
    fast = curveset.load_curves(p, group=diagnose_cli._diag_group, ordered=lambda label: True, by_name=False)
    slow = curveset.load_curves(p, group=diagnose_cli._diag_group, ordered=lambda label: True)
    assert used == [1]
    assert _curveset_state(fast) == _curveset_state(slow)
    assert fast.n_records > 1000


def test_the_fast_curves_are_used_when_the_fast_path_applies(tmp_path, monkeypatch):
    from lossctl import diagnose_cli
    from lossctl.logs import curveset

    p = tmp_path / "train.log"
    p.write_text("".join(f"{{'loss': {3 / s:.4f}, 'learning_rate': 1e-05, 'epoch': {s / 100:.2f}}}\n"
                         for s in range(1, 101)), encoding="utf-8")
    monkeypatch.setattr(curveset.CurveSet, "_consume", lambda *a, **k: pytest.fail("read record by record"))
    cs = diagnose_cli.load_curves(str(p))
    assert cs.n_records == 200 and cs.format == "hf-console"
    step, _, value = cs.get(1, ("train", "loss")).arrays()
    assert step.tolist() == list(range(1, 101)) and value[0] == 3.0 and value[-1] == 0.03


# ---------------------------------------------------------------- cases found in review

_REVIEW_CASES = {
    # a key twice: the record path keeps the last value (and says so)
    "epoch-twice": "{'loss': 1.0, 'epoch': 0.1}\n{'loss': 0.9, 'epoch': 0.1, 'epoch': 0.2}\n"
                   "{'eval_loss': 0.5, 'epoch': 0.1, 'epoch': 0.2}\n",
    "loss-twice": "{'loss': 1.5, 'epoch': 0.1}\n{'loss': 1.4, 'loss': 1.3, 'epoch': 0.2}\n",
    # two dicts on a line and a line with none: the brace count alone would pass
    "two-dicts-a-line": "{'loss': 1.0, 'epoch': 0.1}{'loss': 0.9, 'epoch': 0.2}\nlogging_steps: 5\n"
                        "{'loss': 0.8, 'epoch': 0.3}\n",
    # a bar glued to the dict through a form feed: the bar's counter is the step
    "glued-form-feed": " 10%|#   | 10/30 [00:01<00:02,  9.9it/s]\f {'loss': 1.9, 'epoch': 0.1}\n"
                       " 20%|##  | 20/30 [00:02<00:01,  9.9it/s]\f {'loss': 1.8, 'epoch': 0.2}\n",
    # a pprint'ed config dict with learning_rate first is not waited for as a wrapped metric dict
    "pprint-config": "{'learning_rate': 5e-05,\n 'logging_steps': 10,\n 'num_train_epochs': 3,\n 'output_dir': 'out'}\n"
                     "{'loss': 2.0, 'learning_rate': 4.9e-05, 'epoch': 0.1}\n"
                     "{'loss': 1.9, 'learning_rate': 4.8e-05, 'epoch': 0.2}\n",
}


@pytest.mark.parametrize("name", sorted(_REVIEW_CASES))
def test_review_cases_fast_equals_records_rows_and_notes(tmp_path, name):
    p = tmp_path / f"{name}.log"
    p.write_text(_REVIEW_CASES[name], encoding="utf-8")
    stream = iter_records(p)
    rec = io.StringIO()
    export.write_long(stream, "csv", rec)
    fast_stream = iter_records(p)
    fast = io.StringIO()
    if fastpath.run(fast_stream, fast) is not None:
        assert fast.getvalue() == rec.getvalue()
        assert fast_stream.ctx.notes == stream.ctx.notes


def test_pprint_config_dict_does_not_shift_the_steps(tmp_path):
    p = tmp_path / "pp.log"
    p.write_text(_REVIEW_CASES["pprint-config"], encoding="utf-8")
    out = io.StringIO()
    export.write_long(export.filter_records(iter_records(p), ["loss"], None), "csv", out)
    assert out.getvalue().splitlines()[1:] == ["1,1,0.1,train,loss,2.0", "1,2,0.2,train,loss,1.9"]


def test_second_process_rows_need_the_same_hyper_parameters(tmp_path, monkeypatch):
    # logging_first_step after the first chunk (or behind ANSI codes): the child does not
    # know it, so its rows (numbered k * logging_steps) must not be used
    monkeypatch.setattr(fastpath, "PARALLEL_MIN_BYTES", 1000)
    monkeypatch.setattr(reader, "CHUNK", 5000)
    p = tmp_path / "lfs.log"
    p.write_text("logging_steps=10\n" + "Map: 100%|##########| 10/10 [00:00<00:00]\n" * 150
                 + "logging_first_step=True\n"
                 + "".join(f"{{'loss': {2 - i / 1e4:.4f}, 'learning_rate': 4.9e-05, 'epoch': {i / 1e3:.3f}}}\n"
                           for i in range(1, 401)), encoding="utf-8")
    rec, fast = _both(p, ["loss"], None)
    assert fast == rec
    steps = [int(r.split(",")[1]) for r in rec.splitlines()[1:]]
    assert steps[:3] == [1, 10, 20] and steps[-1] == 3990


def test_a_run_that_is_not_there_is_an_error_on_the_fast_path_too(tmp_path):
    from lossctl.errors import InputError

    p = tmp_path / "runs.log"
    p.write_text("{'loss': 1.0, 'epoch': 0.1}\n***** Running training *****\n{'loss': 0.9, 'epoch': 0.1}\n",
                 encoding="utf-8")
    with pytest.raises(InputError, match="there is no run 3 in this log"):
        fastpath.run(iter_records(p, run=3), io.StringIO(), run=3)
