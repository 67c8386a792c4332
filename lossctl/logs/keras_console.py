"""Keras model.fit() console output (stub, being written)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

NAME = 'keras-console'
DESCRIPTION = 'Keras model.fit() console output'
EXAMPLE = '250/250 [==============================] - 3s 12ms/step - loss: 0.5012 - val_loss: 0.6123'
KIND = "lines"


def detect(sample: str) -> float:
    return 0.0


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    return iter(())
