"""Hugging Face console logs: values that cannot be read are counted, never silently dropped
(and never evaluated): a string where a metric's number belongs, a dict with a call as a key.
``None``, booleans, nested containers and strings under keys that are not metric names are
legitimate non-numbers: not read, not counted."""

from __future__ import annotations

from lossctl.logs import iter_records

import pytest


def test_string_value_of_a_metric_is_counted_and_the_rest_read(cli, tmp_path):
    p = tmp_path / "a.log"
    p.write_text("{'loss': 2.5, 'epoch': 0.1}\n"
                 "{'loss': 'abc', 'grad_norm': 1.5, 'epoch': 0.2}\n"
                 "{'loss': 2.0, 'epoch': 0.3}\n")
    for args in (["-f", "csv"], ["-f", "csv", "--metric", "grad_norm"], ["-f", "ndjson"]):
        r = cli(["parse", p, *args])
        assert r.code == 0, r.err
        assert "skipped 1 line(s) that could not be read (first: line 2: 'loss' is the string 'abc', not a number" in r.err
    r = cli(["parse", p, "-f", "csv"])
    assert r.out.splitlines()[1:] == ["1,1,0.1,train,loss,2.5", "1,2,0.2,train,grad_norm,1.5", "1,3,0.3,train,loss,2.0"]


def test_string_values_in_a_big_log_are_counted_on_the_fast_path_too(cli, tmp_path):
    p = tmp_path / "a.log"
    lines = [f"{{'loss': {2 - i / 1e5}, 'grad_norm': 1.5, 'epoch': {i / 1000}}}\n" for i in range(1, 3001)]
    lines[1500] = "{'loss': 'n/a', 'grad_norm': 1.5, 'epoch': 1.501}\n"
    p.write_text("".join(lines))
    r = cli(["parse", p, "-f", "csv", "--metric", "grad_norm"])
    assert r.code == 0 and r.out.count("\n") == 3001
    assert "skipped 1 line(s) that could not be read (first: line 1501: 'loss' is the string 'n/a'" in r.err


@pytest.mark.parametrize("dict_text", [
    "{'loss': 2.2, 'grad_norm': None, 'epoch': 0.2}",  # no value (DeepSpeed's grad_norm)
    "{'loss': 2.2, 'is_best': True, 'epoch': 0.2}",  # a flag
    "{'loss': 2.2, 'model': 'bert-base', 'epoch': 0.2}",  # a string that is not a metric
    "{'loss': 2.2, 'eval_per_class': [0.1, 0.2], 'epoch': 0.2}",  # a nested list
])
def test_legit_non_numbers_are_not_counted(cli, tmp_path, dict_text):
    p = tmp_path / "a.log"
    p.write_text("{'loss': 2.5, 'epoch': 0.1}\n" + dict_text + "\n")
    r = cli(["parse", p, "-f", "csv"])
    assert r.code == 0 and "skipped" not in r.err
    assert [l.split(",")[5] for l in r.out.splitlines()[1:]] == ["2.5", "2.2"]


def test_several_strings_in_one_dict_are_one_skipped_line(tmp_path):
    p = tmp_path / "a.log"
    p.write_text("{'loss': 2.5, 'epoch': 0.1}\n{'eval_loss': 'x', 'eval_acc': \"y\", 'epoch': 'z'}\n")
    stream = iter_records(p)
    assert [(r.metric, r.value) for r in stream] == [("loss", 2.5)]
    assert stream.ctx.skipped == 1
    line, why = stream.ctx.skipped_examples[0]
    assert line == 2 and why.startswith("'eval_loss' is the string 'x'; 'eval_acc' is the string 'y'; "
                                        "'epoch' is the string 'z', not a number")


def test_a_call_as_a_key_is_counted_not_run(tmp_path):
    p = tmp_path / "a.log"
    mark = tmp_path / "PWNED"
    p.write_text("{'loss': 2.5, 'epoch': 0.1}\n"
                 f"{{__import__('pathlib').Path('{mark}').touch(): 1.0, 'loss': 2.2, 'epoch': 0.2}}\n"
                 "{'loss': 2.1, getattr(x, 'y')(): 1, 'epoch': 0.3}\n"
                 "Using {len(x)} samples\n")  # a brace in a message is no dict: not counted
    stream = iter_records(p)
    assert [r.value for r in stream] == [2.5]
    assert not mark.exists()
    assert [ln for ln, _ in stream.ctx.skipped_examples] == [2, 3]
    assert all("a dict that contains a call" in why for _, why in stream.ctx.skipped_examples)
