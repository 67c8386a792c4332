"""timm (pytorch-image-models) ``train.py`` console logs.

::

    Train: 2 [3150/5004 ( 63%)]  Loss: 5.354 (5.330)  Time: 0.312s, 410.21/s  (0.320s, 400.00/s)  LR: 1.000e-03  Data: 0.001 (0.002)
    Test: [   0/48]  Time: 1.331 (1.331)  Loss:  0.6582 (0.6582)  Acc@1: 86.7188 (86.7188)  Acc@5: 97.6562 (97.6562)
    Test: [  48/48]  Time: 0.127 (0.297)  Loss:  0.8345 (0.9215)  Acc@1: 80.1887 (78.5420)  Acc@5: 94.3396 (94.1100)
    Test (EMA): [  48/48]  ...

Rules:

- ``Loss: current (average)``: the current value is the point (the second is a
  running mean over the epoch). step = epoch * updates_per_epoch + index (timm's
  epochs start at 0); the epoch is kept. ``LR`` -> learning_rate; Time/Data left out.
- ``Test:`` lines form one evaluation pass; timm reports the pass by the running
  averages of its last line (``[ N/N]``), so the pass gives one eval point per meter
  (loss, Acc@1, Acc@5), at the end of the epoch just trained:
  (epoch + 1) * updates_per_epoch. ``Test (EMA)`` passes give ``ema_`` metrics.
- Forks that print the pass as one line (``Eval : 0  Loss: 1.9703  Acc@1: 35.94``) give
  the same eval points, at the same step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, canonical, hit_score, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "timm"
DESCRIPTION = "timm train.py lines ('Train: 2 [3150/5004 ( 63%)]  Loss: 5.354 (5.330) ...')"
EXAMPLE = "Train: 2 [3150/5004 ( 63%)]  Loss: 5.354 (5.330)  Time: 0.312s, 410.21/s  LR: 1.000e-03"
KIND = "lines"

_TRAIN = re.compile(r"\bTrain: (\d+) \[\s*(\d+)/(\d+)\s*\(\s*\d+(?:\.\d+)?%\)\]")
_TEST = re.compile(r"\bTest( \(EMA\))?: \[\s*(\d+)/(\d+)\]")
# forks print the pass as one summary line: "Eval : 0  Loss: 1.9703  Acc@1: 35.94  Acc@5: 85.16"
_EVAL = re.compile(r"^\s*Eval\s*:\s*(\d+)\s")
_METER = re.compile(r"([A-Za-z][\w@]*):\s+(" + NUM + r")(?:\s+\(\s*(" + NUM + r")\s*\))?(?=\s|,|$)")
_SKIP = {"Time", "Data"}


_D_TRAIN = re.compile(r"\bTrain: \d+ \[\s*\d+/\d+\s*\(\s*\d+%\)\]\s+Loss:")
_D_TEST = re.compile(r"\bTest(?: \(EMA\))?: \[\s*\d+/\d+\]\s+Time:")


def detect(sample: str) -> float:
    n = len(_D_TRAIN.findall(sample)) + len(_D_TEST.findall(sample))
    return hit_score(n)


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    epoch: float | None = None
    per_epoch: float | None = None
    last_idx = -1
    pass_vals: dict[str, tuple[float, int]] = {}
    pass_group = 0
    pass_ema = False

    def flush() -> Iterator[Record]:
        nonlocal pass_vals
        if not pass_vals:
            return
        step = (epoch + 1) * per_epoch if (epoch is not None and per_epoch) else None
        for name, (value, ln) in pass_vals.items():
            metric = canonical(name, "eval")[1]
            if pass_ema:
                metric = "ema_" + metric
            yield Record(step, "eval", metric, value, name, epoch=epoch, line=ln, group=pass_group)
        pass_vals = {}

    for lineno, line in numbered(source, ctx):
        if "Train:" not in line and "Test" not in line and "Eval" not in line:
            continue
        m = _TRAIN.search(line)
        if m is not None:
            yield from flush()
            last_idx = -1
            epoch, idx, per_epoch = float(m.group(1)), float(m.group(2)), float(m.group(3))
            step = epoch * per_epoch + idx
            got_loss = False
            for name, cur, _avg in _METER.findall(line, m.end()):
                if name in _SKIP:
                    continue
                value = to_float(cur)
                if value is None:
                    continue
                metric = canonical(name, "train")[1]
                got_loss = got_loss or metric == "loss"
                yield Record(step, "train", metric, value, name, epoch=epoch, line=lineno, group=lineno)
            if not got_loss:
                ctx.skip(lineno, "timm Train line without a Loss (cut line?)")
            continue
        m = _TEST.search(line)
        if m is not None:
            idx = int(m.group(2))
            ema = m.group(1) is not None
            if idx <= last_idx or ema != pass_ema:
                yield from flush()
            if not pass_vals:
                pass_group = lineno
            pass_ema = ema
            last_idx = idx
            for name, cur, avg in _METER.findall(line, m.end()):
                if name in _SKIP:
                    continue
                value = to_float(avg) if avg else to_float(cur)
                if value is not None:
                    pass_vals[name] = (value, lineno)
            continue
        m = _EVAL.search(line)
        if m is not None:
            yield from flush()
            ep = float(m.group(1))
            step = (ep + 1) * per_epoch if per_epoch else None
            for name, cur, _avg in _METER.findall(line, m.end()):
                if name in _SKIP:
                    continue
                value = to_float(cur)
                if value is not None:
                    yield Record(step, "eval", canonical(name, "eval")[1], value, name, epoch=ep,
                                 line=lineno, group=lineno)
    yield from flush()
