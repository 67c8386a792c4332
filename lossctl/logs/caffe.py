"""Caffe solver output (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'caffe'
DESCRIPTION = 'Caffe solver output'
EXAMPLE = 'Iteration 100, loss = 0.18'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
