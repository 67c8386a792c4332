"""``lossctl plot``: options, defaults, errors, and golden charts through the CLI.

Fixtures: tests/fixtures/plot/*.csv (tiny logs the csv-table format reads);
some tests also read the shared real logs when they are present.
Regenerate goldens with LOSSCTL_REGEN_GOLDEN=1 (see tests/test_charts.py).
"""

from __future__ import annotations

import pytest

from conftest import FIXTURES, REAL_LOGS
from test_charts import TUTORIAL_BLOCK, check_golden

PLOT = FIXTURES / "plot"
TUTORIAL = PLOT / "tutorial.csv"
OVERFIT = PLOT / "overfit.csv"
OSCILLATING = PLOT / "oscillating.csv"


def test_tutorial_log_draws_the_tutorial_bar_chart(cli):
    r = cli(["plot", TUTORIAL])
    assert r.code == 0, r.err
    assert r.err == ""
    check_golden("plot-tutorial.txt", r.out)
    # the default bars end in eighths; whole cells in ASCII are the tutorial's lengths
    assert r.out.splitlines()[0] == TUTORIAL_BLOCK.splitlines()[0]
    r = cli(["plot", TUTORIAL, "--ascii"])
    assert r.out == TUTORIAL_BLOCK.replace("█", "#")


def test_default_kind_is_line_for_two_splits_and_labels_epochs(cli):
    r = cli(["plot", OVERFIT, "--ascii", "--width", "72", "--height", "16"])
    assert r.code == 0, r.err
    check_golden("plot-overfit-ascii.txt", r.out)
    lines = r.out.splitlines()
    assert len(lines) == 16 and max(len(l) for l in lines) <= 72
    assert lines[0] == "Loss"
    assert lines[-2].rstrip().endswith("Epoch")
    assert lines[-1].strip() == "* train   o eval"
    assert r.out.isascii()


def test_braille_line_chart_of_the_overfitting_log(cli):
    r = cli(["plot", OVERFIT, "--kind", "line", "--width", "72"])
    assert r.code == 0
    check_golden("plot-overfit-braille.txt", r.out)
    assert len(r.out.splitlines()) == 15  # default height
    assert "─── train   - - eval" in r.out


def test_one_split_bar_chart(cli):
    r = cli(["plot", OVERFIT, "--split", "val", "--kind", "bar", "--width", "80"])
    assert r.code == 0
    lines = r.out.splitlines()
    # 40 epochs > 30 rows: buckets of 2 epochs, aligned on multiples of 2, mean of each
    assert len(lines) == 21
    assert lines[0].startswith("Epoch   0-1: Loss = 2.308 ")  # epoch 1 alone
    assert lines[1].startswith("Epoch   2-3: Loss = 1.957 ")  # (2.0614 + 1.8524) / 2


def test_bar_with_few_epochs_one_row_each(cli):
    r = cli(["plot", OVERFIT, "--split", "eval", "--kind", "bar", "--height", "40", "--width", "80"])
    lines = r.out.splitlines()
    assert len(lines) == 40
    assert lines[0].startswith("Epoch  1: Loss = 2.3083")
    assert lines[39].startswith("Epoch 40: Loss = ")


def test_spark_kind(cli):
    r = cli(["plot", OVERFIT, "--kind", "spark", "--width", "60"])
    assert r.code == 0
    # 40 points into the 26 cells left beside the names and summaries (means per cell)
    assert r.out.splitlines() == [
        "train  █▇▆▅▄▄▃▃▃▂▂▂▂▂▁▁▁▁▁▁▁▁▁▁▁▁  2.23 → 0.2155  min 0.2155",
        "eval   █▆▅▄▃▂▂▂▁▁▁▁▁▁▁▂▂▂▂▃▃▃▃▄▄▄  2.308 → 1.602  min 0.8555",
    ]


