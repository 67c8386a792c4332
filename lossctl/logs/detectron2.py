"""Detectron2 ``metrics.json``: one JSON object per line, written by ``JSONWriter``.

Training lines carry ``iteration``, ``total_loss`` (→ train ``loss``), the loss terms
(``loss_cls``, ``loss_box_reg``, ``loss_rpn_cls``, ...), ``lr`` (→ ``learning_rate``)
and timers (``time``, ``data_time``). Evaluation lines (``bbox/AP``, ``segm/AP50``,
``keypoints/...``, ``sem_seg/...``, ``panoptic_seg/...``; or a ``validation_loss``
written by a custom hook) are eval records at their iteration. ``eta_seconds`` is
not a metric. Several runs appended to the same file (the iteration counter
restarts) are told apart by the shared run splitting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs import tidy
from lossctl.logs.base import ParseContext, Record, json_objects

NAME = "detectron2"
DESCRIPTION = "Detectron2 metrics.json (one JSON object per line with iteration, total_loss, loss_*)"
EXAMPLE = '{"iteration": 19, "loss_box_reg": 0.53, "loss_cls": 1.89, "lr": 1.93e-06, "time": 2.24, "total_loss": 2.73}'
KIND = "lines"

EVAL_PREFIXES = ("bbox/", "segm/", "keypoints/", "sem_seg/", "panoptic_seg/", "coco/", "lvis/")
_SKIP = frozenset(("iteration", "eta_seconds", "epoch"))


def detect(sample: str) -> float:
    lines = [ln.strip() for ln in sample.splitlines() if ln.strip()]
    hits = 0
    for ln in lines[:50]:
        if ln.startswith("{") and '"iteration"' in ln and ('"total_loss"' in ln or '"loss_' in ln):
            hits += 1
    if hits >= 2 or (hits == 1 and len(lines) <= 2):
        return 0.95
    if hits:
        return 0.7
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    group = 0
    for obj in json_objects(source, ctx):
        group += 1
        step = tidy.to_float(obj.get("iteration"))
        epoch = tidy.to_float(obj.get("epoch"))
        for k, v in obj.items():
            if k in _SKIP or isinstance(v, (bool, str, list, dict)) or v is None:
                continue
            f = tidy.to_float(v)
            if f is None:
                continue
            if k.startswith(EVAL_PREFIXES):
                split, metric = "eval", k
            elif k == "total_loss":
                split, metric = "train", "loss"
            else:
                split, metric = tidy.canonical(k)
            yield Record(step=step, split=split, metric=metric, value=f, name=k, epoch=epoch, group=group)
