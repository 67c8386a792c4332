"""The chart renderables (lossctl.charts): golden pictures and properties.

Golden files live in tests/golden/charts/*.txt and are compared exactly. To
regenerate them after a deliberate change: ``LOSSCTL_REGEN_GOLDEN=1 pytest
tests/test_charts.py tests/test_plot_cli.py`` — then look at every changed picture.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from conftest import ROOT, SHARED
from lossctl.charts import (
    TUTORIAL_SCALE,
    BarChart,
    LineChart,
    Series,
    Sparkline,
    bucket_points,
    format_value,
    log_ticks,
    nice_ticks,
    tb_smooth,
)

GOLDEN = ROOT / "tests" / "golden" / "charts"
NAN, INF = float("nan"), float("inf")
TUTORIAL_EPOCHS = [f"Epoch {i}" for i in range(1, 6)]
TUTORIAL_LOSSES = [2.5, 1.8, 1.2, 0.8, 0.5]
# the five lines of the tutorial's "训练过程中的 Loss" block, as printed there
TUTORIAL_BLOCK = """\
Epoch 1: Loss = 2.5  ████████████████████████████████████
Epoch 2: Loss = 1.8  ██████████████████████████
Epoch 3: Loss = 1.2  █████████████████
Epoch 4: Loss = 0.8  ████████████
Epoch 5: Loss = 0.5  ███████
"""


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LOSSCTL_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden {path}; run with LOSSCTL_REGEN_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from the golden file:\n{text}\n--- expected ---\n{expected}"


# ------------------------------------------------------------------ the tutorial's three curves
# Deterministic (no random numbers) so the goldens are stable everywhere.

STEPS = np.arange(0, 1001, 10, dtype=float)


def normal_convergence():
    """Loss falls fast, then flattens: 'Loss 平稳下降并收敛'."""
    return STEPS, 0.35 + 2.2 * np.exp(-STEPS / 180.0)


def overfitting():
    """Train keeps falling; eval falls, bottoms out, then climbs: '验证 Loss 开始上升'."""
    train = 0.25 + 2.3 * np.exp(-STEPS / 220.0)
    val = 0.75 + 1.85 * np.exp(-STEPS / 170.0) + 1.1 * np.clip((STEPS - 350.0) / 650.0, 0, None) ** 1.4
    return STEPS, train, val


def lr_too_high():
    """Loss swings up and down and never settles: 'Loss 震荡不收敛'."""
    return STEPS, 1.7 + 0.7 * np.sin(2 * np.pi * STEPS / 330.0) + 0.2 * np.sin(2 * np.pi * STEPS / 47.0)


def lines_of(text: str) -> list[str]:
    return text.splitlines()


# ------------------------------------------------------------------ bar chart


def test_tutorial_bar_chart_whole_cells_is_the_tutorial_verbatim():
    chart = BarChart(TUTORIAL_EPOCHS, TUTORIAL_LOSSES, fractional=False)
    assert chart.to_text(80) == TUTORIAL_BLOCK


def test_the_tutorial_block_is_what_the_tutorial_says():
    tutorial = SHARED / "seed" / "loss-function-tutorial.zh.md"
    if not tutorial.exists():
        pytest.skip("shared tutorial not available")
    text = tutorial.read_text(encoding="utf-8")
    found = "\n".join(l for l in text.splitlines() if l.startswith("Epoch ")) + "\n"
    assert found == TUTORIAL_BLOCK


def test_tutorial_scale_cells():
    # 14.4 cells per unit: 2.5→36, 1.8→26, 1.2→17, 0.8→12, 0.5→7 (whole cells)
    chart = BarChart(TUTORIAL_EPOCHS, TUTORIAL_LOSSES, fractional=False)
    bars = [l.split("  ")[1] for l in lines_of(chart.to_text(80))]
    assert [len(b) for b in bars] == [36, 26, 17, 12, 7]
    assert TUTORIAL_SCALE == 14.4


def test_tutorial_bar_chart_default_eighths_golden():
    text = BarChart(TUTORIAL_EPOCHS, TUTORIAL_LOSSES).to_text(80)
    # nearest eighth of 14.4·v cells: 36, 25 7/8, 17 2/8, 11 4/8, 7 2/8
    assert [l.split("  ")[1] for l in lines_of(text)] == [
        "█" * 36,
        "█" * 25 + "▉",
        "█" * 17 + "▎",
        "█" * 11 + "▌",
        "█" * 7 + "▎",
    ]
    check_golden("tutorial-bar.txt", text)


def test_tutorial_bar_chart_scales_down_linearly_to_fit():
    text = BarChart(TUTORIAL_EPOCHS, TUTORIAL_LOSSES, fractional=False).to_text(40)
    check_golden("tutorial-bar-40.txt", text)
    bars = [len(l.split("  ")[1]) for l in lines_of(text)]
    # 40 - 19 (label) - 2 (gap) = 19 cells for 2.5: 7.6 cells per unit
    assert bars == [round(v * 19 / 2.5) for v in TUTORIAL_LOSSES] == [19, 14, 9, 6, 4]
    assert max(len(l) for l in lines_of(text)) <= 40


def test_tutorial_bar_chart_ascii_golden():
    text = BarChart(TUTORIAL_EPOCHS, TUTORIAL_LOSSES, ascii=True).to_text(80)
    assert text.isascii()
    assert lines_of(text)[0] == "Epoch 1: Loss = 2.5  " + "#" * 36
    check_golden("tutorial-bar-ascii.txt", text)


def test_bar_nan_and_inf_have_no_bar_and_labels_align():
    text = BarChart(["Epoch 1", "Epoch 2", "Epoch 3", "Epoch 4"], [2.5, NAN, INF, 0.25]).to_text(80)
    assert lines_of(text) == [
        "Epoch 1: Loss = 2.5   " + "█" * 36,
        "Epoch 2: Loss = nan",
        "Epoch 3: Loss = inf",
        "Epoch 4: Loss = 0.25  " + "█" * 3 + "▋",  # 3.6 cells = 3 5/8
    ]


def test_bar_small_values_grow_to_a_readable_length():
    text = BarChart(["a", "b"], [0.02, 0.01]).to_text(80)
    assert [l.split("  ")[1] for l in lines_of(text)] == ["█" * 20, "█" * 10]


def test_bar_negative_values_golden():
    text = BarChart(["a", "b", "c", "d"], [1.0, -0.5, 0.0, -2.0]).to_text(60)
    check_golden("bar-negative.txt", text)
    rows = lines_of(text)
    zero_col = {r.index("│") for r in rows}
    assert len(zero_col) == 1  # one zero line
    assert rows[3].split("│")[0].endswith("█" * 28 + "")  # -2.0 → 28.8 cells → 28 + half
    assert "▐" in rows[3]


def test_bar_from_points_one_row_per_epoch():
    chart = BarChart.from_points([1, 2, 3, 10], [2.5, 1.8, 1.2, 0.5], x_name="Epoch")
    assert [l.split(":")[0] for l in lines_of(chart.to_text(80))] == [
        "Epoch  1",
        "Epoch  2",
        "Epoch  3",
        "Epoch 10",
    ]


def test_bucketing_many_steps_uses_means_golden():
    x = np.arange(0, 1000, dtype=float)
    y = 0.5 + 2.0 * np.exp(-x / 300.0)
    y[250] = NAN
    chart = BarChart.from_points(x, y, x_name="Step", max_rows=10)
    text = chart.to_text(80)
    check_golden("bar-buckets.txt", text)
    rows = lines_of(text)
    assert len(rows) == 10
    assert rows[0].startswith("Step    0-99: Loss = 2.204 ")
    assert rows[9].startswith("Step 900-999: Loss = ")
    assert rows[2].endswith("1 nan/inf")
    # value = mean of the finite values of the bucket
    assert rows[1].split("= ")[1].split()[0] == format_value(np.mean(y[100:200]), 4) == "1.721"


def test_bucket_points_sizes_and_empty_buckets():
    starts, ends, values, n, bad, integral = bucket_points([0, 1, 2, 250, 251], [1, 2, 3, 4, NAN], max_rows=30)
    assert integral
    assert (starts[0], ends[0], starts[1]) == (0, 9, 10)  # size 10: 26 buckets
    assert len(starts) == 26
    assert values[0] == 2.0 and n[0] == 3
    assert n[1] == 0 and math.isnan(values[1])
    assert values[25] == 4.0 and bad[25] == 1


# ------------------------------------------------------------------ value formatting and ticks


@pytest.mark.parametrize(
    "v, text",
    [(2.5, "2.5"), (2.0, "2"), (0.1, "0.1"), (1e-5, "1e-05"), (2.157, "2.157"), (1 / 3, "0.333333"),
     (NAN, "nan"), (-INF, "-inf"), (-0.5, "-0.5"), (0.0, "0"), (123456.0, "123456")],
)
def test_format_value_shortest_faithful(v, text):
    assert format_value(v) == text


def test_nice_ticks_are_1_2_5_multiples():
    assert nice_ticks(0.3, 2.5, 5) == [0.5, 1.0, 1.5, 2.0, 2.5]
    assert nice_ticks(0, 1000, 6) == [0, 200, 400, 600, 800, 1000]
    for t in nice_ticks(-3.7, 12.1, 6):
        m = abs(t) / 10 ** math.floor(math.log10(abs(t))) if t else 0
        assert round(m, 9) in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)


def test_log_ticks_are_powers_of_ten():
    assert log_ticks(0.0005, 3.0) == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])
    assert log_ticks(0.3, 2.5) == pytest.approx([0.5, 1.0, 2.0])


def test_logy_chart_labels_1e_minus_3_1e_minus_2():
    x = np.arange(1, 5001, dtype=float)
    y = 3.0 * x**-1.0  # 3 .. 6e-4
    text = LineChart([Series(x, y, "train")], logy=True, height=14, x_label="Step", y_label="Loss").to_text(70)
    check_golden("line-logy.txt", text)
    labels = [l.split("┤")[0].strip() for l in lines_of(text) if "┤" in l]
    assert labels == ["1", "1e-1", "1e-2", "1e-3"]
    assert not re.search(r"10\^", text)


def test_logy_automatic_for_wide_ranges_only():
    x = np.arange(1, 5001, dtype=float)
    wide = LineChart([Series(x, 3.0 / x, "t")], height=14).to_text(70)
    narrow = LineChart([Series(x, 0.5 + 2.0 / x, "t")], height=14).to_text(70)
    assert "1e-3" in wide
    assert "1e-" not in narrow and "2.5┤" in narrow
    forced_off = LineChart([Series(x, 3.0 / x, "t")], height=14, logy=False).to_text(70)
    assert "1e-" not in forced_off


# ------------------------------------------------------------------ smoothing


def test_tb_smooth_exact_small_series():
    # by hand, w = 0.6: last = 0.4, 1.04, 1.824; debias 0.4, 0.64, 0.784
    got = tb_smooth([1.0, 2.0, 3.0], 0.6)
    assert got.tolist() == pytest.approx([1.0, 1.625, 1.824 / 0.784], rel=1e-15)


def test_tb_smooth_skips_non_finite_and_keeps_constants():
    got = tb_smooth([1.0, NAN, 2.0, INF], 0.5)
    assert got[0] == 1.0 and math.isnan(got[1]) and got[3] == INF
    # 2nd finite value: last = 0.25 + 1.0 = 1.25, debias 0.75
    assert got[2] == pytest.approx(1.25 / 0.75, rel=1e-15)
    assert tb_smooth([3.0, 3.0, 3.0], 0.9).tolist() == [3.0, 3.0, 3.0]
    assert tb_smooth([1.0, 5.0], 0.0).tolist() == [1.0, 5.0]
    with pytest.raises(ValueError):
        tb_smooth([1.0], 1.0)


def _tb_reference(values, w):
    last, n, out = 0.0, 0, []
    const = all(v == values[0] for v in values)
    for v in values:
        if const or not math.isfinite(v):
            out.append(v)
            continue
        last = last * w + (1 - w) * v
        n += 1
        out.append(last / (1 - w**n))
    return out


@pytest.mark.parametrize("w", [0.01, 0.6, 0.9, 0.999])
def test_tb_smooth_long_series_blockwise_matches_the_loop(w):
    rng = np.random.default_rng(7)
    y = 2.0 + rng.standard_normal(10_000)
    y[rng.integers(0, y.size, 50)] = NAN
    got = tb_smooth(y, w)
    ref = _tb_reference(y.tolist(), w)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_smoothed_chart_golden_keeps_raw_faint():
    x = np.arange(0, 400, dtype=float)
    y = 0.4 + 2.0 * np.exp(-x / 80.0) + 0.3 * np.sin(x * 1.7) * np.sin(x * 0.37)
    for glyphs in ("braille", "ascii"):
        chart = LineChart([Series(x, y, "train")], smooth=0.9, glyphs=glyphs, height=14, x_label="Step", y_label="Loss")
        text = chart.to_text(72)
        check_golden(f"line-smooth-{glyphs}.txt", text)
        assert "EMA 0.9" in text
    assert "raw ." in text and "." in text.split("Step")[0] and "*" in text
    # smooth=True is TensorBoard's default weight
    assert "EMA 0.6" in LineChart([Series(x, y, "train")], smooth=True).to_text(72)
    # the raw layer comes out dim in colour
    console = Console(width=72, force_terminal=True, color_system="standard")
    with console.capture() as cap:
        console.print(LineChart([Series(x, y, "train")], smooth=True, height=14))
    assert "\x1b[2;36m" in cap.get()


# ------------------------------------------------------------------ the tutorial's three curves


@pytest.mark.parametrize("glyphs", ["braille", "ascii"])
def test_normal_convergence_golden(glyphs):
    x, y = normal_convergence()
    text = LineChart([Series(x, y, "train")], glyphs=glyphs, height=14, x_label="Step", y_label="Loss").to_text(72)
    check_golden(f"normal-convergence-{glyphs}.txt", text)
    if glyphs == "ascii":
        rows = lines_of(text)[1:11]  # y label, 10 plot rows, axis, labels, legend
        # falls from the top-left corner to the bottom rows and stays there
        assert "*" in rows[0][:8] and "*" not in rows[0][20:]
        assert rows[-1].rstrip().endswith("*")


@pytest.mark.parametrize("glyphs", ["braille", "ascii"])
def test_overfitting_golden(glyphs):
    x, tr, ev = overfitting()
    chart = LineChart(
        [Series(x, tr, "train"), Series(x, ev, "eval")], glyphs=glyphs, height=14, x_label="Step", y_label="Loss"
    )
    text = chart.to_text(72)
    check_golden(f"overfitting-{glyphs}.txt", text)
    if glyphs == "ascii":
        plot = lines_of(text)[1:11]
        col = lambda row, m: [i for i, ch in enumerate(row) if ch == m]
        # eval ('o') ends higher than it was in the middle; train ('*') ends on the bottom row
        eval_rows = [r for r, row in enumerate(plot) if "o" in row[-5:]]
        mid_rows = [r for r, row in enumerate(plot) if "o" in row[30:36]]
        assert min(eval_rows) < max(mid_rows)
        assert "*" in plot[-1][-5:]
        assert lines_of(text)[-1].strip() == "* train   o eval"
    else:
        assert "─── train   - - eval" in text


@pytest.mark.parametrize("glyphs", ["braille", "ascii"])
def test_lr_too_high_golden(glyphs):
    x, y = lr_too_high()
    text = LineChart([Series(x, y, "train")], glyphs=glyphs, height=14, x_label="Step", y_label="Loss").to_text(72)
    check_golden(f"lr-too-high-{glyphs}.txt", text)
    if glyphs == "ascii":
        plot = lines_of(text)[1:11]
        top_hits = len(re.findall(r"\*+", plot[0]))
        bottom_hits = len(re.findall(r"\*+", plot[-1]))
        assert top_hits >= 3 and bottom_hits >= 3  # it keeps swinging


def test_block_glyphs_golden():
    x, tr, ev = overfitting()
    text = LineChart([Series(x, tr, "train"), Series(x, ev, "eval")], glyphs="block", height=14,
                     x_label="Step", y_label="Loss").to_text(72)
    check_golden("overfitting-block.txt", text)
    assert set(text) & set("▘▝▀▖▌▞▛▗▚▐▜▄▙▟█")


# ------------------------------------------------------------------ edge cases


def test_single_point():
    text = LineChart([Series([5.0], [2.5], "one")], height=8, x_label="Step").to_text(50)
    check_golden("edge-single-point.txt", text)
    assert "2.5┤" in text
    assert lines_of(text)[-2].strip().startswith("5")


def test_constant_series():
    text = LineChart([Series(None, [1.0] * 10, "c")], height=8, ascii=True).to_text(50)
    rows = lines_of(text)
    marked = [r for r in rows if "*" in r and "+" in r]
    assert len(marked) == 1 and marked[0].startswith("1+") and marked[0].count("*") == 48  # 50 - "1+"


def test_all_nan_marks_every_column():
    text = LineChart([Series(None, [NAN] * 5, "n")], height=8, ascii=True).to_text(50)
    check_golden("edge-all-nan.txt", text)
    axis = lines_of(text)[-3]
    assert axis.count("!") == 5
    assert "! nan/inf" in lines_of(text)[-1]


def test_inf_is_a_gap_marked_on_the_axis():
    y = [3.0, 2.0, INF, 1.5, NAN, 1.2, 1.1]
    text = LineChart([Series(None, y, "t")], height=10, ascii=True).to_text(50)
    check_golden("edge-inf-gap.txt", text)
    axis = lines_of(text)[-3]
    assert axis.count("!") == 2
    # columns of x=2 and x=4 (x 0..6 over 48 plot columns)
    start = axis.index("+")
    assert [i - start - 1 for i, ch in enumerate(axis) if ch == "!"] == [round(2 / 6 * 47), round(4 / 6 * 47)]


def test_negative_values_line():
    text = LineChart([Series(None, np.linspace(-3, 2, 50), "neg")], height=10, ascii=True).to_text(50)
    labels = [l.split("+")[0].strip() for l in lines_of(text) if re.match(r"^\s*-?\d+\+", l)]
    assert labels == ["2", "0", "-2"]  # 7 plot rows: at most 3 ticks, 2 rows apart


def test_million_points_keep_the_spike():
    x = np.arange(1_000_000, dtype=float)
    y = 2.0 * np.exp(-x / 200_000.0) + 0.1
    y[654_321] = 40.0  # one step spikes
    text = LineChart([Series(x, y, "train")], height=12, width=100, ascii=True, logy=False).to_text()
    rows = lines_of(text)
    assert len(rows) == 12 and max(len(r) for r in rows) <= 100
    top = rows[0]
    assert top.startswith("40+")
    spike_col = top.index("*") - 3  # plot columns start after "40+"
    assert spike_col == round(654_321 / 999_999 * (100 - 3 - 1))  # 97 columns: 0..96
    assert "900k" in rows[-2]


def test_empty_and_mismatched_input():
    assert LineChart([Series([], [], "e")], height=6).to_text(40).count("\n") == 6
    with pytest.raises(ValueError, match="3 x values but 2 y values"):
        LineChart([Series([1, 2, 3], [1, 2], "bad")])
    with pytest.raises(ValueError):
        LineChart([], glyphs="dots")
    with pytest.raises(ValueError):
        BarChart(["a"], [1, 2])


# ------------------------------------------------------------------ widths, heights, ASCII


def _shapes():
    x, tr, ev = overfitting()
    return [Series(x, tr, "train"), Series(x, ev, "eval")]


@pytest.mark.parametrize("glyphs", ["ascii", "braille", "block"])
def test_every_width_40_to_200_fits_exactly(glyphs):
    series = _shapes()
    for w in range(40, 201):
        chart = LineChart(series, glyphs=glyphs, height=12, x_label="Step", y_label="Loss")
        lines = chart._lines(w, glyphs == "ascii")
        assert len(lines) == 12
        widths = [sum(cell_len(t) for t, _ in line) for line in lines]
        assert max(widths) <= w, (w, widths)
        # the x axis spans the whole width
        assert widths[-3] == w
        text = chart.to_text(w)
        assert max(cell_len(l) for l in lines_of(text)) <= w
        if glyphs == "ascii":
            assert text.isascii()


def test_every_width_40_to_200_bar_and_spark():
    x = np.arange(0, 500, dtype=float)
    y = 1 + np.exp(-x / 100)
    for w in range(40, 201):
        for ascii in (False, True):
            text = BarChart.from_points(x, y, ascii=ascii).to_text(w)
            assert max(cell_len(l) for l in lines_of(text)) <= w
            s = Sparkline(y, width=w, ascii=ascii).to_text()
            assert cell_len(s.rstrip("\n")) == w
            if ascii:
                assert text.isascii() and s.isascii()


@pytest.mark.parametrize("h", [5, 8, 15, 30])
def test_height_is_exact(h):
    for chart in (
        LineChart(_shapes(), height=h, x_label="Step", y_label="Loss"),
        LineChart(_shapes(), height=h),
    ):
        assert len(lines_of(chart.to_text(60))) == h


@settings(max_examples=60, deadline=None)
@given(
    ys=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64)), min_size=0, max_size=60),
    w=st.integers(min_value=40, max_value=200),
    h=st.integers(min_value=5, max_value=25),
    logy=st.sampled_from([None, True, False]),
)
def test_any_values_ascii_render_fits(ys, w, h, logy):
    text = LineChart([Series(None, ys, "a")], width=w, height=h, ascii=True, logy=logy, x_label="Step").to_text()
    assert text.isascii()
    rows = lines_of(text)
    assert len(rows) == h
    assert max(len(r) for r in rows) <= w
    bar = BarChart([str(i) for i in range(len(ys))], ys, ascii=True).to_text(w)
    assert bar.isascii() and all(len(r) <= w for r in lines_of(bar))


# ------------------------------------------------------------------ sparkline


def test_sparkline_levels_and_gaps():
    assert Sparkline(TUTORIAL_LOSSES).text() == "█▆▃▂▁"
    assert Sparkline([1, 2, NAN, 3], ascii=True).text() == "_=!#"  # 2 → level 3.5 → 4
    assert Sparkline([2.0, 2.0, 2.0]).text() == "▄▄▄"
    assert Sparkline([]).text() == ""
    # 8 values into 4 cells: means of pairs
    assert Sparkline([0, 0, 1, 1, 2, 2, 3, 3], width=4).text() == "▁▃▆█"


# ------------------------------------------------------------------ rich composition and colour


def test_renderables_compose_with_tables_and_panels():
    console = Console(width=70, color_system=None, record=True)
    table = Table("run", "curve")
    table.add_row("a", Sparkline(TUTORIAL_LOSSES))
    console.print(table)
    console.print(Panel(BarChart(TUTORIAL_EPOCHS, TUTORIAL_LOSSES, fractional=False)))
    console.print(Panel(LineChart(_shapes(), height=10)))
    out = console.export_text()
    assert "│ a   │ █▆▃▂▁ │" in out
    assert "│ Epoch 1: Loss = 2.5  " + "█" * 36 in out
    assert all(cell_len(l) <= 70 for l in out.splitlines())
    assert "\x1b[" not in out


def test_colour_only_when_the_console_has_colour():
    chart = LineChart(_shapes(), height=10)
    plain = Console(width=60, color_system=None, force_terminal=False)
    with plain.capture() as cap:
        plain.print(chart)
    assert "\x1b[" not in cap.get()
    coloured = Console(width=60, color_system="standard", force_terminal=True)
    with coloured.capture() as cap:
        coloured.print(chart)
    out = cap.get()
    assert "\x1b[36m" in out and "\x1b[35m" in out  # cyan train, magenta eval


def test_no_color_env_respected_through_lossctl_console(monkeypatch, capsys):
    from lossctl.output import console

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    console(width=60).print(BarChart(TUTORIAL_EPOCHS, TUTORIAL_LOSSES))
    out = capsys.readouterr().out
    assert "\x1b[" not in out and out.startswith("Epoch 1: Loss = 2.5")


def test_unicode_less_console_gets_ascii():
    import io

    buf = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    console = Console(file=buf, width=60, color_system=None)
    assert console.options.ascii_only
    with console.capture() as cap:
        console.print(LineChart(_shapes(), height=10))
    assert cap.get().isascii()


def test_rich_measure_of_bar_chart_is_its_natural_width():
    console = Console(width=120, color_system=None)
    table = Table.grid()
    table.add_row(BarChart(TUTORIAL_EPOCHS, TUTORIAL_LOSSES, fractional=False))
    with console.capture() as cap:
        console.print(table)
    assert max(len(l) for l in cap.get().splitlines()) == 21 + 36


def test_legend_too_long_is_cut_with_an_ellipsis():
    series = [Series(None, [1, 2, 3], f"a-rather-long-series-name-{i}") for i in range(6)]
    for ascii in (False, True):
        text = LineChart(series, height=8, ascii=ascii).to_text(60)
        legend = lines_of(text)[-1]
        assert len(legend) == 60
        assert legend.endswith("..." if ascii else "…")


def test_wide_characters_count_two_cells():
    # y label / series names / bar labels in Chinese (the tutorial's language)
    x, tr, ev = overfitting()
    chart = LineChart([Series(x, tr, "训练 Loss"), Series(x, ev, "验证 Loss")], height=10,
                      x_label="步数", y_label="损失")
    for w in (40, 41, 73):
        text = chart.to_text(w)
        assert max(cell_len(l) for l in lines_of(text)) <= w
        assert lines_of(text)[-2].endswith("步数")
    assert lines_of(chart.to_text(60))[-1].strip() == "─── 训练 Loss   - - 验证 Loss"
    bars = BarChart(["第 1 轮", "第 10 轮"], [2.5, 0.5], label_fmt="{label}: {value}").to_text(40)
    rows = lines_of(bars)
    assert [cell_len(r.split("█")[0]) for r in rows] == [15, 15]  # "第 10 轮: 0.5" is 13 cells, + 2
    assert all(cell_len(r) <= 40 for r in rows)


def test_long_tick_labels_are_never_cut():
    y = 123456.0 + np.linspace(0, 0.5, 30)
    text = LineChart([Series(None, y, "big")], height=10, ascii=True).to_text(20)  # labels of 8 cells
    labels = [l.split("+")[0].strip() for l in lines_of(text)[:-3] if "+" in l]
    assert labels and all(lab.startswith("123456") for lab in labels)


@settings(max_examples=60, deadline=None)
@given(
    ys=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=300),
    w=st.integers(min_value=1, max_value=120),
)
def test_sparkline_width_and_alphabet(ys, w):
    s = Sparkline(ys, width=w).text()
    assert len(s) == min(w, len(ys))
    assert set(s) <= set("▁▂▃▄▅▆▇█!")
    a = Sparkline(ys, width=w, ascii=True).text()
    assert len(a) == len(s) and a.isascii()
    # a cell is '!' exactly when it covers no finite value
    assert (s.count("!") == len(s)) == (not any(math.isfinite(v) for v in ys))


_EIGHTH = {ch: i for i, ch in enumerate(" ▏▎▍▌▋▊▉")}


def _bar_eighths(bar: str) -> int:
    full = bar.count("█")
    rest = bar.replace("█", "")
    return 8 * full + (_EIGHTH[rest] if rest else 0)


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(st.floats(min_value=1e-6, max_value=1e6), min_size=1, max_size=20),
    w=st.integers(min_value=40, max_value=200),
)
def test_bars_are_linear_in_the_value(values, w):
    text = BarChart([f"E{i}" for i in range(len(values))], values).to_text(w)
    rows = lines_of(text)
    lw = max(len(f"E{i}: Loss = {format_value(v)}") for i, v in enumerate(values))
    avail = w - lw - 2
    top = max(values)
    # the tutorial's 14.4 cells per unit, shrunk to fit, grown to >= 20 cells
    longest = max(min(TUTORIAL_SCALE * top, avail), min(20, avail))
    for r, v in zip(rows, values):
        assert len(r) <= w
        assert abs(_bar_eighths(r[lw + 2 :]) - v / top * longest * 8) <= 0.5 + 1e-6


def test_means_of_huge_values_do_not_overflow():
    big = 8.98846567431158e307
    *_, values, n, bad, _ = bucket_points(np.arange(40.0), np.full(40, big), max_rows=4)
    assert values.tolist() == pytest.approx([big] * 4, rel=1e-12)
    assert Sparkline([big, big, big, big], width=2).text() == "▄▄"


@pytest.mark.parametrize("ys", [[1.7976931348622103e+308], [1.7976931348623157e+308, 1e308]])
def test_values_near_the_largest_float_on_a_log_axis(ys):
    # found by hypothesis: 10**log10(v) rounded past the largest float (OverflowError)
    text = LineChart([Series(None, ys, "a")], width=40, height=5, ascii=True, logy=True, x_label="Step").to_text()
    assert all(len(line) <= 40 for line in text.splitlines())
    if len(ys) == 1:
        assert text.splitlines()[0].startswith("1.79769e+308+")  # the value itself labels a flat line
