"""`lossctl compute` and `lossctl losses` through the CLI: inline values, files, output
formats, lm, --explain, warnings, and one clear error line (exit 2) for every bad input."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math

import numpy as np
import pytest

from lossctl import losses

CE_ONE = 0.4643687841079449  # cross-entropy of [2, 1, 0.5] with target 0 (PyTorch)
CE_TWO = [0.4643687841079449, 0.10960146452146535]  # ... and of [0.1, 3, 0.2] with target 1


def error_line(r, *words):
    """The run failed with exit 2 and exactly one 'lossctl: error:' line holding ``words``."""
    assert r.code == 2, (r.code, r.out, r.err)
    assert "Traceback" not in r.err
    errors = [ln for ln in r.err.splitlines() if ln.startswith("lossctl: error:")]
    assert len(errors) == 1, r.err
    for w in words:
        assert w in errors[0], (w, errors[0])
    assert r.out == ""
    return errors[0]


# ---------------------------------------------------------------- inline values and output formats


def test_inline_table(cli):
    r = cli(["compute", "cross-entropy", "--input", "2.0,1.0,0.5", "--target", "0"])
    assert r.code == 0, r.err
    assert r.out == (
        "┏━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━┓\n"
        "┃ loss          ┃ reduction ┃    value ┃ count ┃ denominator ┃\n"
        "┡━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━┩\n"
        "│ cross-entropy │      mean │ 0.464369 │     1 │           1 │\n"
        "└───────────────┴───────────┴──────────┴───────┴─────────────┘\n"
    )
    assert r.err == ""


def test_inline_json_has_the_effective_options(cli):
    r = cli(["compute", "cross-entropy", "--input", "2,1,0.5;0.1,3,0.2", "--target", "0,1", "--format", "json",
             "--label-smoothing", "0"])
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["loss"] == "cross-entropy" and d["reduction"] == "mean"
    assert d["value"] == pytest.approx(sum(CE_TWO) / 2, rel=1e-12)
    assert d["count"] == 2 and d["denominator"] == 2.0 and d["batch"] == 2
    assert d["options"] == {"probs": False, "weight": None, "ignore-index": -100, "label-smoothing": 0.0}
    assert d["warnings"] == []
    assert "values" not in d and "explanation" not in d


def test_reduction_none_json_values(cli):
    r = cli(["compute", "cross-entropy", "--input", "2,1,0.5;0.1,3,0.2", "--target", "0,1", "-r", "none", "-f", "json"])
    d = json.loads(r.out)
    assert d["value"] is None
    assert d["values"] == pytest.approx(CE_TWO, rel=1e-12)


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("tsv", "\t")])
def test_reduction_none_delimited_rows(cli, fmt, sep):
    r = cli(["compute", "cross-entropy", "--input", "2,1,0.5;0.1,3,0.2", "--target", "0,1", "-r", "none", "-f", fmt])
    rows = list(csv.reader(io.StringIO(r.out), delimiter=sep))
    assert rows[0] == ["index", "value"]
    assert [int(x[0]) for x in rows[1:]] == [0, 1]
    assert [float(x[1]) for x in rows[1:]] == pytest.approx(CE_TWO, rel=1e-15)


def test_reduction_none_ndjson_rows_and_2d_values(cli):
    r = cli(["compute", "mse", "--input", "1,2;3,4", "--target", "1,1;1,1", "-r", "none", "-f", "ndjson"])
    rows = [json.loads(x) for x in r.out.splitlines()]
    assert rows == [{"index": 0, "position": 0, "value": 0.0}, {"index": 0, "position": 1, "value": 1.0},
                    {"index": 1, "position": 0, "value": 4.0}, {"index": 1, "position": 1, "value": 9.0}]


def test_summary_csv(cli):
    r = cli(["compute", "mse", "--input", "1,2,3", "--target", "1,2,5", "-f", "csv", "-r", "sum"])
    assert r.out == "loss,reduction,value,count,denominator\nmse,sum,4.0,3,3.0\n"


def test_nan_is_null_in_json_and_warned_on_stderr(cli):
    r = cli(["compute", "mse", "--input", "1,nan,3", "--target", "1,2,inf", "-r", "none", "-f", "json"])
    assert r.code == 0
    d = json.loads(r.out)
    assert d["values"] == [0.0, None, None]
    assert "lossctl: warning: 2 NaN/inf values in the data; first: input row 1 is nan" in r.err
    r = cli(["compute", "mse", "--input", "1,nan,3", "--target", "1,2,3", "-f", "json"])
    assert json.loads(r.out)["value"] is None


def test_strict_turns_nan_into_an_error(cli):
    r = cli(["compute", "mse", "--input", "1,2,3", "--target", "1,inf,3", "--strict"])
    error_line(r, "NaN/inf in the data", "target row 1 is inf")


def test_loss_warnings_go_to_stderr(cli):
    r = cli(["compute", "cross-entropy", "--input", "0.5,0.3,0.1", "--target", "0", "--probs", "-f", "json"])
    assert r.code == 0
    assert json.loads(r.out)["value"] == pytest.approx(-math.log(0.5), rel=1e-15)
    assert "lossctl: warning: 1 probability row" in r.err and "do not sum to 1" in r.err


def test_table_reduction_none_lists_values_then_totals(cli):
    r = cli(["compute", "l1", "--input", "1,2,4", "--target", "0,0,0", "-r", "none"])
    assert r.code == 0
    assert "│ 2     │     4 │" in r.out
    assert "│ 7   │     3 │           3 │" in r.out


def test_options_of_every_kind(cli):
    def value(args):
        r = cli(["compute"] + args + ["-f", "json"])
        assert r.code == 0, r.err
        return json.loads(r.out)

    d = value(["poisson-nll", "--input", "2", "--target", "3", "--no-log-input", "--full"])
    assert d["options"] == {"log-input": False, "full": True, "eps": 1e-08}
    assert d["value"] == pytest.approx(2 - 3 * math.log(2 + 1e-8) + 3 * math.log(3) - 3 + 0.5 * math.log(2 * math.pi * 3))
    d = value(["huber", "--input", "0,5", "--target", "0,0", "--delta", "2"])
    assert d["value"] == pytest.approx((0 + 2 * (5 - 1)) / 2)
    d = value(["multi-margin", "--input", "0.5,-0.2,-0.3", "--target", "0"])
    assert d["value"] == pytest.approx(1 / 6)  # LOSSES.md: PyTorch gives 0.1667
    d = value(["cross-entropy", "--input", "2,1,0.5;0.1,3,0.2", "--target", "0,1", "--weight", "1,3,1"])
    assert d["value"] == pytest.approx((CE_TWO[0] + 3 * CE_TWO[1]) / 4, rel=1e-12)
    assert d["denominator"] == 4.0 and d["options"]["weight"] == [1.0, 3.0, 1.0]
    d = value(["cross-entropy", "--input", "2,1,0.5;0.1,3,0.2", "--target", "0,-100"])
    assert d["value"] == pytest.approx(CE_TWO[0]) and d["denominator"] == 1.0
    d = value(["kl-div", "--input", "-1,-2;-0.5,-1", "--target", "0.5,0.5;0.2,0.8", "-r", "batchmean"])
    t = np.array([[0.5, 0.5], [0.2, 0.8]])
    assert d["value"] == pytest.approx(float(np.sum(t * (np.log(t) - np.array([[-1, -2], [-0.5, -1]])))) / 2)
    d = value(["gaussian-nll", "--input", "0,1", "--target", "1,1", "--var", "2"])
    assert d["value"] == pytest.approx(np.mean([0.5 * (math.log(2) + 0.5), 0.5 * math.log(2)]))
    d = value(["gaussian-nll", "--input", "0,1", "--target", "1,1", "--var", "2,0.5"])
    assert d["value"] == pytest.approx(np.mean([0.5 * (math.log(2) + 0.5), 0.5 * math.log(0.5)]))
    d = value(["quantile", "--input", "1,2", "--target", "2,1", "--quantile", "0.9"])
    assert d["value"] == pytest.approx((0.9 * 1 + 0.1 * 1) / 2)
    d = value(["mae", "--input", "1,2", "--target", "2,4"])
    assert d["loss"] == "l1" and d["value"] == 1.5


def test_inline_json_arrays(cli):
    r = cli(["compute", "cross-entropy", "--input", "[[2, 1, 0.5]]", "--target", "[0]", "-f", "json"])
    assert json.loads(r.out)["value"] == pytest.approx(CE_ONE, rel=1e-15)


# ---------------------------------------------------------------- files and stdin


def test_bundled_examples(cli):
    from tests.conftest import ROOT

    r = cli(["compute", "cross-entropy", str(ROOT / "examples" / "preds.csv"), "-f", "json"])
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["count"] == 300 and d["source"].endswith("preds.csv")
    assert d["value"] == pytest.approx(0.8046266862955529, rel=1e-12)
    assert "took 5 columns ('logit_0' … 'logit_4') as the input, 'label' as the target" in r.err
    r = cli(["compute", "cross-entropy", str(ROOT / "examples" / "preds.json"), "-f", "json"])
    assert json.loads(r.out)["count"] == 8


def test_stdin_dash(cli):
    r = cli(["compute", "mse", "-", "-f", "json"], stdin='{"pred": [1, 2], "y": [0, 0]}')
    assert r.code == 0, r.err
    assert json.loads(r.out)["value"] == 2.5
    assert "<stdin>: took key 'pred' as the input, 'y' as the target" in r.err


def test_stdin_gzip_csv(cli):
    data = gzip.compress(b"label,a,b,c\n0,2,1,0.5\n")
    r = cli(["compute", "cross-entropy", "-", "-f", "json"], stdin=data)
    assert json.loads(r.out)["value"] == pytest.approx(CE_ONE, rel=1e-15)


def test_stdin_terminal_is_refused(cli, monkeypatch):
    from tests.conftest import run_cli

    class TtyText(io.TextIOWrapper):
        def isatty(self):
            return True

    real = io.TextIOWrapper
    monkeypatch.setattr(io, "TextIOWrapper", TtyText)
    try:
        r = run_cli(["compute", "mse", "-"])
    finally:
        monkeypatch.setattr(io, "TextIOWrapper", real)
    error_line(r, "stdin is a terminal")


def test_target_override_for_a_file(cli, tmp_path):
    p = tmp_path / "x.npy"
    np.save(p, np.array([[2.0, 1.0, 0.5]]))
    r = cli(["compute", "cross-entropy", str(p), "--target", "0", "-f", "json"])
    assert json.loads(r.out)["value"] == pytest.approx(CE_ONE, rel=1e-15)


def test_csv_input_cols_and_target_col(cli, tmp_path):
    p = tmp_path / "p.tsv"
    p.write_text("id\tgold\ts0\ts1\ts2\n7\t0\t2\t1\t0.5\n")
    r = cli(["compute", "cross-entropy", str(p), "--input-cols", "s*", "--target-col", "gold", "-f", "json"])
    assert r.code == 0, r.err
    assert json.loads(r.out)["value"] == pytest.approx(CE_ONE, rel=1e-15)
    assert "ignored 'id'" in r.err


# ---------------------------------------------------------------- lm


def test_lm_table_says_which_mean(cli, tmp_path):
    p = tmp_path / "tok.json"
    p.write_text(json.dumps({"input": [[0.8, 0.7], [0.5]]}))
    r = cli(["compute", "lm", str(p), "--probs"])
    assert r.code == 0, r.err
    mean = (-math.log(0.8) - math.log(0.7) - math.log(0.5)) / 3
    assert f"│ {mean:.6g}" in r.out
    assert "per sequence" in r.out
    assert "The mean NLL above is over all 3 tokens; the mean of the per-sequence means (0.49" in r.out


def test_lm_json_breakdown(cli):
    r = cli(["compute", "lm", "--input", "0.8,0.7", "--probs", "-f", "json"])
    d = json.loads(r.out)
    assert d["value"] == pytest.approx(0.2899092476264711, rel=1e-12)  # the tutorial's example
    assert d["sum"] == pytest.approx(0.5798184952529422, rel=1e-12)
    assert d["tokens"] == 2 and d["perplexity"] == pytest.approx(1.3363, abs=1e-4)
    assert d["bits_per_token"] == pytest.approx(0.2899092476264711 / math.log(2), rel=1e-12)
    assert d["sequences"] == [{"sequence": 0, "tokens": 2, "sum": pytest.approx(0.5798184952529422),
                               "mean_nll": pytest.approx(0.2899092476264711), "perplexity": pytest.approx(1.33630621)}]
    assert "not the same" in d["note"]


def test_lm_jsonl_one_sequence_per_line(cli, tmp_path):
    p = tmp_path / "seq.jsonl"
    p.write_text('{"logprobs": [-0.1, -0.2]}\n{"logprobs": [-1.0]}\n')
    d = json.loads(cli(["compute", "lm", str(p), "-f", "json"]).out)
    assert d["tokens"] == 3 and [s["tokens"] for s in d["sequences"]] == [2, 1]
    assert d["mean_of_sequence_means"] == pytest.approx((0.15 + 1.0) / 2)


def test_bundled_tokens_example(cli):
    from tests.conftest import ROOT

    d = json.loads(cli(["compute", "lm", str(ROOT / "examples" / "tokens.json"), "-f", "json"]).out)
    assert d["tokens"] == 47 and len(d["sequences"]) == 3


# ---------------------------------------------------------------- --explain


def test_explain_in_table_mode_comes_before_the_result(cli):
    r = cli(["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0", "--explain"])
    assert r.code == 0, r.err
    head, _, table = r.out.partition("┏")
    assert head.splitlines()[2:5] == ["row 0 (target 0): logsumexp([2, 1, 0.5]) - 2 = 0.4644",
                                      "mean = 0.4644 / 1 = 0.4644  (divided by the number of non-ignored rows)",
                                      "loss (mean) = 0.4644"]
    assert "0.464369" in table


def test_explain_in_json_mode_is_a_list(cli):
    r = cli(["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0", "--explain", "-f", "json"])
    d = json.loads(r.out)
    assert d["explanation"][0].startswith("cross-entropy: ")
    assert d["explanation"][-1] == "loss (mean) = 0.4644"
    assert d["value"] == pytest.approx(CE_ONE, rel=1e-15)


# ---------------------------------------------------------------- listing the losses


def test_compute_list_and_losses_print_every_loss(cli):
    a = cli(["compute", "--list"])
    b = cli(["losses"])
    assert a.code == b.code == 0 and a.out == b.out
    for name in losses.names():
        spec = losses.REGISTRY[name]
        assert f"{name}: " in a.out or f"{name} (alias" in a.out
        assert spec.formula in a.out
        for o in spec.options:
            assert f"--{o.name}" in a.out


def test_losses_json(cli):
    d = json.loads(cli(["losses", "--format", "json"]).out)
    assert [x["name"] for x in d] == losses.names()
    ce = next(x for x in d if x["name"] == "cross-entropy")
    assert {o["name"] for o in ce["options"]} == {"probs", "weight", "ignore-index", "label-smoothing"}
    assert next(x for x in d if x["name"] == "kl-div")["reductions"] == ["mean", "sum", "none", "batchmean"]


# ---------------------------------------------------------------- bad input: one line, exit 2


def test_unknown_loss_suggests_the_closest(cli):
    r = cli(["compute", "cross-entropi", "--input", "1", "--target", "0"])
    error_line(r, "unknown loss 'cross-entropi'")
    assert "did you mean 'cross-entropy'?" in r.err


def test_option_not_taken_by_the_loss(cli):
    error_line(cli(["compute", "mse", "--input", "1", "--target", "0", "--label-smoothing", "0.1"]),
               "--label-smoothing is not an option of mse")
    error_line(cli(["compute", "mse", "--input", "1", "--target", "0", "--probs"]), "--probs is not an option of mse")


@pytest.mark.parametrize("args, words", [
    (["cross-entropy", "--label-smoothing", "1.5"], ["--label-smoothing must be between 0 and 1, got 1.5"]),
    (["huber", "--delta", "0"], ["--delta must be greater than 0"]),
    (["quantile", "--quantile", "1"], ["--quantile must be strictly between 0 and 1"]),
    (["multi-margin", "--p", "3"], ["--p must be 1 or 2"]),
    (["huber", "--delta", "abc"], ["--delta expects a number, got 'abc'"]),
    (["mse", "-r", "batchmean"], ["--reduction batchmean is not accepted by mse"]),
    (["mse", "-r", "avg"], ["--reduction avg is not accepted by mse"]),
])
def test_values_out_of_range(cli, args, words):
    extra = ["--input", "1,2", "--target", "0"] if args[0] in ("cross-entropy", "multi-margin") else \
        ["--input", "1", "--target", "0"]
    error_line(cli(["compute"] + args + extra), *words)


def test_weight_list_of_wrong_length(cli):
    error_line(cli(["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0", "--weight", "1,2"]),
               "--weight has 2 values but the input has 3 classes")


def test_shapes_that_disagree_name_both(cli):
    error_line(cli(["compute", "mse", "--input", "1,2,3", "--target", "1,2"]),
               "input has shape (3,) but target has shape (2,)")
    error_line(cli(["compute", "cross-entropy", "--input", "1,2;3,4", "--target", "0,1,1"]),
               "input has shape (2, 2) but target has shape (3,)")


def test_target_out_of_range_names_row_and_value(cli):
    error_line(cli(["compute", "cross-entropy", "--input", "1,2;3,4", "--target", "0,2"]),
               "--target: row 2", "target class 2 is out of range", "2 classes")  # rows counted from 1 inline


def test_target_out_of_range_in_a_csv_names_file_line_column(cli, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("label,a,b\n0,1,2\n1,1,2\n7,1,2\n")
    error_line(cli(["compute", "cross-entropy", str(p)]), f"{p}:4: column 'label': row 2: target class 7 is out of range")


def test_non_numeric_cell_names_file_line_column(cli, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("label,a,b\n0,1,2\n1,1,two\n")
    error_line(cli(["compute", "cross-entropy", str(p)]), f"{p}:3: column 'b': 'two' is not a number")


def test_non_numeric_inline_value(cli):
    error_line(cli(["compute", "mse", "--input", "1,x", "--target", "1,2"]), "--input: 'x' (value 2) is not a number")


@pytest.mark.parametrize("content", ["", "label,a\n", '{"input": [], "target": []}', "[]"])
def test_empty_input(cli, tmp_path, content):
    p = tmp_path / "empty.json"
    p.write_text(content)
    line = error_line(cli(["compute", "mse", str(p)]), str(p))
    assert "empty" in line


def test_missing_file_and_directory(cli, tmp_path):
    error_line(cli(["compute", "mse", str(tmp_path / "nope.csv")]), "nope.csv: no such file")
    error_line(cli(["compute", "mse", str(tmp_path)]), "is a directory")


def test_unreadable_encoding(cli, tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes(b"label,a\n0,1\n1,caf\xe9\n")
    error_line(cli(["compute", "mse", str(p)]), f"{p}:3: is not UTF-8 text (byte 0xe9)")
    p.write_bytes('{"input": [1], "target": [1], "n": "é"}'.encode("latin-1"))
    error_line(cli(["compute", "mse", str(p)]), "is not UTF-8 text")


def test_usage_mistakes(cli, tmp_path):
    error_line(cli(["compute", "mse"]), "no predictions given")
    p = tmp_path / "p.json"
    p.write_text('{"input": [1], "target": [1]}')
    error_line(cli(["compute", "mse", str(p), "--input", "1"]), "either FILE or --input")
    error_line(cli(["compute", "mse", str(p), "--target-col", "y"]), "--target-col and --input-cols select columns")
    error_line(cli(["compute", "mse", "--input", "1", "--target", "1", "--format", "xml"]), "unknown --format 'xml'")


def test_missing_target(cli):
    error_line(cli(["compute", "mse", "--input", "1,2"]), "mse needs a target")


def test_no_traceback_even_for_odd_payloads(cli, tmp_path):
    p = tmp_path / "odd.json"
    for payload in ('"just a string"', '{"input": {"a": 1}, "target": [1]}', '{"input": [[1, [2]]], "target": [0]}',
                    '{"input": [true, null], "target": [1, 1]}'):
        p.write_text(payload)
        r = cli(["compute", "mse", str(p)])
        assert "Traceback" not in r.err and "internal error" not in r.err, (payload, r.err)


def test_lm_from_csv_logits_and_token_ids_is_cross_entropy(cli):
    from tests.conftest import ROOT

    path = str(ROOT / "examples" / "preds.csv")
    lm = json.loads(cli(["compute", "lm", path, "-f", "json"]).out)
    ce = json.loads(cli(["compute", "cross-entropy", path, "-f", "json"]).out)
    assert lm["mean_nll"] == pytest.approx(ce["value"], rel=1e-14) and lm["tokens"] == 300


def test_lm_csv_summary_row(cli, tmp_path):
    p = tmp_path / "lp.csv"
    p.write_text("logprob\n-0.1\n-0.2\n-1\n")
    r = cli(["compute", "lm", str(p), "-f", "csv"])
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert len(rows) == 1 and rows[0]["tokens"] == "3"
    assert float(rows[0]["mean_nll"]) == pytest.approx(1.3 / 3, rel=1e-15)
    assert float(rows[0]["perplexity"]) == pytest.approx(math.exp(1.3 / 3), rel=1e-15)


# ---------------------------------------------------------------- progress bar


def test_progress_bar_only_on_a_terminal_and_after_a_moment(cli, tmp_path, monkeypatch):
    from lossctl import cli as cli_mod
    from lossctl import inputs, output

    p = tmp_path / "big.csv"  # > 1 MB: progress follows the file position, read 1 MB at a time
    rng = np.random.default_rng(1)
    n = 120_000
    p.write_text("label,a,b\n" + "".join(f"{t},{a:.4f},{b:.4f}\n" for t, a, b in
                                         zip(rng.integers(0, 2, n).tolist(), *rng.normal(size=(2, n)).tolist())))
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 64 * 1024)
    plain = cli(["compute", "cross-entropy", str(p), "-f", "json"])
    assert "computing" not in plain.err  # stderr is not a terminal
    monkeypatch.setattr(output, "is_tty", lambda stream: True)
    monkeypatch.setattr(cli_mod._ComputeProgress, "DELAY", 0.0)
    shown = cli(["compute", "cross-entropy", str(p), "-f", "json"], env={"FORCE_COLOR": "1"})
    assert "computing" in shown.err
    assert shown.out == plain.out  # stdout untouched
    monkeypatch.setattr(cli_mod._ComputeProgress, "DELAY", 60.0)
    quick = cli(["compute", "cross-entropy", str(p), "-f", "json"], env={"FORCE_COLOR": "1"})
    assert "computing" not in quick.err  # finished before the delay: no bar


def test_gaussian_nll_variance_from_the_payload_a_named_key_or_the_command_line(cli, tmp_path):
    def value(path, *extra):
        r = cli(["compute", "gaussian-nll", str(path), "-f", "json", *extra])
        assert r.code == 0, r.err
        return json.loads(r.out)["value"], r.err

    p = tmp_path / "g.json"
    p.write_text('{"input": [0, 1], "target": [1, 1], "var": [2, 0.5]}')
    per_element = np.mean([0.5 * (math.log(2) + 0.5), 0.5 * math.log(0.5)])
    v, err = value(p)
    assert v == pytest.approx(per_element, rel=1e-14) and "'var' as the variance" in err
    v, err = value(p, "--var", "2")  # the command line wins over the file
    assert v == pytest.approx(np.mean([0.5 * (math.log(2) + 0.5), 0.5 * math.log(2)]), rel=1e-14)
    assert "as the variance" not in err
    q = tmp_path / "g2.json"
    q.write_text('{"input": [0, 1], "target": [1, 1], "sigma2": [2, 0.5]}')
    v, err = value(q, "--var", "sigma2")
    assert v == pytest.approx(per_element, rel=1e-14) and "'sigma2' as the variance" in err
    error_line(cli(["compute", "gaussian-nll", str(q), "--var", "sigma"]), "has no key 'sigma' for the variance")
    error_line(cli(["compute", "gaussian-nll", "--input", "1", "--target", "1"]), "gaussian-nll needs a variance")
    error_line(cli(["compute", "gaussian-nll", "--input", "1,2", "--target", "1,1", "--var", "1,-1"]),
               "variance -1 is negative")


def test_the_command_has_a_flag_for_every_option_of_every_loss():
    import typer.main

    from lossctl.cli import app

    command = typer.main.get_command(app).commands["compute"]
    flags = {o for p in command.params for o in list(p.opts) + list(p.secondary_opts)}
    wanted = {f"--{o.name}" for spec in losses.REGISTRY.values() for o in spec.options}
    assert wanted <= flags, wanted - flags
    assert {"--reduction", "--format", "--explain", "--strict", "--input-format", "--target-col", "--input-cols",
            "--var", "--list", "--input", "--target", "--no-log-input"} <= flags


def test_explain_with_delimited_output_goes_to_stderr(cli):
    r = cli(["compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0", "--explain", "-f", "csv"])
    assert r.out == "loss,reduction,value,count,denominator\ncross-entropy,mean,0.4643687841079449,1,1.0\n"
    assert "row 0 (target 0): logsumexp([2, 1, 0.5]) - 2 = 0.4644" in r.err


def test_table_with_many_values_shows_the_first_50_and_says_so(cli):
    xs = ",".join(str(i) for i in range(120))
    r = cli(["compute", "l1", "--input", xs, "--target", ",".join("0" for _ in range(120)), "-r", "none"])
    assert r.code == 0
    assert "│ 49    │    49 │" in r.out and "│ 50    │" not in r.out
    assert "lossctl: note: showing 50 of 120 values; use --format csv for all of them" in r.err


def test_kl_div_batchmean_counts_jsonl_records_as_samples(cli, tmp_path):
    p = tmp_path / "kl.jsonl"
    rows = [([-1.0, -2.0, -0.5], [0.2, 0.3, 0.5]), ([-0.1, -3.0, -2.0], [0.9, 0.05, 0.05])]
    p.write_text("".join(json.dumps({"input": a, "target": b}) + "\n" for a, b in rows))
    d = json.loads(cli(["compute", "kl-div", str(p), "-r", "batchmean", "-f", "json"]).out)
    kl = sum(sum(t * (math.log(t) - lp) for lp, t in zip(a, b)) for a, b in rows)
    assert d["batch"] == 2 and d["value"] == pytest.approx(kl / 2, rel=1e-14)


def test_probability_targets_from_several_csv_columns(cli, tmp_path):
    p = tmp_path / "soft.csv"
    p.write_text("l0,l1,l2,p_0,p_1,p_2\n2,1,0.5,0.7,0.2,0.1\n0.1,3,0.2,0,1,0\n")
    a = cli(["compute", "cross-entropy", str(p), "--input-cols", "l*", "--target-col", "p_*", "-f", "json"])
    b = cli(["compute", "cross-entropy", "--input", "2,1,0.5;0.1,3,0.2", "--target", "0.7,0.2,0.1;0,1,0", "-f", "json"])
    assert a.code == b.code == 0, a.err
    lse = math.log(math.exp(2) + math.exp(1) + math.exp(0.5))
    first = 0.7 * (lse - 2) + 0.2 * (lse - 1) + 0.1 * (lse - 0.5)
    assert json.loads(a.out)["value"] == json.loads(b.out)["value"] == pytest.approx((first + CE_TWO[1]) / 2, rel=1e-12)
    assert "'p_0', 'p_1', 'p_2' as the target" in a.err


def test_all_targets_ignored_gives_nan_with_a_warning(cli):
    r = cli(["compute", "cross-entropy", "--input", "1,2;3,4", "--target=-100,-100", "--format", "json"])
    assert r.code == 0
    obj = json.loads(r.out)
    assert obj["value"] is None and obj["denominator"] == 0 and obj["count"] == 2
    assert "the mean divides by 0" in obj["warnings"][0]
    assert "lossctl: warning: the mean divides by 0" in r.err


def test_kl_div_warns_when_given_probabilities(cli):
    r = cli(["compute", "kl-div", "--input", "0.5,0.5", "--target", "0.5,0.5", "--format", "json"])
    assert r.code == 0
    assert json.loads(r.out)["value"] == pytest.approx(-0.5965735902799727, rel=1e-12)  # as PyTorch
    assert "2 input value(s) are > 0: kl-div takes log-probabilities" in r.err


@pytest.mark.parametrize("args, first_line", [
    (["--input", "2,1,0.5", "--target", "3"],
     "lossctl: error: --target: row 1: target class 3 is out of range: the input has 3 classes (0..2) "
     "and is not --ignore-index (-100)"),
    (["--input", "2,1;1", "--target", "0,1"],
     "lossctl: error: --input: rows have different lengths: row 1 has 2 values, row 2 has 1"),
])
def test_inline_errors_name_the_option_and_count_rows_from_1(cli, args, first_line):
    r = cli(["compute", "cross-entropy", *args])
    assert r.code == 2 and r.out == ""
    assert r.err.splitlines()[0] == first_line


@pytest.mark.parametrize("loss", ["bce-with-logits", "poisson-nll"])
def test_infinite_targets_give_lossctls_warning_not_numpys(loss):
    # inf - inf inside a sum made numpy print "RuntimeWarning: invalid value encountered in
    # reduce" with a file path; lossctl already says which values are NaN/inf (found by hypothesis)
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "lossctl", "compute", loss, "--input=-1.0,1", "--target", "1e400,1e400",
                        "-f", "json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "RuntimeWarning" not in r.stderr and "fromnumeric" not in r.stderr
    assert r.stderr.startswith("lossctl: warning: 2 NaN/inf values in the data; first: target row 0 is inf")
    assert len(r.stderr.strip().splitlines()) == 1
