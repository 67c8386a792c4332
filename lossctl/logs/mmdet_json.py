"""MMDetection / MMEngine JSON logs.

- mmdet 2.x ``<timestamp>.log.json``: a first line with ``env_info``/``config``
  (hyper-parameters are not read from it), then one object per logging interval:
  ``{"mode": "train", "epoch": 1, "iter": 50, "lr": ..., "loss_cls": ..., "loss": ...}``
  and ``{"mode": "val", "epoch": 1, "iter": ..., "bbox_mAP": ...}``. ``iter`` counts
  within the epoch there, so the step is the position in the log: the k-th train
  entry is step k (the shared step numbering), a val entry takes the step of the last
  train entry. ``epoch`` is kept.
- MMEngine ``vis_data/scalars.json``: ``{"lr": ..., "loss": ..., "epoch": 1, "iter": 50,
  "step": 50}`` with a global ``step``; validation entries (``coco/bbox_mAP``, ...,
  whose ``step`` is an epoch number) take the step of the last train entry.

``memory``, ``data_time`` and ``time`` are kept as train metrics; ``mode``/``epoch``/
``iter``/``step`` are coordinates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs import tidy
from lossctl.logs.base import ParseContext, Record, json_objects

NAME = "mmdet-json"
DESCRIPTION = "MMDetection .log.json lines (mode/epoch/iter) and MMEngine scalars.json"
EXAMPLE = '{"mode": "train", "epoch": 1, "iter": 50, "lr": 0.00025, "loss_cls": 1.19, "loss_bbox": 0.15, "loss": 1.46, "time": 1.12}'
KIND = "lines"

_COORD = frozenset(("mode", "epoch", "iter", "step", "env_info", "config", "seed", "exp_name", "hook_msgs"))


def detect(sample: str) -> float:
    lines = [ln.strip() for ln in sample.splitlines() if ln.strip()]
    hits = mmengine = 0
    for ln in lines[:50]:
        if not ln.startswith("{"):
            continue
        if '"mode": "train"' in ln or '"mode": "val"' in ln:
            if '"iter"' in ln:
                hits += 1
        elif '"iter"' in ln and '"step"' in ln and '"loss' in ln:
            mmengine += 1
    if hits >= 1:
        return 0.95
    if mmengine >= 1:
        return 0.85
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    group = 0
    last_train_step = 0.0
    for obj in json_objects(source, ctx):
        if "env_info" in obj or "config" in obj:
            continue
        group += 1
        mode = obj.get("mode")
        epoch = tidy.to_float(obj.get("epoch"))
        numeric = [(k, tidy.to_float(v)) for k, v in obj.items()
                   if k not in _COORD and not isinstance(v, (bool, str, list, dict)) and v is not None]
        numeric = [(k, v) for k, v in numeric if v is not None]
        is_eval = mode in ("val", "test") or (mode is None and not any("loss" in k for k, _ in numeric)
                                             and any("/" in k for k, _ in numeric))
        if mode is None and "step" in obj and not is_eval:
            step = tidy.to_float(obj.get("step"))
            if step is not None:
                last_train_step = step
        elif mode is None and is_eval:
            step = last_train_step
        else:
            step = None  # numbered in logging order (iter restarts every epoch)
        default = "test" if mode == "test" else "eval"
        for k, v in numeric:
            if is_eval and k in ("lr", "memory", "time", "data_time"):
                continue  # the val line repeats the current lr; timers are not eval metrics
            if is_eval:
                split, metric = tidy.canonical(k, default)
                if split == "train":
                    split = default
                if "/" in k and k.split("/", 1)[0] in ("coco", "pascal_voc", "bbox", "segm"):
                    metric = k
            else:
                split, metric = tidy.canonical(k)
            yield Record(step=step, split=split, metric=metric, value=v, name=k, epoch=epoch, group=group)
