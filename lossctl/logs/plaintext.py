"""generic 'epoch/step ... loss ...' text lines (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'plaintext'
DESCRIPTION = "generic 'epoch/step ... loss ...' text lines"
EXAMPLE = 'Epoch [1/50], Train Loss: 1.94, Val Loss: 1.90'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