def test_nan_gap_is_marked_and_warned(cli):
    r = cli(["plot", OSCILLATING, "--ascii", "--width", "72", "--height", "14"])
    assert r.code == 0
    check_golden("plot-oscillating-ascii.txt", r.out)
    axis = r.out.splitlines()[-3]
    assert axis.count("!") == 1
    assert r.err == ("lossctl: warning: train loss: 1 NaN/inf value is not drawn "
                     "(a gap marked ! on a line chart, 'nan' on a bar chart)\n")


def test_several_files_are_series_labelled_by_file_name(cli, tmp_path):
    other = tmp_path / "second.csv"
    other.write_text("epoch,loss\n1,3.0\n2,2.0\n3,1.5\n4,1.0\n5,0.9\n")
    r = cli(["plot", TUTORIAL, other, "--ascii", "--width", "60"])
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1].strip() == "* tutorial.csv train   o second.csv train"


def test_stdin(cli):
    r = cli(["plot", "-", "--ascii"], stdin=TUTORIAL.read_text())
    assert r.code == 0, r.err
    assert r.out == TUTORIAL_BLOCK.replace("█", "#")


def test_smooth_and_logy_options(cli):
    r = cli(["plot", OSCILLATING, "--smooth", "0.9", "--ascii", "--width", "72"])
    assert r.code == 0
    assert "EMA 0.9, raw ." in r.out
    r = cli(["plot", OSCILLATING, "--logy", "--ascii", "--width", "72", "--kind", "line"])
    labels = [l.split("+")[0].strip() for l in r.out.splitlines()[1:-3] if "+" in l[:3]]
    assert labels == ["2", "1"]  # under one decade: 1-2-5 ticks, never 10^0.3
    r = cli(["plot", OSCILLATING, "--smooth", "1.5"])
    assert r.code == 2 and "--smooth weight must be in [0, 1)" in r.err


def test_metric_by_original_name(cli):
    r = cli(["plot", OVERFIT, "--metric", "val_loss", "--ascii", "--kind", "spark"])
    assert r.code == 0
    assert [l.split()[0] for l in r.out.splitlines()] == ["eval"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metric", "accuracy"], "no metric 'accuracy' in the log"),
        (["--split", "test"], "no test values of 'loss' in the log"),
        (["--split", "holdout"], "unknown --split 'holdout'"),
        (["--kind", "pie"], "unknown --kind 'pie'"),
        (["--glyphs", "dots"], "unknown --glyphs 'dots'"),
        (["--smooth", "abc"], "--smooth takes a weight between 0 and 1"),
        (["--width", "10"], "--width"),
    ],
)
def test_bad_options_exit_2_with_one_line(cli, args, message):
    r = cli(["plot", OVERFIT, *args])
    assert r.code == 2
    assert message in r.err
    assert "Traceback" not in r.err
    assert r.out == ""


def test_missing_file_and_no_file(cli):
    r = cli(["plot", PLOT / "nope.csv"])
    assert r.code == 2 and "nope.csv" in r.err
    r = cli(["plot", "-", "-"], stdin="x")
    assert r.code == 2 and "only once" in r.err


def test_help_has_examples(cli):
    r = cli(["plot", "--help"])
    assert r.code == 0
    assert "lossctl plot train.log" in r.out and "--smooth" in r.out


