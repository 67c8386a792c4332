"""OpenMMLab text logs: mmdetection / mmseg / mmpretrain on mmcv 1.x ("v2") and mmengine.

::

    Epoch [1][50/361]\\tlr: 2.473e-04, eta: 1:20:05, time: 1.122, ..., loss_cls: 0.19, acc: 73.9, loss: 1.4563
    Epoch [1][361/361]\\tlr: 1.801e-03, bbox_mAP: 0.0370, bbox_mAP_50: 0.0810, ...   (eval, mmcv 1.x)
    Epoch(val) [1][361]\\tbbox_mAP: 0.3700, ...
    Epoch(train)  [1][240/735]  lr: 1.0000e-02  eta: 0:59:17  time: 0.41  grad_norm: nan  loss: 2.5128
    Epoch(val) [1][625/625]    coco/bbox_mAP: 0.3740  coco/bbox_mAP_50: 0.5810  ...
    Iter [50/20000]\\tlr: ..., loss: 0.91              Iter(train) [  100/80000]  lr: ...  loss: ...

Rules:

- step = global iteration. Epoch-based: (epoch - 1) * iters_per_epoch + iter, with
  iters_per_epoch from ``[iter/N]``; the epoch is kept in the epoch column.
  Iter-based: the iteration.
- Evaluation lines: ``Epoch(val)``/``Iter(val)`` (test: ``(test)``), and the mmcv-1.x
  lines printed in train mode after evaluation (no ``time`` and no loss field).
  Their step is the end of that epoch (epoch * iters_per_epoch of the train lines)
  or, for iteration-based runs, the last train iteration (mmcv 1.x ``Iter(val) [K]``
  without a total gives K itself). Progress lines of the val loop (only eta/time/
  memory) give nothing.
- Fields: ``loss`` -> loss, ``loss_xxx`` kept as is, ``acc`` -> accuracy, ``lr`` ->
  learning_rate (not on evaluation lines), ``grad_norm`` kept; ``eta``, ``time``,
  ``data_time``, ``memory``, ``base_lr`` and ``*_copypaste`` are left out.
  ``nan``/``inf`` values are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, canonical, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "mmdet-text"
DESCRIPTION = "mmdetection / mmengine text logs ('Epoch(train) [1][240/735] ... loss: 2.5')"
EXAMPLE = "Epoch(train)  [1][240/735]  lr: 1.0000e-02  eta: 0:59:17  time: 0.4132  loss: 2.5128"
KIND = "lines"

# Epoch[(mode)] [epoch][iter(/N)]  or  Iter[(mode)] [iter(/N)]; an epoch bracket never
# has a total ("Epoch [1/50]" is some other log)
_HEAD = re.compile(
    r"\b(?:(Epoch)(?:\((train|val|test)\))?\s*\[\s*(\d+)\s*\]\s*\[\s*(\d+)\s*(?:/\s*(\d+)\s*)?\]"
    r"|(Iter)(?:\((train|val|test)\))?\s*\[\s*(\d+)\s*(?:/\s*(\d+)\s*)?\])"
)
_PAIR = re.compile(r"([A-Za-z_][\w/@.\-]*):\s+(" + NUM + r")(?=[,\s]|$)")
_D_FIELD = re.compile(r"\s+(?:[\w/@.\-]+: )")
_SKIP_KEYS = {"eta", "time", "data_time", "memory", "base_lr", "iter_time"}


def detect(sample: str) -> float:
    hits = 0
    for m in _HEAD.finditer(sample):
        rest = sample[m.end(): m.end() + 400]
        if _D_FIELD.match(rest):
            hits += 1
            if hits >= 3:
                return 0.9
    return 0.6 if hits else 0.0


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    per_epoch: float | None = None  # train iterations per epoch
    last_train_step: float | None = None
    for lineno, line in numbered(source, ctx):
        if "Epoch" not in line and "Iter" not in line:
            continue
        m = _HEAD.search(line)
        if m is None:
            continue
        if m.group(1):
            kind, mode, first, it, total = "Epoch", m.group(2), m.group(3), m.group(4), m.group(5)
        else:
            kind, mode, first, it, total = "Iter", m.group(7), m.group(8), None, m.group(9)
        pairs = _PAIR.findall(line, m.end())
        if not pairs:
            if ":" in line[m.end():] and "eta" not in line[m.end():]:
                ctx.skip(lineno, "OpenMMLab line without readable fields")
            continue
        keys = {k for k, _ in pairs}
        is_eval = mode in ("val", "test") or (
            "time" not in keys and not any("loss" in k for k in keys)
        )
        epoch: float | None = None
        if kind == "Epoch":
            epoch = float(first)
            if not is_eval:
                if total is not None:
                    per_epoch = float(total)
                step = (epoch - 1) * per_epoch + float(it) if per_epoch else float(it)
                last_train_step = step
            else:
                step = epoch * per_epoch if per_epoch else last_train_step
        else:
            k = float(first)
            if not is_eval:
                step = k
                last_train_step = step
            elif total is None:  # mmcv 1.x: Iter(val) [K] is the train iteration
                step = k
            else:  # mmengine: Iter(val) [i/N] counts val batches
                step = last_train_step
        split = "test" if mode == "test" else ("eval" if is_eval else "train")
        for key, raw in pairs:
            if key in _SKIP_KEYS or key.endswith("copypaste"):
                continue
            if is_eval and key == "lr":
                continue
            value = to_float(raw)
            if value is None:
                continue
            metric = canonical(key, split)[1]
            yield Record(step, split, metric, value, key, epoch=epoch, line=lineno, group=lineno)
