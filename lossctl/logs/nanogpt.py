"""nanoGPT, build-nanogpt and modded-nanogpt console logs (one module, three dialects).

nanoGPT (karpathy/nanoGPT ``train.py``)::

    step 500: train loss 1.2345, val loss 1.4567
    iter 500: loss 1.2101, time 12.34ms, mfu 10.00%

build-nanogpt (karpathy/build-nanogpt ``train_gpt2.py``, console and ``log.txt``)::

    validation loss: 10.9522
    HellaSwag accuracy: 2497/10042=0.2487
    step     0 | loss: 10.955010 | lr 6.0000e-04 | norm: 15.3420 | dt: 19152.47ms | tok/sec: 27374.43
    250 val 6.2648            (log.txt: "<step> train|val|hella <value>")

modded-nanogpt (KellerJordan/modded-nanogpt)::

    step:100/3000 val_loss:6.0702 train_time:23859ms step_avg:238.59ms
    step:1/3000 train_loss:10.9 train_time:326ms step_avg:325.73ms

Rules:

- step = the step/iter number as printed.
- nanoGPT ``step N: train loss A, val loss B`` is an estimate over ``eval_iters``
  batches. val -> eval/loss. The train estimate is train/loss when the log has no
  ``iter`` lines; when it has them (they are the per-iteration train/loss), the
  estimate is kept as train/``estimated_loss`` so the two never collide at step N.
- build-nanogpt prints ``validation loss`` (and ``HellaSwag accuracy``) with no step,
  just *before* the ``step N`` line of the step it was computed at (``step % 250 == 0``
  and the last step). They get step = last printed step + 1 (0 before any step line),
  i.e. the step of the line that follows; HellaSwag -> eval/``hellaswag_accuracy``.
  ``norm`` -> grad_norm, ``lr`` -> learning_rate.
- modded-nanogpt ``val_loss`` -> eval/loss, ``train_loss`` -> train/loss;
  ``train_time`` (ms) is kept as the record time in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "nanogpt"
DESCRIPTION = "nanoGPT / build-nanogpt / modded-nanogpt console lines"
EXAMPLE = "iter 100: loss 2.3456, time 12.34ms, mfu 10.00%"
KIND = "lines"

# nanoGPT
# forks print a "[train] " / "[eval] " tag first, and "iter N: train A val B" for the estimate
_ITER = re.compile(r"^\s*(?:\[\w+\]\s*)?iter (\d+): loss (" + NUM + r")(.*)")
_STEP_EVAL = re.compile(
    r"^\s*(?:\[\w+\]\s*)?(?:step|iter) (\d+): train(?: loss)? (" + NUM + r"),? val(?: loss)? (" + NUM + r")")
# build-nanogpt
_BN_STEP = re.compile(r"^\s*step\s+(\d+) \| loss: (" + NUM + r")(.*)")
_BN_FIELD = re.compile(r"\|\s*(lr|norm):?\s+(" + NUM + r")")
_BN_VAL = re.compile(r"^\s*validation loss: (" + NUM + r")\s*$")
_BN_HELLA = re.compile(r"^\s*HellaSwag accuracy: \d+/\d+=(" + NUM + r")\s*$")
_BN_LOGTXT = re.compile(r"^(\d+) (train|val|hella) (" + NUM + r")\s*$")
# modded-nanogpt
_MOD = re.compile(r"^\s*step:(\d+)/(\d+)\s+(.*)")
_MOD_FIELD = re.compile(r"(\w+):(" + NUM + r")(ms)?")

_DETECT = re.compile(
    r"(?m)^\s*(?:iter \d+: loss " + NUM + r", time|\[train\]\s*iter \d+: loss " + NUM
    + r"|\[eval\]\s*(?:iter|step) \d+: train(?: loss)? " + NUM + r",? val|step \d+: train loss " + NUM
    + r", val loss|step\s+\d+ \| loss: " + NUM + r" \||step:\d+/\d+ (?:val_loss|train_loss|train_time):"
    + r"|validation loss: " + NUM + r"\s*$|\d+ (?:train|val) " + NUM + r"\s*$)"
)


def detect(sample: str) -> float:
    n = len(_DETECT.findall(sample))
    if n >= 3:
        return 0.95
    if n:
        return 0.6
    return 0.0


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    last_step: float | None = None
    has_iter = False
    pending: list[Record] = []  # nanoGPT train estimates, until we know if iter lines exist

    def flush() -> Iterator[Record]:
        for r in pending:
            if has_iter:
                r.metric = "estimated_loss"
            yield r
        pending.clear()

    for lineno, line in numbered(source, ctx):
        if "loss" not in line and "step" not in line and "accuracy" not in line and " val " not in line:
            if not (line[:1].isdigit() and (" train " in line or " val " in line or " hella " in line)):
                continue
        m = _ITER.match(line)
        if m is not None:
            has_iter = True
            yield from flush()
            step = float(m.group(1))
            last_step = step
            yield Record(step, "train", "loss", to_float(m.group(2)), "loss", line=lineno, group=lineno)
            continue
        m = _STEP_EVAL.match(line)
        if m is not None:
            yield from flush()
            step = float(m.group(1))
            last_step = step
            pending.append(Record(step, "train", "loss", to_float(m.group(2)), "train loss",
                                  line=lineno, group=lineno))
            yield Record(step, "eval", "loss", to_float(m.group(3)), "val loss", line=lineno, group=lineno)
            continue
        m = _BN_STEP.match(line)
        if m is not None:
            step = float(m.group(1))
            last_step = step
            yield Record(step, "train", "loss", to_float(m.group(2)), "loss", line=lineno, group=lineno)
            for key, raw in _BN_FIELD.findall(m.group(3)):
                metric = "learning_rate" if key == "lr" else "grad_norm"
                yield Record(step, "train", metric, to_float(raw), key, line=lineno, group=lineno)
            continue
        m = _BN_VAL.match(line)
        if m is not None:
            step = 0.0 if last_step is None else last_step + 1
            yield Record(step, "eval", "loss", to_float(m.group(1)), "validation loss",
                         line=lineno, group=lineno)
            continue
        m = _BN_HELLA.match(line)
        if m is not None:
            step = 0.0 if last_step is None else last_step + 1
            yield Record(step, "eval", "hellaswag_accuracy", to_float(m.group(1)),
                         "HellaSwag accuracy", line=lineno, group=lineno)
            continue
        m = _MOD.match(line)
        if m is not None:
            step = float(m.group(1))
            last_step = step
            fields = _MOD_FIELD.findall(m.group(3))
            time = None
            for key, raw, ms in fields:
                if key == "train_time":
                    v = to_float(raw)
                    time = v / 1000.0 if (v is not None and ms) else v
            for key, raw, _ms in fields:
                if key in ("val_loss", "train_loss"):
                    split = "eval" if key == "val_loss" else "train"
                    yield Record(step, split, "loss", to_float(raw), key, time=time,
                                 line=lineno, group=lineno)
            continue
        m = _BN_LOGTXT.match(line)
        if m is not None:
            step = float(m.group(1))
            kind = m.group(2)
            if kind == "train":
                last_step = step
                yield Record(step, "train", "loss", to_float(m.group(3)), "train", line=lineno, group=lineno)
            elif kind == "val":
                yield Record(step, "eval", "loss", to_float(m.group(3)), "val", line=lineno, group=lineno)
            else:
                yield Record(step, "eval", "hellaswag_accuracy", to_float(m.group(3)), "hella",
                             line=lineno, group=lineno)
            continue
        if "loss" in line and ("step" in line or "iter" in line):
            s = line.lstrip()
            if s.startswith(("step", "iter")):
                ctx.skip(lineno, "unreadable nanoGPT step line")
    yield from flush()