def test_colour_only_when_asked(cli):
    plain = cli(["plot", TUTORIAL])
    assert "\x1b[" not in plain.out
    coloured = cli(["plot", TUTORIAL], env={"FORCE_COLOR": "1"})
    assert "\x1b[36m" in coloured.out
    no = cli(["plot", TUTORIAL], env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in no.out


def test_columns_sets_the_default_width(cli):
    r = cli(["plot", OVERFIT, "--kind", "line"], env={"COLUMNS": "50"})
    assert max(len(l) for l in r.out.splitlines()) == 50


@pytest.mark.parametrize(
    "name",
    ["hf_trainer_state__01.json", "keras_csvlogger__01.log", "lightning_metrics_csv__01.csv", "hf_console__01.log"],
)
def test_real_logs_plot(cli, name):
    path = REAL_LOGS / name
    if not path.exists():
        pytest.skip("shared real logs not available")
    r = cli(["plot", path, "--ascii", "--width", "80"])
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines and all(len(l) <= 80 for l in lines)
    assert r.out.isascii()


def test_several_runs_in_one_file_are_series_with_a_note(cli, tmp_path):
    log = tmp_path / "restarts.csv"
    # the step counter restarts: two runs
    log.write_text("step,loss\n1,2.0\n2,1.5\n3,1.2\n1,2.1\n2,1.4\n3,1.0\n")
    r = cli(["plot", log, "--kind", "spark", "--width", "60"])
    assert r.code == 0, r.err
    assert [l.split("  ")[0] for l in r.out.splitlines()] == ["run 1 train", "run 2 train"]
    assert "2 runs" in r.err and "--run N" in r.err
    r = cli(["plot", log, "--kind", "spark", "--run", "2"])
    assert r.out.splitlines() == ["train  █▄▁  2.1 → 1  min 1"]  # 1.4 → level 2.5 of 7 → ▄
    assert r.err == ""


def test_many_runs_draw_the_longest_with_a_note(cli, tmp_path):
    log = tmp_path / "restarts.csv"
    # six runs (the step counter restarts each time); run 4 is the longest
    lengths = [3, 3, 4, 8, 3, 5]
    rows = ["step,loss"]
    for n in lengths:
        rows += [f"{s},{3.0 - s / 10}" for s in range(1, n + 1)]
    log.write_text("\n".join(rows) + "\n")
    r = cli(["plot", log, "--kind", "spark", "--width", "60"])
    assert r.code == 0, r.err
    assert [l.split("  ")[0] for l in r.out.splitlines()] == ["train"]
    assert "6 runs (the step counter restarts); drawing run 4, the longest" in r.err


def test_spark_rows_align(cli, tmp_path):
    other = tmp_path / "longer.csv"
    other.write_text("epoch,loss\n" + "".join(f"{e},{3 - e / 10}\n" for e in range(1, 11)))
    r = cli(["plot", TUTORIAL, other, "--kind", "spark", "--width", "80"])
    rows = r.out.splitlines()
    assert rows == [
        "tutorial.csv train  █▆▃▂▁       2.5 → 0.5  min 0.5",
        "longer.csv train    █▇▆▆▅▄▃▃▂▁  2.9 → 2  min 2",
    ]


def test_show_puts_a_chart_on_stderr_for_commands_whose_product_is_data(capsys):
    from lossctl.charts import BarChart
    from lossctl.render import show

    show([BarChart(["Epoch 1"], [2.5])], stderr=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "Epoch 1: Loss = 2.5  " + "█" * 36 + "\n"


def test_console_without_unicode_gets_ascii_charts_and_spark_rows():
    import io

    import numpy as np
    from rich.console import Console

    from lossctl.render import Curve, SparkRows, build_charts

    curve = Curve("train", np.arange(1.0, 6.0), np.array([2.5, 1.8, 1.2, 0.8, 0.5]), np.arange(1.0, 6.0), True)
    console = Console(file=io.TextIOWrapper(io.BytesIO(), encoding="ascii"), width=60, color_system=None)
    for kind in ("bar", "line", "spark"):
        with console.capture() as cap:
            for chart in build_charts([curve], metric="loss", kind=kind):
                console.print(chart)
        assert cap.get().isascii(), kind
    assert SparkRows([curve]).to_text(60) == "train  █▆▃▂▁  2.5 → 0.5  min 0.5\n"


def test_all_nan_log_and_missing_run(cli, tmp_path):
    log = tmp_path / "nan.csv"
    log.write_text("epoch,loss\n1,nan\n2,nan\n")
    r = cli(["plot", log])
    assert r.code == 0
    assert r.out == "Epoch 1: Loss = nan\nEpoch 2: Loss = nan\n"
    assert "2 NaN/inf values are not drawn" in r.err
    r = cli(["plot", log, "--kind", "line", "--ascii", "--width", "40", "--height", "8"])
    assert r.code == 0 and r.out.splitlines()[-3].count("!") == 2
    r = cli(["plot", TUTORIAL, "--run", "3"])
    assert r.code == 2 and "no run 3" in r.err
