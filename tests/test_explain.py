"""--explain text: the tutorial's own numbers appear, and every loss is explained."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lossctl import losses as L
from lossctl.explain import explain, f2, f4

DATA = Path(__file__).parent / "data" / "oracle-losses.jsonl"
CASES = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(name, x, y, given=None, **extra):
    spec = L.get(name)
    opts = L.validate_options(spec, given or {})
    opts.update(extra)
    if spec.name == "lm":
        x, y, seq = L.lm_flatten(x, y)
        opts["_seq_ids"] = seq
    x = np.asarray(x, dtype=np.float64)
    y = None if y is None else np.asarray(y)
    parts = spec.fn(x, y, opts)
    text = "\n".join(explain(spec, x, y, opts, opts["reduction"], parts))
    return text


# ------------------------------------------------------------ the tutorial's examples


def test_tutorial_cross_entropy_right_answer():
    text = run("cross-entropy", [[0.1, 0.1, 0.6, 0.1, 0.1]], [2], {"probs": True})
    assert "row 0 (target 2): -log(p[2]) = -log(0.6) = 0.51" in text
    assert text.endswith("loss (mean) = 0.5108")


def test_tutorial_cross_entropy_wrong_answer():
    text = run("cross-entropy", [[0.1, 0.6, 0.1, 0.1, 0.1]], [2], {"probs": True})
    assert "-log(0.1) = 2.30" in text
    assert text.endswith("loss (mean) = 2.3026")


def test_tutorial_mse_house_price():
    text = run("mse", [90.0], [100.0])
    assert "row 0: (x - y)² = (90 - 100)² = 100" in text
    assert text.endswith("loss (mean) = 100")


def test_tutorial_language_model_sum():
    text = run("lm", [0.8, 0.7], [], {"probs": True, "reduction": "sum"})
    assert "token 0: -log(0.8) = 0.22" in text
    assert "token 1: -log(0.7) = 0.36" in text
    assert "sum = 0.22 + 0.36 = 0.58" in text
    assert "loss (sum) = 0.5798" in text
    assert "perplexity = exp(0.2899) = 1.3363" in text
    assert "bits per token = 0.2899 / ln 2 = 0.4183" in text


def test_tutorial_language_model_mean():
    text = run("lm", [0.8, 0.7], None, {"probs": True})
    # the tutorial's total first (总 Loss = 0.22 + 0.36 = 0.58), then the mean over tokens
    assert "\nsum = 0.22 + 0.36 = 0.58\nmean = (0.22 + 0.36) / 2 = 0.29  (divided by the number of tokens" in text
    assert "loss (mean) = 0.2899" in text


@pytest.mark.parametrize("logits, value", [([2.0, 1.0, 0.5], "0.4644"), ([5.0, 1.0, 0.5], "0.0290")])
def test_tutorial_code_example_shows_the_true_values(logits, value):
    text = run("cross-entropy", [logits], [0])
    lead = "2" if logits[0] == 2.0 else "5"
    assert f"row 0 (target 0): logsumexp([{lead}, 1, 0.5]) - {lead} = {value}" in text
    assert text.endswith(f"loss (mean) = {value}")
    # the tutorial's printed values are wrong; they must never appear
    assert "0.4076" not in text and "0.0159" not in text


# ------------------------------------------------------------ every loss, every option path


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_every_oracle_case_is_explained_with_its_result(case):
    extra = {"var": np.asarray(case["var"])} if "var" in case else {}
    text = run(case["loss"], case["input"], case["target"], case["options"], **extra)
    lines = text.splitlines()
    spec = L.get(case["loss"])
    assert lines[0] == f"{spec.name}: {spec.summary}"
    assert lines[1] == f"formula: loss = {spec.formula}"
    red = case["options"].get("reduction", spec.default_reduction)
    exp = case["expected"]
    if isinstance(exp, list):
        flat = np.asarray(exp, dtype=float).reshape(-1)
        assert any(line.startswith(f"loss (none) = [{f4(flat[0])}, ") for line in lines)
    else:
        assert f"loss ({red}) = {f4(exp)}" in lines
    # the first row's step line carries that row's own value (2 or 4 decimals)
    assert any(line.startswith(("row 0", "token 0")) for line in lines)


def test_all_registry_losses_have_a_dedicated_explanation():
    from lossctl.explain import _STEPS

    assert set(_STEPS) == set(L.names())


def test_weighted_mean_names_its_denominator():
    text = run("cross-entropy", [[2.0, 1.0], [0.0, 3.0]], [0, 1], {"weight": [2, 0.5]})
    assert "× weight[0] 2 = 0.63" in text  # (logsumexp(2,1) - 2) · 2 = 0.6265
    assert "/ 2.50 = " in text
    assert "(divided by Σ weight[target] over the non-ignored rows)" in text


def test_ignored_rows_and_all_ignored_mean():
    text = run("cross-entropy", [[2.0, 1.0], [0.0, 3.0]], [-100, -100])
    assert "row 0: target -100 is --ignore-index: skipped (adds 0, not counted in the mean)" in text
    assert "mean = (0 + 0) / 0 = nan  (every target is ignored" in text
    assert text.endswith("loss (mean) = nan")


def test_label_smoothing_steps_show_both_terms():
    # logsumexp([2, 1, 0.5]) - 2 = 0.4644; Σ_c -log p[c] = 0.4644 + 1.4644 + 1.9644 = 3.8931
    text = run("cross-entropy", [[2.0, 1.0, 0.5]], [0], {"label-smoothing": 0.1})
    assert "(1 - 0.1)·0.46 + 0.1/3·3.89 = " in text
    expected = 0.9 * 0.46436878 + 0.1 / 3 * 3.89310635
    assert f"loss (mean) = {f4(expected)}" in text


def test_kl_mean_warns_that_batchmean_is_the_kl():
    text = run("kl-div", [[-0.5, -1.0]], [[0.6, 0.4]])
    assert "note: mean divides by every element; --reduction batchmean gives the true KL divergence" in text


def test_lm_two_sequences_say_which_mean_is_printed():
    text = run("lm", [[0.5, 0.25], [0.9]], None, {"probs": True})
    # token mean = (ln2 + ln4 - ln0.9) / 3 = 0.7283; per-sequence means 1.0397 and 0.1054 -> 0.5725
    assert "mean of per-sequence means (0.5725) is not the token mean (0.7283)" in text
    assert "token 0 (sequence 0): -log(0.5) = 0.69" in text


def test_formats():
    assert f2(0.5108256) == "0.51" and f2(100.0) == "100" and f2(4.2e-18) == "4.2e-18"
    assert f4(0.02900003978) == "0.0290" and f4(float("nan")) == "nan" and f4(float("inf")) == "inf"


# ------------------------------------------------------------ any valid case of any loss

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_losses_properties import make_case  # noqa: E402


@pytest.mark.parametrize("name", L.names())
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_explanation_agrees_with_the_computed_loss(name, reduction, data):
    x, y, g, extra = make_case(name, data)
    spec = L.get(name)
    opts = L.validate_options(spec, {**g, "reduction": reduction})
    opts.update(extra, _row0=40)
    parts = spec.fn(x, y, opts)
    lines = explain(spec, x, y, opts, reduction, parts, max_rows=2)
    value = L.reduce(parts, reduction)
    if reduction == "none":
        flat = np.asarray(value).reshape(-1)
        assert any(ln.startswith(f"loss (none) = [{f4(flat[0])}") for ln in lines)
    else:
        assert f"loss ({reduction}) = {f4(value)}" in lines
    first = "token 40" if name == "lm" else "row 40"
    steps = [ln for ln in lines if ln.startswith(first)]
    assert steps, lines  # rows are numbered from _row0
    flat = np.asarray(parts.values, dtype=float).reshape(-1)
    assert steps[0].endswith((f"= {f2(flat[0])}", f"= {f4(flat[0])}", "not counted)", "not counted in the mean)"))
    assert sum(1 for ln in lines if ln.startswith(("row ", "token "))) == min(2, flat.size)


def test_small_step_values_keep_two_significant_digits():
    # focal on confident predictions: the step and mean lines must not round to 0.01 / 0.00
    text = run("focal", [3.0, -2.0], [1.0, 0.0])
    assert "mean = (2.7e-05 + 0.0014) / 2 = 0.00069  (divided by the number of elements)" in text


def test_common_abbreviations_of_cross_entropy():
    for name in ("ce", "CE", "xent", "cross_entropy"):  # ("crossentropy" is a misspelling: a suggestion)
        assert L.get(name).name == "cross-entropy"
