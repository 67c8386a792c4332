"""The PyTorch-examples "AverageMeter"/"ProgressMeter" style (imagenet ``main.py`` and
the many training scripts copied from it).

::

    Epoch: [0][10/250]\\tTime 1.154 (1.408)\\tData 0.371 (0.374)\\tLoss 12.6626 (12.3890)\\tAcc@1 0.0 (0.4)
    Test: [10/50]\\tTime 0.646 (0.634)\\tLoss 7.5117 (5.1709)\\tAcc@1 50.0 (69.3)
     * Acc@1 76.130 Acc@5 92.862

A meter prints ``NAME current (average)``.

Rules:

- Train lines: step = global batch index = (epoch - base) * batches_per_epoch + batch,
  where base is the first epoch number of the log (0 or 1) and batches_per_epoch is
  the ``/N`` of the line; the epoch is kept. The *current* value of each meter is the
  point (the average is a running mean). ``Time``/``Data`` meters are left out;
  ``Loss`` -> loss, ``Acc@1`` -> acc@1, and so on (lower case).
- Lines right after a head line that hold only meters (``cos_sim_loss 0.29 (0.29)``,
  tab-separated ``Prec@1 ... (...)``) or ``a,b,c v1 v2 v3`` belong to that line's
  step (or evaluation pass).
- ``Test:``/``Val:`` lines are one evaluation pass: per-batch values are not points
  of the training curve, so the pass gives one eval point per meter, the running
  *average* of its last line (what the script reports for the pass), replaced by the
  `` * NAME value`` summary when there is one. The pass's step is the end of the
  epoch that was just trained ((epoch - base + 1) * batches_per_epoch), its epoch
  that epoch; with no training line before, step is None.
- A head line with no Loss meter (a cut last line) is skipped and counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, canonical, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "avgmeter"
DESCRIPTION = "PyTorch examples AverageMeter lines ('Epoch: [0][10/250]  Loss 1.3 (1.4)')"
EXAMPLE = "Epoch: [0][10/250]\tTime 0.101 (0.203)\tData 0.001 (0.002)\tLoss 1.3060 (1.4060)\tAcc@1 10.0 (8.2)"
KIND = "lines"

_TRAIN = re.compile(r"^\s*Epoch:\s*\[\s*(\d+)\s*\]\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
_TEST = re.compile(r"^\s*(Test|Val|Valid|Validation|Eval)\s*:\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
_CHUNK = re.compile(r"^\s*([^\d\s(+\-.][^()]*?)\s+(" + NUM + r")\s*\(\s*(" + NUM + r")\s*\)\s*$")
_INLINE = re.compile(r"([A-Za-z][\w@./-]*)\s+(" + NUM + r")\s*\(\s*(" + NUM + r")\s*\)")
_LIST = re.compile(r"^\s*([A-Za-z_]\w*(?:,[A-Za-z_]\w*)+)\s+(" + NUM + r"(?:\s+" + NUM + r")*)\s*$")
_SUMMARY = re.compile(r"^\s*\*\s+(\S.*)$")
_NUM_FULL = re.compile(r"^" + NUM + r"$")
_TIMING = ("time", "data", "batch time", "data time", "batch_time", "data_time")


# meters print "Loss 1.3 (1.4)": timm's "Loss:  1.3 (1.4)" has a colon
_D_TRAIN = re.compile(r"(?m)^\s*Epoch:\s*\[\s*\d+\s*\]\s*\[\s*\d+\s*/\s*\d+\s*\].*?\bLoss\s+" + NUM + r"\s*\(")
_D_TEST = re.compile(r"(?m)^\s*(?:Test|Val):\s*\[\s*\d+\s*/\s*\d+\s*\].*?\bLoss\s+" + NUM + r"\s*\(")


def detect(sample: str) -> float:
    heads = len(_D_TRAIN.findall(sample))
    tests = len(_D_TEST.findall(sample))
    if heads + tests >= 2:
        return 0.9
    if heads + tests:
        return 0.6
    return 0.0


def _meters(text: str) -> tuple[list[tuple[str, float, float]], bool]:
    """(name, current, average) of every meter in ``text``, and whether meters are
    all the text holds."""
    out = []
    if "\t" in text:
        complete = True
        for chunk in text.split("\t"):
            m = _CHUNK.match(chunk)
            if m is not None:
                cur, avg = to_float(m.group(2)), to_float(m.group(3))
                if cur is not None and avg is not None:
                    out.append((" ".join(m.group(1).split()), cur, avg))
                    continue
            if chunk.strip():
                complete = False
        if out:
            return out, complete
    for name, cur, avg in _INLINE.findall(text):
        c, a = to_float(cur), to_float(avg)
        if c is not None and a is not None:
            out.append((name, c, a))
    return out, bool(out) and not _INLINE.sub("", text).strip()


def _summary_pairs(text: str) -> list[tuple[str, float]]:
    """' * Acc@1 76.1 Acc@5 93.0' -> [('Acc@1', 76.1), ('Acc@5', 93.0)]; a number
    followed by another number is part of the name ('Prec@5 001 78.8')."""
    toks = text.split()
    out = []
    name: list[str] = []
    for i, tok in enumerate(toks):
        is_num = _NUM_FULL.match(tok) is not None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if is_num and name and (nxt is None or _NUM_FULL.match(nxt) is None):
            out.append((" ".join(name), float(tok)))
            name = []
        else:
            name.append(tok)
    return out


def _metric(name: str) -> str:
    return canonical(name, "train")[1]


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    base: float | None = None  # first epoch number (0 or 1)
    epoch: float | None = None
    per_epoch: float | None = None
    mode: str | None = None  # "train" | "eval": what continuation lines belong to
    train_step: float | None = None
    train_group = 0
    last_test_idx = -1
    pass_vals: dict[str, tuple[float, int]] = {}  # eval pass: name -> (value, lineno)
    pass_group = 0

    def pass_step() -> float | None:
        if epoch is None or per_epoch is None:
            return None
        return (epoch - (base or 0) + 1) * per_epoch

    def flush() -> Iterator[Record]:
        nonlocal pass_vals
        if not pass_vals:
            return
        step = pass_step()
        for name, (value, ln) in pass_vals.items():
            yield Record(step, "eval", _metric(name), value, name, epoch=epoch, line=ln, group=pass_group)
        pass_vals = {}

    for lineno, line in numbered(source, ctx):
        if "(" not in line and "*" not in line and "," not in line:
            continue
        m = _TRAIN.match(line)
        if m is not None:
            yield from flush()
            e, i, n = float(m.group(1)), float(m.group(2)), float(m.group(3))
            if base is None:
                base = 0.0 if e == 0 else 1.0
            epoch, per_epoch = e, n
            train_step = (e - base) * n + i
            train_group = lineno
            mode = "train"
            meters, _ = _meters(line[m.end():])
            if not any(_metric(nm) == "loss" for nm, _, _ in meters):
                ctx.skip(lineno, "AverageMeter line without a Loss meter (cut line?)")
            for nm, cur, _avg in meters:
                if nm.lower() in _TIMING:
                    continue
                yield Record(train_step, "train", _metric(nm), cur, nm, epoch=epoch,
                             line=lineno, group=lineno)
            continue
        m = _TEST.match(line)
        if m is not None:
            idx = int(m.group(2))
            if idx <= last_test_idx or mode != "eval":
                yield from flush()
                pass_group = lineno
            last_test_idx = idx
            mode = "eval"
            for nm, _cur, avg in _meters(line[m.end():])[0]:
                if nm.lower() in _TIMING:
                    continue
                pass_vals[nm] = (avg, lineno)
            continue
        m = _SUMMARY.match(line)
        if m is not None:
            pairs = _summary_pairs(m.group(1))
            if not pairs:
                continue
            if mode != "eval":
                pass_group = lineno
            for nm, value in pairs:
                pass_vals[nm] = (value, lineno)
            mode = "eval_done"
            last_test_idx = -1
            continue
        if mode is None or mode == "eval_done":
            continue
        meters_c: list[tuple[str, float]] = []
        lm = _LIST.match(line)
        if lm is not None:
            names = lm.group(1).split(",")
            values = lm.group(2).split()
            if len(names) == len(values):
                meters_c = [(nm, float(v)) for nm, v in zip(names, values)]
        else:
            meters, complete = _meters(line)
            if meters and complete:
                meters_c = [(nm, cur if mode == "train" else avg) for nm, cur, avg in meters]
        for nm, value in meters_c:
            if nm.lower() in _TIMING:
                continue
            if mode == "train":
                yield Record(train_step, "train", _metric(nm), value, nm, epoch=epoch,
                             line=lineno, group=train_group)
            else:
                pass_vals[nm] = (value, lineno)
    yield from flush()
