"""Caffe solver output (glog lines, with or without the ``I0412 10:23:45.1 1234 solver.cpp:228]`` prefix).

::

    Iteration 100 (12.3 iter/s, 8.13s/100 iters), loss = 0.18
        Train net output #0: loss = 0.18 (* 1 = 0.18 loss)
    Iteration 100, lr = 0.01
    Iteration 500, Testing net (#0)
        Test net output #0: accuracy = 0.91
        Test net output #1: loss = 0.27 (* 1 = 0.27 loss)

Rules:

- step = the iteration. ``Iteration N, loss = X`` is the train loss (Caffe's
  smoothed total, what the solver reports); ``lr`` -> learning_rate.
- ``Train net output #k: NAME = V`` -> train metric NAME (``accuracy``, ``loss_bbox``,
  ...); an output named ``loss`` itself is kept as ``output_loss`` so it never
  overwrites the solver's loss at the same iteration.
- ``Test net output`` lines after ``Iteration N, Testing net (#k)`` -> step N, split
  eval for test net #0 and test for the other test nets; NAME -> its metric.
- ``nan``/``-nan``/``inf`` are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, canonical, hit_score, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "caffe"
DESCRIPTION = "Caffe solver output ('Iteration 100, loss = 0.18', 'Test net output #0: ...')"
EXAMPLE = "Iteration 100 (12.3 iter/s, 8.13s/100 iters), loss = 0.18"
KIND = "lines"

_ITER_LOSS = re.compile(r"\bIteration (\d+)(?: \([^)]*\))?, loss = (" + NUM + r")")
_ITER_LR = re.compile(r"\bIteration (\d+)(?: \([^)]*\))?, lr = (" + NUM + r")")
_TESTING = re.compile(r"\bIteration (\d+)(?: \([^)]*\))?, Testing net \(#(\d+)\)")
_OUTPUT = re.compile(r"\b(Train|Test) net output #(\d+): (\S+) = (" + NUM + r")")


_D_ITER = re.compile(r"\bIteration \d+(?: \([^)]*\))?, (?:loss = |Testing net \(#)")
_D_OUTPUT = re.compile(r"\b(?:Train|Test) net output #\d+: ")


def detect(sample: str) -> float:
    n = len(_D_ITER.findall(sample)) + len(_D_OUTPUT.findall(sample))
    return hit_score(n)


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    step: float | None = None  # last train iteration
    test_step: float | None = None
    test_net = 0
    for lineno, line in numbered(source, ctx):
        if "Iteration" not in line and "net output" not in line:
            continue
        m = _OUTPUT.search(line)
        if m is not None:
            kind, name, value = m.group(1), m.group(3), to_float(m.group(4))
            if value is None:
                continue
            metric = canonical(name, "train")[1]
            if kind == "Train":
                if metric == "loss":
                    metric = "output_loss"
                yield Record(step, "train", metric, value, name, line=lineno, group=lineno)
            else:
                split = "eval" if test_net == 0 else "test"
                at = test_step if test_step is not None else step
                yield Record(at, split, metric, value, name, line=lineno, group=lineno)
            continue
        m = _ITER_LOSS.search(line)
        if m is not None:
            step = float(m.group(1))
            yield Record(step, "train", "loss", to_float(m.group(2)), "loss", line=lineno, group=lineno)
            continue
        m = _ITER_LR.search(line)
        if m is not None:
            step = float(m.group(1))
            yield Record(step, "train", "learning_rate", to_float(m.group(2)), "lr", line=lineno, group=lineno)
            continue
        m = _TESTING.search(line)
        if m is not None:
            test_step = float(m.group(1))
            test_net = int(m.group(2))
            if step is None or test_step > step:
                step = test_step
