"""``lossctl diagnose``: report, formats, directories, stdin, --fail-on, --follow, --lang."""

from __future__ import annotations

import json
import sys

import pytest


TUTORIAL_CSV = "epoch,loss\n0,2.5\n1,1.8\n2,1.2\n3,0.8\n4,0.5\n"


def _overfit_log() -> str:
    """An HF console log whose eval loss turns up after epoch 3 of 10."""
    lines = []
    for i in range(1, 101):
        loss = 0.03 + 0.3 * 0.95**i
        lines.append(f"{{'loss': {loss:.4f}, 'grad_norm': 0.5, 'learning_rate': 5e-05, 'epoch': {i / 10:.2f}}}")
        if i % 10 == 0:
            ev = [0.8, 0.62, 0.509, 0.55, 0.65, 0.78, 0.9, 1.02, 1.13, 1.232][i // 10 - 1]
            lines.append(f"{{'eval_loss': {ev}, 'eval_runtime': 1.0, 'epoch': {i / 10:.2f}}}")
    return "\n".join(lines) + "\n"


def _nan_log() -> str:
    lines = [f"{{'loss': {2 - i * 0.02:.4f}, 'grad_norm': 0.8, 'learning_rate': 2e-4, 'epoch': {i / 40:.3f}}}" for i in range(30)]
    lines += [f"{{'loss': 0.0, 'grad_norm': nan, 'learning_rate': 2e-4, 'epoch': {i / 40:.3f}}}" for i in range(30, 40)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def logs(tmp_path):
    (tmp_path / "tutorial.csv").write_text(TUTORIAL_CSV)
    (tmp_path / "overfit.log").write_text(_overfit_log())
    (tmp_path / "nan.log").write_text(_nan_log())
    return tmp_path


def test_table_report_for_the_tutorial_example(cli, logs):
    r = cli(["diagnose", logs / "tutorial.csv"])
    assert r.code == 0, r.err
    out = r.out
    assert "verdict: converging  (confidence: high)" in out
    assert "正常训练" in out and 'picture "normal training"' in out
    assert "the loss fell 2.5 → 0.65 (-74%; medians of the first 10% and the last 25% of the points)" in out and "noise σ 0 (0% of the level" in out
    assert "num_train_epochs: 5 → 10  (train longer: the loss is still falling)" in out  # epochs 0..4 = 5
    assert "still-improving" in out
    assert "loss curve:" in out and "Epoch" in out and "Loss" in out  # the chart
    assert r.err == ""


def test_json_for_overfitting(cli, logs):
    r = cli(["diagnose", logs / "overfit.log", "--format", "json"])
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert obj["verdict"] == "overfitting" and obj["confidence"] == "high" and obj["picture"] == "overfitting"
    assert obj["best_step"] == 30
    assert obj["evidence"]["eval_best"] == 0.509 and obj["evidence"]["eval_best_epoch"] == 3
    assert "eval loss min 0.509 at step 30 (epoch 3); last 1.232 (+142%)" in obj["summary"]
    params = {(x["param"], x["framework"]): x for x in obj["recommendations"]}
    assert params[("callbacks", "hf")]["suggested"] == "EarlyStoppingCallback(early_stopping_patience=3)"
    assert params[("num_train_epochs", "hf")]["suggested"] == 3
    assert params[("load_best_model_at_end", "hf")]["suggested"] is True


def test_fail_on_exits_1_with_a_message(cli, logs):
    r = cli(["diagnose", logs / "overfit.log", "--fail-on", "overfitting,diverged"])
    assert r.code == 1
    assert "verdict overfitting for" in r.err and "--fail-on diverged,overfitting" in r.err
    assert "verdict: overfitting" in r.out  # the report is still printed
    assert cli(["diagnose", logs / "tutorial.csv", "--fail-on", "overfitting,diverged"]).code == 0


def test_fail_on_unknown_verdict_is_a_usage_error(cli, logs):
    r = cli(["diagnose", logs / "tutorial.csv", "--fail-on", "overfit"])
    assert r.code == 2
    assert "unknown verdict in --fail-on: overfit" in r.err and "hint: choose among: diverged" in r.err


def test_hidden_nans_in_chinese(cli, logs):
    r = cli(["diagnose", logs / "nan.log", "--lang", "zh"])
    assert r.code == 0, r.err
    assert "结论: diverged — 发散（NaN/inf 或爆炸）" in r.out
    assert "隐藏的 NaN" in r.out and "logging_nan_inf_filter=False" in r.out and "bf16=True" in r.out
    assert "最接近「学习率太大」" in r.out


def test_directory_rows_sorted_by_severity_as_ndjson(cli, logs):
    r = cli(["diagnose", logs, "--format", "ndjson"])
    assert r.code == 0, r.err
    objs = [json.loads(line) for line in r.out.splitlines()]
    assert [(o["source"], o["verdict"]) for o in objs] == [
        ("nan.log", "diverged"), ("overfit.log", "overfitting"), ("tutorial.csv", "converging")
    ]


def test_directory_table_and_csv(cli, logs):
    r = cli(["diagnose", logs])
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split()[:4] == ["source", "run", "verdict", "confidence"]
    assert [ln.split()[0] for ln in lines[1:]] == ["nan.log", "overfit.log", "tutorial.csv"]
    r = cli(["diagnose", logs, "--format", "csv"])
    assert r.out.splitlines()[0] == "source,run,verdict,confidence,best_step,points,findings"
    assert r.out.splitlines()[2].startswith("overfit.log,1,overfitting,high,30,100,")


def test_directory_without_logs_is_an_input_error(cli, tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    r = cli(["diagnose", tmp_path])
    assert r.code == 2
    assert "no training log with a loss in directory" in r.err


def test_stdin(cli):
    r = cli(["diagnose", "-", "--format", "json"], stdin=TUTORIAL_CSV)
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert obj["verdict"] == "converging" and obj["source"] == "<stdin>"


def test_missing_file_is_one_line_exit_2(cli, tmp_path):
    r = cli(["diagnose", tmp_path / "nope.log"])
    assert r.code == 2
    assert r.err.startswith("lossctl: error: no such file:") and "Traceback" not in r.err


def test_file_without_loss_is_exit_2(cli, tmp_path):
    p = tmp_path / "x.log"
    p.write_text("INFO starting\nINFO done\n")
    r = cli(["diagnose", p])
    assert r.code == 2 and "no loss values found" in r.err


def test_unknown_lang_and_format(cli, logs):
    assert cli(["diagnose", logs / "tutorial.csv", "--lang", "fr"]).code == 2
    r = cli(["diagnose", logs / "tutorial.csv", "--format", "xml"])
    assert r.code == 2 and "unknown --format" in r.err


def test_run_option_picks_one_run(cli, tmp_path):
    p = tmp_path / "two.log"

    def keras_run(losses, vals):
        out = []
        for i, (a, b) in enumerate(zip(losses, vals), 1):
            out.append(f"Epoch {i}/{len(losses)}\n10s - loss: {a:.4f} - acc: 0.5 - val_loss: {b:.4f} - val_acc: 0.5")
        return "\n".join(out) + "\n"

    # two runs in one Keras console log: the epoch counter restarts
    p.write_text(keras_run([2.5, 1.8, 1.2, 0.8, 0.5], [2.4, 1.9, 1.5, 1.3, 1.2])
                 + keras_run([2.5, 1.7, 1.1, 0.6, 0.3, 0.2], [2.2, 1.8, 2.0, 2.3, 2.6, 2.9]))
    r = cli(["diagnose", p, "--format", "ndjson"])
    assert r.code == 0, r.err
    runs = [json.loads(x)["run"] for x in r.out.splitlines()]
    assert len(runs) == 2 and sorted(runs) == [1, 2]
    r = cli(["diagnose", p, "--run", "2", "--format", "json"])
    obj = json.loads(r.out)
    assert obj["run"] == 2 and obj["verdict"] == "overfitting" and obj["best_step"] == 2
    r = cli(["diagnose", p])
    assert r.out.splitlines()[1].split()[:3] == ["two.log", "2", "overfitting"]
    assert "--run N" in r.err
    assert cli(["diagnose", p, "--run", "7"]).code == 2


def test_follow_reports_and_stops(cli, logs):
    r = cli(["diagnose", logs / "overfit.log", "--follow", "--max-updates", "1", "--interval", "0.05", "--format", "json"])
    assert r.code == 0, r.err
    assert json.loads(r.out.strip())["verdict"] == "overfitting"
    r = cli(["diagnose", logs / "nan.log", "--follow", "--fail-on", "diverged", "--interval", "0.05"])
    assert r.code == 1 and "verdict diverged" in r.err
    r = cli(["diagnose", "-", "--follow"], stdin=TUTORIAL_CSV)
    assert r.code == 2 and "--follow needs one log file" in r.err


def test_help_lists_examples(cli):
    r = cli(["diagnose", "--help"])
    assert r.code == 0
    assert "lossctl diagnose train.log --lang zh" in r.out and "--fail-on" in r.out


def test_follow_rediagnoses_as_the_log_grows(cli, tmp_path):
    import threading
    import time

    p = tmp_path / "live.log"
    healthy = _nan_log().splitlines()[:30]
    p.write_text("\n".join(healthy) + "\n")

    def grow():
        time.sleep(0.3)
        with p.open("a") as f:
            f.write("\n".join(_nan_log().splitlines()[30:]) + "\n")

    th = threading.Thread(target=grow)
    th.start()
    try:
        r = cli(["diagnose", p, "--follow", "--interval", "0.05", "--format", "ndjson", "--fail-on", "diverged", "--max-updates", "5"])
    finally:
        th.join()
    verdicts = [json.loads(x)["verdict"] for x in r.out.splitlines()]
    assert verdicts[0] == "converging" and verdicts[-1] == "diverged"
    assert r.code == 1 and "verdict diverged" in r.err


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tutorial_report_golden(cli, tmp_path, lang):
    """The whole human report of the tutorial's five epochs, at 80 columns, no colour.

    To update after a deliberate change: write r.out to the golden file and review the diff.
    """
    from conftest import FIXTURES

    p = tmp_path / "tutorial.csv"
    p.write_text(TUTORIAL_CSV)
    r = cli(["diagnose", p, "--lang", lang], env={"COLUMNS": "80"})
    assert r.code == 0, r.err
    out = r.out.replace(str(p), "tutorial.csv")
    golden = FIXTURES / "diagnose" / f"tutorial.{lang}.txt"
    assert out == golden.read_text(encoding="utf-8")


def test_json_on_stdout_and_the_chart_on_a_terminal_stderr(cli, logs, monkeypatch):
    from lossctl import output

    r = cli(["diagnose", logs / "tutorial.csv", "--format", "json"])
    assert json.loads(r.out)["verdict"] == "converging" and "█" not in r.err  # stderr not a terminal: no chart
    monkeypatch.setattr(output, "is_tty", lambda stream: stream is sys.stderr)
    r = cli(["diagnose", logs / "tutorial.csv", "--format", "json"])
    assert r.code == 0
    assert json.loads(r.out)["verdict"] == "converging"  # stdout stays pure JSON
    assert "Epoch 0: Loss = 2.5  ████████████████████████████████████" in r.err
