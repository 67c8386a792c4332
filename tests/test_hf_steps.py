"""Hugging Face console logs: eval dicts at their real step.

The Trainer prints dicts without a step. An eval dict read after the train dict of
step L is at a step in [L, L + logging_steps - 1]; the log's hyper-parameters (eval
every N steps / every epoch, steps per epoch) or the epochs printed by the train
dicts that follow say which one. See lossctl/logs/hf_console.py (``_place_eval``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lossctl.logs import export, fastpath, hf_console, iter_records, parse_log, reader
from tests.conftest import FIXTURES, REAL_LOGS

LOGS = FIXTURES / "logs"


def _eval_steps(source, **kw) -> list[tuple[int, int, float]]:
    """(run, step, value) of the eval loss, in output order."""
    return [(r.run, int(r.step), r.value) for r in iter_records(source, **kw)
            if r.split == "eval" and r.metric == "loss"]


def _train_dict(step: int, spe: int, loss: float) -> str:
    return f"{{'loss': {loss}, 'grad_norm': 1.5, 'learning_rate': 5e-05, 'epoch': {round(step / spe, 2)}}}\n"


def _epoch_log(spe: int, ls: int, epochs: int, *, args: str | None = None, banner: bool = False) -> str:
    """A per-epoch-eval Trainer log: train dicts every ``ls`` steps, an eval dict at every
    epoch end (after the train dict of that step when both fall on it)."""
    if args is None:
        args = (f"eval_strategy=IntervalStrategy.EPOCH,\nlogging_steps={ls},\nmax_steps=-1,\n"
                f"num_train_epochs={float(epochs)},\n")
    out = ["TrainingArguments(\n", args, ")\n"]
    if banner:
        out.append(f"***** Running training *****\n  Num Epochs = {epochs}\n"
                   f"  Total optimization steps = {epochs * spe}\n")
    k = 0
    for step in range(ls, epochs * spe + 1, ls):
        out.append(_train_dict(step, spe, round(3.0 - step / (epochs * spe), 4)))
        for e in range(1, epochs + 1):
            if step <= e * spe < step + ls:
                k += 1
                out.append(f"{{'eval_loss': {round(2.0 + 0.01 * k, 4)}, 'eval_runtime': 1.5, 'epoch': {float(e)}}}\n")
    return "".join(out)


# ---------------------------------------------------------------- the real log of issue #3


@pytest.mark.skipif(not (REAL_LOGS / "hf_console__02.out").exists(), reason="real logs not present")
def test_real_per_epoch_log_evals_match_its_trainer_state():
    """hf_console__02.out and hf_trainer_state__06.json are the same run: the console's
    eval dicts (eval every epoch, logging_steps=500, no progress bar) land on the steps
    the Trainer recorded (1400, 2800, ...), not on the last train dict (1000, 2500, ...)."""
    state = json.loads((REAL_LOGS / "hf_trainer_state__06.json").read_text())
    truth = [(1, e["step"], e["eval_loss"]) for e in state["log_history"] if "eval_loss" in e]
    got = _eval_steps(REAL_LOGS / "hf_console__02.out")
    assert got == truth
    assert [s for _, s, _ in got] == list(range(1400, 14001, 1400))


@pytest.mark.skipif(not (REAL_LOGS / "hf_console__02.out").exists(), reason="real logs not present")
def test_real_per_epoch_log_best_checkpoint(cli):
    r = cli(["diagnose", REAL_LOGS / "hf_console__02.out"])
    assert r.code == 0, r.err
    assert "best checkpoint: step 5600 (epoch 4)" in r.out
    assert "eval loss min 1.202 at step 5600" in r.out


@pytest.mark.skipif(not REAL_LOGS.exists(), reason="real logs not present")
@pytest.mark.parametrize("name", ["hf_console__01.log", "hf_console__02.out", "hf_console__03.txt"])
def test_real_logs_fast_path_equals_record_path(name):
    rec, fast = _both(REAL_LOGS / name)
    assert fast is None or fast == rec


# ---------------------------------------------------------------- the rules


def test_every_epoch_learnt_from_the_train_dicts_that_follow():
    """No banner: steps per epoch (140) is not in the log; the train dicts read after the
    first eval (epoch = step / 140, rounded to 2 decimals) leave one whole number."""
    got = _eval_steps(LOGS / "hf-console--eval-every-epoch.log")
    assert [s for _, s, _ in got] == [140, 280, 420]


def test_every_epoch_from_the_banner_total_and_two_runs():
    """max_steps=-1 and 'Total optimization steps = 250' for 2 epochs: 125 a epoch (run 1),
    180 for 2 (run 2): each run's evals at its own epoch ends."""
    got = _eval_steps(LOGS / "hf-console--banner-total-two-runs.log")
    assert [(r, s) for r, s, _ in got] == [(1, 125), (1, 250), (2, 90), (2, 180)]


