"""nanoGPT, build-nanogpt and modded-nanogpt console lines (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'nanogpt'
DESCRIPTION = 'nanoGPT, build-nanogpt and modded-nanogpt console lines'
EXAMPLE = 'iter 100: loss 2.3456, time 12.34ms, mfu 10.00%'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
