"""Megatron-LM / Megatron-DeepSpeed iteration lines (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'megatron'
DESCRIPTION = 'Megatron-LM / Megatron-DeepSpeed iteration lines'
EXAMPLE = ' iteration       20/    1000 | consumed samples: 640 | lm loss: 1.210588E+01 | loss scale: 4096.0 |'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