def test_eval_every_n_steps_between_two_train_dicts():
    got = _eval_steps(LOGS / "hf-console--eval-steps-between-logs.log")
    assert [s for _, s, _ in got] == [75, 150, 225, 300]


def test_eval_steps_none_means_logging_steps_and_ratio_means_part_of_the_run(tmp_path):
    p = tmp_path / "a.log"
    body = "".join(_train_dict(s, 100, 2.0) for s in (20, 40))
    p.write_text("eval_strategy=steps\neval_steps=None\nlogging_steps=20\n" + body
                 + "{'eval_loss': 1.5, 'epoch': 0.4}\n")
    assert [s for _, s, _ in _eval_steps(p)] == [40]
    # eval_steps=0.25 of 200 steps = every 50: after the train dict of step 40 -> 50
    p.write_text("eval_strategy=steps\neval_steps=0.25\nlogging_steps=20\nmax_steps=200\n" + body
                 + "{'eval_loss': 1.5, 'epoch': 0.5}\n")
    assert [s for _, s, _ in _eval_steps(p)] == [50]


@pytest.mark.parametrize("args,expected", [
    # nothing says what a step per epoch is, and only one train dict follows: not decided
    ("eval_strategy=epoch\nlogging_steps=500\nmax_steps=-1\nnum_train_epochs=10.0\n", None),
    # steps given exactly by the script: placed at once
    ("eval_strategy=epoch\nlogging_steps=500\nmax_steps=-1\nnum_train_epochs=10.0\n"
     "num_update_steps_per_epoch = 1400\n", 1400),
    # no strategy, exact steps per epoch but epochs rounded to 2 decimals: 1393..1407 all fit
    ("logging_steps=500\nnum_update_steps_per_epoch = 1400\n", None),
    # the old TrainingArguments repr on one line, with the banner: 14000 / 10
    ("TrainingArguments(evaluation_strategy=IntervalStrategy.EPOCH, logging_steps=500, max_steps=-1, "
     "num_train_epochs=10.0)\n***** Running training *****\n  Num Epochs = 10\n  Total optimization steps = 14000\n",
     1400),
    # max_steps set by the user: 'Total optimization steps' over 'Num Epochs' says nothing exact
    ("eval_strategy=epoch\nlogging_steps=500\nmax_steps=14000\n***** Running training *****\n"
     "  Num Epochs = 10\n  Total optimization steps = 14000\n", None),
    # logging every epoch: train dicts are not every logging_steps steps
    ("eval_strategy=epoch\nlogging_strategy=epoch\nlogging_steps=500\nnum_update_steps_per_epoch = 1400\n"
     "max_steps=-1\nnum_train_epochs=10.0\n", None),
])
def test_ambiguous_keeps_the_last_train_step(tmp_path, args, expected):
    p = tmp_path / "a.log"
    p.write_text(args + "".join(_train_dict(s, 1400, 2.0) for s in (500, 1000))
                 + "{'eval_loss': 1.5, 'epoch': 1.0}\n" + _train_dict(1500, 1400, 1.9))
    assert _eval_steps(p) == [(1, expected or 1000, 1.5)]


def test_unrounded_epochs_place_the_eval_without_a_strategy(tmp_path):
    p = tmp_path / "a.log"
    p.write_text("logging_steps=500\nnum_update_steps_per_epoch = 1400\n"
                 "{'loss': 2.1, 'epoch': 0.35714285714285715}\n{'loss': 2.0, 'epoch': 0.7142857142857143}\n"
                 "{'eval_loss': 1.5, 'epoch': 0.9285714285714286}\n")
    assert _eval_steps(p) == [(1, 1300, 1.5)]


