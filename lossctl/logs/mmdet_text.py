"""mmdetection / mmengine text logs (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'mmdet-text'
DESCRIPTION = 'mmdetection / mmengine text logs'
EXAMPLE = 'Epoch(train) [1][240/735]  lr: 1.0000e-02  eta: 0:10:00  loss: 2.5128'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
