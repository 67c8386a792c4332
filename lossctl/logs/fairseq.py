"""fairseq train/valid summary lines (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'fairseq'
DESCRIPTION = 'fairseq train/valid summary lines'
EXAMPLE = 'epoch 001 | loss 4.281 | nll_loss 2.9 | ppl 7.46 | wps 9000 | num_updates 100'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