def test_the_eval_is_never_before_the_last_train_step(tmp_path):
    """An epoch that would put the eval before the train dict just read (a log that does
    not follow the Trainer's rules): the old rule."""
    p = tmp_path / "a.log"
    p.write_text("eval_strategy=epoch\nlogging_steps=500\nnum_update_steps_per_epoch = 1400\nmax_steps=-1\n"
                 "num_train_epochs=3.0\n" + "".join(_train_dict(s, 1400, 2.0) for s in (500, 1000, 1500))
                 + "{'eval_loss': 1.5, 'epoch': 1.0}\n")
    assert _eval_steps(p) == [(1, 1500, 1.5)]


def test_a_held_run_keeps_log_order_and_loses_nothing(tmp_path):
    p = tmp_path / "a.log"
    p.write_text(_epoch_log(140, 50, 3))
    recs = list(iter_records(p))
    assert [r.line for r in recs] == sorted(r.line for r in recs)  # log order
    raw = p.read_text()
    assert len([r for r in recs if r.split == "train" and r.metric == "loss"]) == raw.count("{'loss'")
    assert [(int(r.step), r.epoch) for r in recs if r.split == "eval" and r.metric == "loss"] == [
        (140, 1.0), (280, 2.0), (420, 3.0)]


def test_hold_limit_gives_the_old_rule(tmp_path, monkeypatch):
    """Held records are bounded: past HOLD_MAX, evals not placed yet keep the old rule (and
    the run is not held again); nothing is lost."""
    p = tmp_path / "a.log"
    p.write_text(_epoch_log(1400, 500, 10))
    assert [s for _, s, _ in _eval_steps(p)] == list(range(1400, 14001, 1400))
    n = sum(1 for _ in iter_records(p))
    monkeypatch.setattr(hf_console, "HOLD_MAX", 5)
    assert [s for _, s, _ in _eval_steps(p)] == [1000, 2500, 4000, 5500, 7000, 8000, 9500, 11000, 12500, 14000]
    assert sum(1 for _ in iter_records(p)) == n


def test_resume_places_what_was_held_before_it(tmp_path):
    """'Continuing training from global step N' ends what the eval held before it can learn
    (1500 and 2000 leave 1394..1408 steps per epoch: the old rule); the evals after it are
    placed by the train dicts that follow."""
    p = tmp_path / "a.log"
    log = _epoch_log(1400, 500, 10).splitlines(keepends=True)
    i = next(i for i, line in enumerate(log) if "'epoch': 1.43" in line)
    log.insert(i + 1, "Continuing training from global step 2000\n")
    p.write_text("".join(log))
    assert [s for _, s, _ in _eval_steps(p)] == [1000] + list(range(2800, 14001, 1400))


def test_eval_on_start_stays_at_step_0_and_the_rest_is_placed(tmp_path):
    p = tmp_path / "a.log"
    log = _epoch_log(1400, 500, 10).splitlines(keepends=True)
    i = next(i for i, line in enumerate(log) if line.startswith("{'loss'"))
    log.insert(i, "{'eval_loss': 2.5, 'eval_runtime': 1.5, 'epoch': 0}\n")
    p.write_text("".join(log))
    assert [s for _, s, _ in _eval_steps(p)] == [0] + list(range(1400, 14001, 1400))


def test_two_runs_each_learns_its_own_steps_per_epoch(tmp_path):
    """Run 1 (3 epochs of 1400 steps, logged every 500) ends before its train dicts leave
    one S: its evals keep the old rule when run 2's arguments and banner come; run 2
    (140 a epoch, logged every 50) is placed."""
    p = tmp_path / "a.log"
    p.write_text(_epoch_log(1400, 500, 3) + "***** Running training *****\n" + _epoch_log(140, 50, 3))
    assert _eval_steps(p) == [(1, 1000, 2.01), (1, 2500, 2.02), (1, 4000, 2.03),
                              (2, 140, 2.01), (2, 280, 2.02), (2, 420, 2.03)]


