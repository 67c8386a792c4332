"""timm (pytorch-image-models) train.py lines (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'timm'
DESCRIPTION = 'timm (pytorch-image-models) train.py lines'
EXAMPLE = 'Train: 2 [3150/5004 ( 63%)]  Loss: 5.354 (5.330)  Time: 0.31s  LR: 1.000e-03'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
