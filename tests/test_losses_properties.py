"""Invariants over the whole loss registry (hypothesis) and the exact validation messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossctl import losses as L
from lossctl.errors import InputError, UsageError

ALL = L.names()
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _arr(data, shape, lo, hi):
    return data.draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False)))


def _probs(data, n, c):
    raw = _arr(data, (n, c), 0.01, 1.0)
    return raw / raw.sum(axis=1, keepdims=True)


def make_case(name, data):
    """A valid (x, y, given, extra) for loss ``name``; arrays in ``extra`` are aligned with rows."""
    n = data.draw(st.integers(1, 6), label="rows")
    c = data.draw(st.integers(2, 5), label="classes")
    given: dict = {}
    extra: dict = {}
    if name in ("cross-entropy", "nll", "multi-margin"):
        x = _arr(data, (n, c), -20, 20)
        y = np.asarray(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
        if name == "nll":
            x = x - L.logsumexp(x)[:, None]
        if name == "cross-entropy":
            if data.draw(st.booleans(), label="soft targets"):
                y = _probs(data, n, c)
            given["label-smoothing"] = data.draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
        if name == "multi-margin":
            given["p"] = data.draw(st.sampled_from([1, 2]))
            given["margin"] = data.draw(st.floats(0, 3))
        if data.draw(st.booleans(), label="weights"):
            given["weight"] = list(_arr(data, (c,), 0.1, 3.0))
        return x, y, given, extra
    if name == "bce":
        return _arr(data, (n, c), 0, 1), _arr(data, (n, c), 0, 1), given, extra
    if name in ("bce-with-logits", "focal"):
        x = _arr(data, (n, c), -30, 30)
        y = np.asarray(data.draw(hnp.arrays(np.float64, (n, c), elements=st.sampled_from([0.0, 1.0]))))
        if name == "bce-with-logits" and data.draw(st.booleans()):
            given["pos-weight"] = list(_arr(data, (c,), 0.1, 3.0))
        if name == "focal":
            given["gamma"] = data.draw(st.sampled_from([0.0, 1.0, 2.0, 3.5]))
            given["alpha"] = data.draw(st.sampled_from([-1.0, 0.0, 0.25, 1.0]))
        return x, y, given, extra
    if name == "kl-div":
        x = np.log(_probs(data, n, c))
        y = _probs(data, n, c)
        if data.draw(st.booleans()):
            given["log-target"] = True
            y = np.log(y)
        return x, y, given, extra
    if name == "poisson-nll":
        log_input = data.draw(st.booleans())
        given["log-input"] = log_input
        given["full"] = data.draw(st.booleans())
        x = _arr(data, (n,), -3, 3) if log_input else _arr(data, (n,), 0.01, 10)
        y = np.asarray(data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), dtype=float)
        return x, y, given, extra
    if name == "gaussian-nll":
        x, y = _arr(data, (n,), -10, 10), _arr(data, (n,), -10, 10)
        if data.draw(st.booleans()):
            extra["var"] = _arr(data, (n,), 0, 5)
        else:
            given["var"] = data.draw(st.floats(0.01, 5))
        given["full"] = data.draw(st.booleans())
        return x, y, given, extra
    if name == "lm":
        if data.draw(st.booleans(), label="logits"):
            x = _arr(data, (n, c), -20, 20)
            y = np.asarray(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
        else:
            probs = data.draw(st.booleans())
            given["probs"] = probs
            x = _arr(data, (n,), 0.001, 1.0)
            x = x if probs else np.log(x)
            y = None
        extra["_seq_ids"] = np.sort(np.asarray(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))))
        return x, y, given, extra
    # element-wise regression losses
    x, y = _arr(data, (n,), -50, 50), _arr(data, (n,), -50, 50)
    if name == "huber":
        given["delta"] = data.draw(st.floats(0.1, 5))
    if name == "smooth-l1":
        given["beta"] = data.draw(st.sampled_from([0.0, 0.5, 1.0, 3.0]))
    if name == "quantile":
        given["quantile"] = data.draw(st.floats(0.01, 0.99))
    return x, y, given, extra


def parts_of(name, x, y, given, extra=None):
    spec = L.get(name)
    opts = L.validate_options(spec, given)
    opts.update(extra or {})
    return spec.fn(x, y, opts), opts


# ------------------------------------------------------------ properties over the registry


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(data=st.data())
def test_order_invariance(name, data):
    x, y, g, extra = make_case(name, data)
    perm = np.asarray(data.draw(st.permutations(list(range(x.shape[0])))), dtype=int)
    p1, _ = parts_of(name, x, y, g, extra)
    extra2 = {k: (v[perm] if isinstance(v, np.ndarray) and v.ndim else v) for k, v in extra.items()}
    p2, _ = parts_of(name, x[perm], None if y is None else y[perm], g, extra2)
    np.testing.assert_allclose(p2.values, np.asarray(p1.values)[perm], rtol=0, atol=0)
    assert p2.denominator == pytest.approx(p1.denominator, rel=1e-12)
    for red in ("sum", "mean"):
        a, b = L.reduce(p1, red), L.reduce(p2, red)
        assert b == pytest.approx(a, rel=1e-9, abs=1e-12, nan_ok=True)


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(data=st.data())
def test_sum_is_mean_times_denominator_and_chunks_add_up(name, data):
    x, y, g, extra = make_case(name, data)
    p, _ = parts_of(name, x, y, g, extra)
    assert p.denominator > 0
    assert L.reduce(p, "sum") == pytest.approx(L.reduce(p, "mean") * p.denominator, rel=1e-12, abs=1e-12)
    assert np.asarray(L.reduce(p, "none")).shape == np.asarray(p.values).shape
    # streaming contract: two chunks give the same sum and denominator as the whole
    k = data.draw(st.integers(0, x.shape[0]), label="split")
    if name == "lm" and y is None and k == 0:
        k = 1  # an empty per-token chunk has no row structure to split on
    halves = []
    for sl in (slice(0, k), slice(k, None)):
        e = {kk: (v[sl] if isinstance(v, np.ndarray) and v.ndim else v) for kk, v in extra.items()}
        halves.append(parts_of(name, x[sl], None if y is None else y[sl], g, {**e, "_row0": sl.start or 0})[0])
    assert sum(float(np.sum(h.values)) for h in halves) == pytest.approx(float(np.sum(p.values)), rel=1e-12, abs=1e-12)
    assert sum(h.denominator for h in halves) == pytest.approx(p.denominator, rel=1e-12)
    assert sum(h.batch for h in halves) == p.batch


WEIGHTED = {"cross-entropy": ("weight",), "nll": ("weight",), "multi-margin": ("weight",),
            "bce": ("weight",), "bce-with-logits": ("weight", "pos-weight")}


@pytest.mark.parametrize("name", sorted(WEIGHTED))
@SETTINGS
@given(data=st.data())
def test_weights_of_ones_equal_no_weights(name, data):
    x, y, g, extra = make_case(name, data)
    for opt in WEIGHTED[name]:
        g.pop(opt, None)
    plain, _ = parts_of(name, x, y, g, extra)
    c = x.shape[-1]
    for opt in WEIGHTED[name]:
        ones, _ = parts_of(name, x, y, {**g, opt: [1.0] * c}, extra)
        np.testing.assert_array_equal(ones.values, plain.values)
        assert ones.denominator == plain.denominator


EXTREME_OK = [n for n in ALL if n not in ("bce", "kl-div", "nll")]  # inputs there are (log-)probabilities


@pytest.mark.parametrize("name", EXTREME_OK)
@SETTINGS
@given(data=st.data())
def test_extreme_logits_stay_finite(name, data):
    x, y, g, extra = make_case(name, data)
    if name == "poisson-nll":
        g["log-input"] = False  # exp(1e4) overflows in PyTorch too; the rate form must not
    signs = data.draw(hnp.arrays(np.float64, x.shape, elements=st.sampled_from([-1.0, 1.0])))
    big = 1e4 * signs
    if name == "poisson-nll":
        big = np.abs(big)
    if name == "lm" and y is None:
        big = -np.abs(big) if not g.get("probs") else np.where(big > 0, 1.0, 1e-300)
    if name == "gaussian-nll":
        y = -big
    p, _ = parts_of(name, big, y, g, extra)
    assert np.all(np.isfinite(p.values)), p.values
    assert math.isfinite(L.reduce(p, "mean"))


@pytest.mark.parametrize("name", ["bce", "kl-div", "nll"])
def test_extreme_probabilities_stay_finite(name):
    if name == "bce":
        x, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
        p, _ = parts_of(name, x, y, {})
        assert p.values.tolist() == [100.0, 100.0, 0.0, 0.0]
    elif name == "kl-div":
        p, _ = parts_of(name, np.array([[-1e4, 0.0]]), np.array([[0.5, 0.5]]), {})
        assert np.all(np.isfinite(p.values))
    else:
        p, _ = parts_of(name, np.array([[-1e4, 0.0]]), np.array([0]), {})
        assert p.values.tolist() == [1e4]


# perfect predictions: (x, y, given, minimum or None when only "no worse than a perturbation")
PERFECT = {
    "cross-entropy": (np.array([[1e4, 0.0, 0.0], [0.0, 0.0, 1e4]]), np.array([0, 2]), {}, 0.0),
    "nll": (np.array([[0.0, -np.inf], [-np.inf, 0.0]]), np.array([0, 1]), {}, 0.0),
    "bce": (np.array([0.0, 1.0]), np.array([0.0, 1.0]), {}, 0.0),
    "bce-with-logits": (np.array([-1e4, 1e4]), np.array([0.0, 1.0]), {}, 0.0),
    "focal": (np.array([-1e4, 1e4]), np.array([0.0, 1.0]), {}, 0.0),
    "multi-margin": (np.array([[3.0, 1.0, 2.0]]), np.array([0]), {}, 0.0),
    "mse": (np.array([1.5, -2.0]), np.array([1.5, -2.0]), {}, 0.0),
    "l1": (np.array([1.5, -2.0]), np.array([1.5, -2.0]), {}, 0.0),
    "huber": (np.array([1.5, -2.0]), np.array([1.5, -2.0]), {}, 0.0),
    "smooth-l1": (np.array([1.5, -2.0]), np.array([1.5, -2.0]), {}, 0.0),
    "log-cosh": (np.array([1.5, -2.0]), np.array([1.5, -2.0]), {}, 0.0),
    "quantile": (np.array([1.5, -2.0]), np.array([1.5, -2.0]), {"quantile": 0.3}, 0.0),
    "kl-div": (np.log(np.array([[0.2, 0.8]])), np.array([[0.2, 0.8]]), {}, 0.0),
    "poisson-nll": (np.log(np.array([2.0, 5.0])), np.array([2.0, 5.0]), {}, None),
    "gaussian-nll": (np.array([1.0, -3.0]), np.array([1.0, -3.0]), {"var": 0.5}, None),
    "lm": (np.array([1.0, 1.0]), None, {"probs": True}, 0.0),
}


def test_perfect_table_covers_the_registry():
    assert set(PERFECT) == set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_perfect_predictions_give_the_minimal_loss(name):
    x, y, g, minimum = PERFECT[name]
    p, _ = parts_of(name, x, y, g)
    best = L.reduce(p, "mean")
    if minimum is not None:
        assert best == pytest.approx(minimum, abs=1e-15)
    if name in ("nll", "kl-div"):  # inputs are log-probabilities: perturb within the simplex
        worse = [np.log(np.array([[0.9, 0.1], [0.2, 0.8]]))] if name == "nll" else [
            np.log(np.array([[0.3, 0.7]])), np.log(np.array([[0.5, 0.5]]))]
    elif name == "lm":
        worse = [np.array([0.9, 1.0]), np.array([0.5, 0.5])]
    else:
        worse = [np.clip(x + d, 0, 1) if name == "bce" else x + d for d in (-0.3, 0.1, 0.5)]
    for w in worse:  # any perturbation of a perfect prediction is no better
        q, _ = parts_of(name, w, y, g)
        assert L.reduce(q, "mean") >= best


@pytest.mark.parametrize("name", ["cross-entropy", "nll", "lm"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_all_ignored_targets_give_mean_nan_and_sum_zero(name, smoothing):
    x = np.log(np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]))
    y = np.array([-100, -100, -100])
    g = {"weight": [1.0, 2.0]} if name != "lm" else {}
    if name == "cross-entropy":
        g["label-smoothing"] = smoothing
    p, _ = parts_of(name, x, y, g)
    assert math.isnan(L.reduce(p, "mean"))
    assert L.reduce(p, "sum") == 0.0
    assert np.asarray(L.reduce(p, "none")).tolist() == [0.0, 0.0, 0.0]
    assert p.denominator == 0.0


def test_empty_input_mean_nan_sum_zero():
    p, _ = parts_of("mse", np.zeros(0), np.zeros(0), {})
    assert math.isnan(L.reduce(p, "mean")) and L.reduce(p, "sum") == 0.0


def test_nan_propagates_without_error():
    p, _ = parts_of("mse", np.array([np.nan, 1.0]), np.array([0.0, 1.0]), {})
    assert math.isnan(p.values[0]) and p.values[1] == 0.0
    p, _ = parts_of("cross-entropy", np.array([[np.nan, 1.0], [0.0, 1.0]]), np.array([0, 1]), {})
    assert math.isnan(p.values[0]) and p.values[1] == pytest.approx(math.log1p(math.exp(-1)), rel=1e-15)


# ------------------------------------------------------------ a few exact semantics


def test_weighted_mean_is_not_mean_of_none():
    x = np.array([[2.0, 1.0], [0.0, 3.0]])
    y = np.array([0, 1])
    p, _ = parts_of("cross-entropy", x, y, {"weight": [2.0, 0.5]})
    per = p.values
    assert L.reduce(p, "mean") == pytest.approx(per.sum() / 2.5, rel=1e-15)
    assert L.reduce(p, "mean") != pytest.approx(per.mean(), rel=1e-6)


def test_soft_cross_entropy_with_one_hot_matches_index_without_weights():
    x = np.array([[2.0, 1.0, 0.5], [0.1, 0.2, 3.0]])
    a, _ = parts_of("cross-entropy", x, np.array([0, 2]), {"label-smoothing": 0.1})
    b, _ = parts_of("cross-entropy", x, np.eye(3)[[0, 2]], {"label-smoothing": 0.1})
    np.testing.assert_allclose(a.values, b.values, rtol=1e-14)


def test_huber_is_delta_times_smooth_l1_and_quantile_half_is_half_mae():
    x, y = np.array([0.3, -4.0, 2.5]), np.array([0.0, 1.0, 2.0])
    h, _ = parts_of("huber", x, y, {"delta": 2.0})
    s, _ = parts_of("smooth-l1", x, y, {"beta": 2.0})
    np.testing.assert_allclose(h.values, 2.0 * s.values, rtol=1e-15)
    q, _ = parts_of("quantile", x, y, {})
    m, _ = parts_of("l1", x, y, {})
    np.testing.assert_allclose(q.values, 0.5 * m.values, rtol=1e-15)
    z, _ = parts_of("smooth-l1", x, y, {"beta": 0})
    np.testing.assert_array_equal(z.values, m.values)


def test_hinge_example_from_the_design_notes():
    p, _ = parts_of("multi-margin", np.array([[0.5, -0.2, -0.3]]), np.array([0]), {})
    assert L.reduce(p, "mean") == pytest.approx(0.5 / 3, rel=1e-15)  # 0.1667


def test_bce_certain_wrong_answer_costs_exactly_100_and_logits_are_unclamped():
    p, _ = parts_of("bce", np.array([0.0]), np.array([1.0]), {})
    assert p.values.tolist() == [100.0]
    q, _ = parts_of("bce-with-logits", np.array([-200.0]), np.array([1.0]), {})
    assert q.values.tolist() == [200.0]


def test_lm_summary_of_the_tutorial():
    s = L.lm_summary(-math.log(0.8) - math.log(0.7), 2)
    assert s["sum"] == pytest.approx(0.5798184952529422, rel=1e-15)
    assert s["mean_nll"] == pytest.approx(0.2899092476264711, rel=1e-15)
    assert round(s["perplexity"], 4) == 1.3363
    assert s["bits_per_token"] == pytest.approx(0.2899092476264711 / math.log(2), rel=1e-15)
    assert s["tokens"] == 2
    empty = L.lm_summary(0.0, 0)
    assert math.isnan(empty["mean_nll"]) and math.isnan(empty["perplexity"])


def test_lm_per_sequence_breakdown():
    x, y, seq = L.lm_flatten([[0.5, 0.25], [0.9]])
    assert x.tolist() == [0.5, 0.25, 0.9] and y is None and seq.tolist() == [0, 0, 1]
    p, _ = parts_of("lm", x, y, {"probs": True}, {"_seq_ids": seq})
    assert p.extra["seq_tokens"].tolist() == [2, 1]
    np.testing.assert_allclose(p.extra["seq_sum"], [math.log(8), -math.log(0.9)], rtol=1e-15)
    assert p.extra["per_sequence_differs"] is True
    assert p.extra["mean_of_seq_means"] == pytest.approx((math.log(8) / 2 - math.log(0.9)) / 2, rel=1e-15)
    assert p.extra["token_mean"] == pytest.approx((math.log(8) - math.log(0.9)) / 3, rel=1e-15)
    one, _ = parts_of("lm", np.array([0.5, 0.25]), None, {"probs": True})
    assert one.extra["per_sequence_differs"] is False and "notes" not in one.extra


def test_lm_flatten_ragged_logits_with_nested_or_flat_targets():
    logits = [[[1.0, 2.0, 0.0], [0.0, 0.0, 5.0]], [[3.0, 1.0, 1.0]]]
    x, y, seq = L.lm_flatten(logits, [[1, 2], [0]])
    assert x.shape == (3, 3) and y.tolist() == [1, 2, 0] and seq.tolist() == [0, 0, 1]
    x2, y2, seq2 = L.lm_flatten(logits, [1, 2, 0])
    assert np.array_equal(x, x2) and y2.tolist() == [1, 2, 0] and seq2.tolist() == [0, 0, 1]
    x3, y3, seq3 = L.lm_flatten(logits[0], [1, 2])
    assert x3.shape == (2, 3) and seq3.tolist() == [0, 0]
    with pytest.raises(InputError, match=r"input has sequences of \[2, 1\] tokens but target has sequences of \[2, 2\]"):
        L.lm_flatten(logits, [[1, 2], [0, 1]])
    with pytest.raises(InputError, match="without a target must be per-token"):
        L.lm_flatten(logits)
    with pytest.raises(InputError, match="with target token ids, lm input must be logits"):
        L.lm_flatten([0.5, 0.2], [1, 2])


# ------------------------------------------------------------ validation messages


def usage(name, given):
    with pytest.raises(UsageError) as e:
        L.validate_options(L.get(name), given)
    return e.value


def test_option_not_taken():
    e = usage("cross-entropy", {"delta": 2.0})
    assert str(e) == "--delta is not an option of cross-entropy"
    assert e.hint == "cross-entropy takes: --probs, --weight, --ignore-index, --label-smoothing, --reduction"
    e = usage("mse", {"label_smoothing": 0.1})
    assert str(e) == "--label-smoothing is not an option of mse"
    assert e.hint == "mse takes no options besides --reduction"


def test_not_given_options_are_ignored():
    opts = L.validate_options(L.get("mse"), {"delta": None, "probs": False, "reduction": None})
    assert opts == {"reduction": "mean"}


@pytest.mark.parametrize("name, given, message", [
    ("cross-entropy", {"label-smoothing": 1.5}, "--label-smoothing must be between 0 and 1, got 1.5"),
    ("cross-entropy", {"label-smoothing": -0.1}, "--label-smoothing must be between 0 and 1, got -0.1"),
    ("cross-entropy", {"label-smoothing": "nan"}, "--label-smoothing must be between 0 and 1, got nan"),
    ("huber", {"delta": 0}, "--delta must be greater than 0, got 0"),
    ("smooth-l1", {"beta": -1}, "--beta must be 0 or more, got -1"),
    ("poisson-nll", {"eps": 0}, "--eps must be greater than 0, got 0"),
    ("gaussian-nll", {"eps": -1e-6}, "--eps must be greater than 0, got -1e-06"),
    ("quantile", {"quantile": 1}, "--quantile must be strictly between 0 and 1, got 1"),
    ("quantile", {"quantile": 0.0}, "--quantile must be strictly between 0 and 1, got 0"),
    ("multi-margin", {"p": 3}, "--p must be 1 or 2, got 3"),
    ("gaussian-nll", {"var": -1}, "--var must be 0 or more, got -1"),
    ("focal", {"gamma": -2}, "--gamma must be 0 or more, got -2"),
    ("focal", {"alpha": 1.5}, "--alpha must be in [0, 1] (or -1 to disable), got 1.5"),
    ("mse", {"reduction": "batchmean"}, "--reduction batchmean is not accepted by mse"),
    ("cross-entropy", {"reduction": "avg"}, "--reduction avg is not accepted by cross-entropy"),
    ("cross-entropy", {"ignore-index": "1.5"}, "--ignore-index expects an integer, got '1.5'"),
    ("cross-entropy", {"weight": "1,a"}, "--weight expects comma-separated numbers, got '1,a'"),
    ("kl-div", {"log-target": "maybe"}, "--log-target expects true or false, got 'maybe'"),
    ("huber", {"delta": "big"}, "--delta expects a number, got 'big'"),
])
def test_out_of_range_and_malformed_options(name, given, message):
    assert str(usage(name, given)) == message


def test_reduction_hint_lists_the_accepted_ones():
    assert usage("mse", {"reduction": "batchmean"}).hint == "mse accepts: mean, sum, none"
    assert L.validate_options(L.get("kl-div"), {"reduction": "batchmean"})["reduction"] == "batchmean"
    assert L.validate_options(L.get("kl-div"), {})["reduction"] == "mean"


def test_raw_values_are_coerced_and_defaults_filled():
    opts = L.validate_options(L.get("cross-entropy"), {
        "--label-smoothing": "0.1", "weight": "1, 2,3", "ignore_index": "-1", "probs": "true", "reduction": "SUM"})
    assert opts["label_smoothing"] == 0.1 and opts["ignore_index"] == -1 and opts["probs"] is True
    assert opts["weight"].tolist() == [1.0, 2.0, 3.0] and opts["reduction"] == "sum"
    d = L.validate_options(L.get("poisson-nll"), {"log-input": "false"})
    assert d == {"log_input": False, "full": False, "eps": 1e-8, "reduction": "mean"}
    assert L.validate_options(L.get("bce-with-logits"), {"pos-weight": 3})["pos_weight"].tolist() == [3.0]


def test_unknown_loss_suggests_the_closest():
    with pytest.raises(UsageError) as e:
        L.get("cross-entrpy")
    assert str(e.value) == "unknown loss 'cross-entrpy'" and e.value.hint == "did you mean 'cross-entropy'?"


def fn_error(name, x, y, given=None, extra=None):
    with pytest.raises(InputError) as e:
        parts_of(name, np.asarray(x, dtype=float), None if y is None else np.asarray(y), given or {}, extra)
    return e.value


def test_shape_mismatch_shows_both_shapes():
    e = fn_error("cross-entropy", np.zeros((3, 5)), np.zeros(4, dtype=int))
    assert str(e) == "key 'target': input has shape (3, 5) but target has shape (4,)"
    e = fn_error("mse", np.zeros(3), np.zeros(4))
    assert str(e) == "key 'target': input has shape (3,) but target has shape (4,)"


def test_class_out_of_range_names_row_and_value_counted_from_row0():
    e = fn_error("cross-entropy", np.zeros((3, 5)), [0, 7, 1], extra={"_row0": 10})
    assert str(e) == ("key 'target': row 11: target class 7 is out of range: the input has 5 classes (0..4) "
                      "and is not --ignore-index (-100)")
    e = fn_error("multi-margin", np.zeros((2, 3)), [-1, 0])
    assert str(e) == "key 'target': row 0: target class -1 is out of range: the input has 3 classes (0..2)"


def test_non_integer_class_target():
    e = fn_error("nll", np.zeros((2, 3)), [0.0, 1.5])
    assert str(e) == "key 'target': row 1: target 1.5 is not a class index (an integer)"


def test_weight_length_names_both_lengths():
    e = fn_error("cross-entropy", np.zeros((2, 3)), [0, 1], {"weight": [1, 2]})
    assert str(e) == "--weight has 2 values but the input has 3 classes"


def test_bce_probability_out_of_range():
    e = fn_error("bce", [0.5, 0.2, 1.5], [1.0, 0.0, 1.0], extra={"_row0": 100, "_source": "preds.csv"})
    assert str(e) == "preds.csv: key 'input': row 102: 1.5 is not a probability (bce needs inputs in [0, 1])"
    assert e.hint == "for logits (any real number) use bce-with-logits"


def test_negative_variance_array_and_missing_variance():
    e = fn_error("gaussian-nll", [1.0, 2.0], [1.0, 2.0], extra={"var": np.array([1.0, -0.5])})
    assert str(e) == "key 'var': row 1: variance -0.5 is negative"
    e = fn_error("gaussian-nll", [1.0, 2.0], [1.0, 2.0])
    assert str(e) == "key 'var': gaussian-nll needs a variance"


def test_soft_targets_refuse_a_nonnegative_ignore_index():
    e = fn_error("cross-entropy", [[1.0, 2.0]], [[0.5, 0.5]], {"ignore-index": 0})
    assert str(e) == ("key 'target': --ignore-index 0 cannot be used with probability targets "
                      "(PyTorch refuses it too)")
    p, _ = parts_of("cross-entropy", np.array([[1.0, 2.0]]), np.array([[0.5, 0.5]]), {"ignore-index": -1})
    assert p.denominator == 1.0


def test_probs_rows_not_summing_to_one_warn_and_are_not_renormalised():
    x = np.array([[0.5, 0.3], [0.2, 0.8], [0.6, 0.6]])
    p, _ = parts_of("cross-entropy", x, np.array([0, 1, 0]), {"probs": True}, {"_row0": 5})
    assert p.values.tolist() == pytest.approx([-math.log(0.5), -math.log(0.8), -math.log(0.6)], rel=1e-15)
    assert p.extra["warnings"] == [
        "2 probability rows do not sum to 1: row 5 (sum 0.8), row 7 (sum 1.2); "
        "they were used as given, not renormalised"
    ]
    ok, _ = parts_of("cross-entropy", np.array([[0.25, 0.75]]), np.array([1]), {"probs": True})
    assert "warnings" not in ok.extra
    e = fn_error("cross-entropy", [[0.5, -0.5]], [0], {"probs": True})
    assert str(e) == "key 'input': row 0: probability -0.5 (class 1) is outside [0, 1]"


def test_lm_positive_log_probability_suggests_probs():
    e = fn_error("lm", [-0.2, 0.7], None)
    assert str(e) == "key 'input': token 1: log-probability 0.7 is positive"
    assert e.hint == "add --probs if the input holds probabilities"


def test_nll_refuses_probability_targets():
    e = fn_error("nll", np.zeros((2, 3)), np.full((2, 3), 1 / 3))
    assert str(e) == "key 'target': nll takes class indices, but target has the input's shape (2, 3)"
    assert e.hint == "for probability targets use cross-entropy"