def test_stdin_and_parse_log_agree(tmp_path, cli):
    text = (LOGS / "hf-console--eval-every-epoch.log").read_text()
    r = cli(["parse", "-", "--format", "csv"], stdin=text)
    assert r.code == 0, r.err
    assert r.out == (LOGS / "hf-console--eval-every-epoch.log.expected.csv").read_text()
    df = parse_log(io.StringIO(text))
    ev = df[(df.split == "eval") & (df.metric == "loss")]
    assert ev["step"].tolist() == [140, 280, 420]


# ---------------------------------------------------------------- fast path = record path


def _both(path: Path, metrics=None) -> tuple[str, str | None]:
    a = io.StringIO()
    export.write_long(export.filter_records(iter_records(path), metrics, None), "csv", a)
    b = io.StringIO()
    used = fastpath.run(iter_records(path), b, metrics=metrics)
    return a.getvalue(), (b.getvalue() if used is not None else None)


@pytest.mark.parametrize("name", ["hf-console--eval-every-epoch.log", "hf-console--banner-total-two-runs.log",
                                  "hf-console--eval-steps-between-logs.log"])
@pytest.mark.parametrize("metrics", [None, ["loss"]])
def test_fixtures_fast_path_equals_record_path(name, metrics):
    rec, fast = _both(LOGS / name, metrics)
    assert fast == rec


@pytest.mark.parametrize("kind", ["steps", "epoch-banner", "epoch-held", "epoch-held-late"])
@pytest.mark.parametrize("metrics", [None, ["loss"]])
def test_fast_chunks_place_evals_as_the_record_path(tmp_path, monkeypatch, kind, metrics):
    """The hyper-parameters in the first chunk, the dicts in plain chunks read the fast way:
    evals placed there (eval_steps, a banner's steps per epoch) or handed to the record
    path (an eval that waits for later train dicts) give the same CSV."""
    monkeypatch.setattr(reader, "CHUNK", 2048)  # the first chunk
    monkeypatch.setattr(fastpath._Range.__init__, "__defaults__", (2048,))  # and the others
    p = tmp_path / "big.log"
    if kind == "steps":
        head = "eval_strategy=steps\neval_steps=75\nlogging_steps=50\n"
        body = []
        for s in range(50, 20001, 50):
            body.append(_train_dict(s, 1000, round(3 - s / 20000, 4)))
            nxt = -(-s // 75) * 75
            if nxt < s + 50:
                body.append(f"{{'eval_loss': {round(2 + s / 40000, 5)}, 'eval_runtime': 1.0, 'epoch': {round(nxt / 1000, 2)}}}\n")
        p.write_text(head + "".join(body))
        steps = [s for _, s, _ in _eval_steps(p)]
        assert steps == list(range(75, 20026, 75))
    elif kind == "epoch-banner":
        p.write_text(_epoch_log(1400, 50, 8, banner=True))
        assert [s for _, s, _ in _eval_steps(p)] == list(range(1400, 11201, 1400))
    elif kind == "epoch-held":
        p.write_text(_epoch_log(1400, 50, 8))
        assert [s for _, s, _ in _eval_steps(p)] == list(range(1400, 11201, 1400))
    else:  # the first eval comes after the first chunk, and more follow after the release
        text = _epoch_log(1400, 50, 8)
        p.write_text(text)
        assert text.find("eval_loss") > 2048
        assert [s for _, s, _ in _eval_steps(p)] == list(range(1400, 11201, 1400))
    rec, fast = _both(p, metrics)
    assert fast is not None and fast == rec


def test_bench_log_fast_path_unchanged(tmp_path):
    """The bench generator's log (no hyper-parameters: logging_steps unknown): evals stay at
    the last train dict, read the fast way."""
    import importlib.util

    gen = Path("/work/shared/bench/make_hf_log.py")
    if not gen.exists():
        pytest.skip("bench generator not present")
    spec = importlib.util.spec_from_file_location("make_hf_log", gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    p = tmp_path / "x.log"
    mod.make(p, 3000)
    rec, fast = _both(p)
    assert fast is not None and fast == rec
    assert [s for _, s, _ in _eval_steps(p)][:3] == [100, 200, 300]
