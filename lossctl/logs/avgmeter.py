"""PyTorch examples AverageMeter progress lines (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'avgmeter'
DESCRIPTION = 'PyTorch examples AverageMeter progress lines'
EXAMPLE = 'Epoch: [0][10/250]\tTime 0.1 (0.2)\tData 0.0 (0.0)\tLoss 13.06 (13.06)\tAcc@1 0.0 (0.0)'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
