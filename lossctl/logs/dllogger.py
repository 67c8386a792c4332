"""NVIDIA DLLogger (DLLL JSON and text) (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'dllogger'
DESCRIPTION = 'NVIDIA DLLogger (DLLL JSON and text)'
EXAMPLE = 'DLLL {"type": "LOG", "step": [0, 10], "data": {"loss": 2.3}}'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
