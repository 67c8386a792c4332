"""Recommendations agree with the verdict and with what the log says it does now."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lossctl.diagnose import diagnose


def _frame(steps, train, eval_steps=(), eval_vals=(), epochs=None):
    rows = []
    for i, (s, v) in enumerate(zip(steps, train)):
        rows.append({"run": 1, "step": s, "epoch": None if epochs is None else epochs[i], "split": "train",
                     "metric": "loss", "value": v})
    for s, v in zip(eval_steps, eval_vals):
        rows.append({"run": 1, "step": s, "epoch": None if epochs is None else float(s), "split": "eval",
                     "metric": "loss", "value": v})
    return pd.DataFrame(rows)


def test_eval_stalled_means_early_stopping_not_train_longer():
    # Keras-like: 60 epochs, train still falling; eval falls to epoch 20 then wanders flat
    rng = np.random.default_rng(3)
    ep = np.arange(1, 61, dtype=float)
    train = 0.3 + 1.5 * np.exp(-ep / 15)
    ev = 0.7 + 1.2 * np.exp(-np.minimum(ep, 20) / 6) + rng.normal(0, 0.004, ep.size)
    d = diagnose(_frame(ep, train, ep, ev, epochs=ep))
    codes = [f.code for f in d.findings]
    assert d.verdict == "converging"
    assert "eval-stalled" in codes and "still-improving" not in codes
    best = int(np.argmin(ev)) + 1
    params = {r.param: r for r in d.recommendations}
    assert params["callbacks"].suggested.startswith("EarlyStoppingCallback(")
    assert params["load_best_model_at_end"].suggested is True
    assert params["num_train_epochs"].current == 60 and params["num_train_epochs"].suggested == best
    assert not any("train longer" in r.message for r in d.recommendations)


def test_still_improving_with_improving_eval_says_train_longer():
    ep = np.arange(1, 31, dtype=float)
    train = 0.3 + 1.5 * np.exp(-ep / 40)
    ev = 0.4 + 1.5 * np.exp(-ep / 40)
    d = diagnose(_frame(ep, train, ep, ev, epochs=ep))
    assert d.verdict == "converging"
    codes = [f.code for f in d.findings]
    assert "still-improving" in codes and "eval-stalled" not in codes
    rec = {r.param: r for r in d.recommendations}["num_train_epochs"]
    assert (rec.current, rec.suggested) == (30, 60)


def test_logging_steps_advice_never_asks_for_fewer_points_than_now():
    # a 15-point window logged every 10 steps, deep into a run: "log more often" must not
    # suggest a logging_steps above the 10 the log shows
    steps = np.arange(29000, 29150, 10, dtype=float)
    rng = np.random.default_rng(0)
    train = 2.8 + rng.normal(0, 0.01, steps.size)
    d = diagnose(_frame(steps, train))
    assert "too-few-points" in [f.code for f in d.findings]  # the rule that advises logging_steps
    for r in d.recommendations:
        if r.param == "logging_steps" and isinstance(r.suggested, (int, float)):
            assert r.suggested < 10, r


def test_lr_too_low_is_for_straight_declines_not_accelerating_ones():
    t = np.linspace(0, 1, 60)
    steps = np.arange(1, 61, dtype=float) * 10
    straight = diagnose(_frame(steps, 2.0 - 0.5 * t))
    accelerating = diagnose(_frame(steps, 2.0 - 0.5 * t**2))
    assert "lr-too-low" in [f.code for f in straight.findings]
    assert "lr-too-low" not in [f.code for f in accelerating.findings]


def test_a_summed_loss_says_which_parts_it_adds():
    rows = []
    for ep in range(1, 21):
        for m, v in (("box_loss", 1.0 / ep), ("cls_loss", 2.0 / ep), ("dfl_loss", 0.5 + 0.1 / ep)):
            rows.append({"run": 1, "step": ep, "epoch": ep, "split": "train", "metric": m, "value": v})
    d = diagnose(pd.DataFrame(rows))
    assert d.evidence["loss_parts"] == ["box_loss", "cls_loss", "dfl_loss"]
    assert "the log has no total loss: the loss here is the sum box_loss + cls_loss + dfl_loss" in d.lines
    assert d.evidence["n_points"] == 20
