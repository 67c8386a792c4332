"""Small helpers shared by the text-log format modules (not a format itself).

- :data:`NUM`: a regex fragment for a number as training logs print it: ints,
  decimals, scientific notation, and ``nan``/``NaN``/``NAN``/``-nan``/``inf``/``Infinity``.
- :func:`to_float`: ``float()`` that keeps NaN/inf and returns None for junk.
- :func:`numbered`: ``(physical line number, text)`` for the lines a parser gets.
- :func:`canonical`: (split, metric) for a key as written in a log
  ("val_loss" -> ("eval", "loss"), "Train Acc" -> ("train", "accuracy")); this is
  :func:`lossctl.logs.tidy.canonical`, the one naming rule of every format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lossctl.logs.tidy import canonical

__all__ = ["NUM", "NUM_RE", "to_float", "numbered", "canonical", "SPLIT_WORDS", "hit_score"]

NUM = (
    r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
    r"|[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
)
NUM_RE = re.compile(NUM)


def to_float(text: str) -> float | None:
    """The number in ``text`` (``"1.2E+01"``, ``"nan"``, ``"-inf"``), or None."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def numbered(source: Iterable[str], ctx=None) -> Iterator[tuple[int, str]]:
    """``(lineno, text)`` for each line of ``source``.

    Under :func:`lossctl.logs.iter_records` the reader keeps ``ctx.lineno`` at the
    physical line number of the line being handled (several logical lines share it
    when ``\\r`` frames are split); without it (a plain list of lines) lines are counted.
    """
    if ctx is not None and hasattr(ctx, "lineno"):
        for text in source:
            yield ctx.lineno, text
    else:
        yield from enumerate(source, 1)


SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "val": "eval",
    "valid": "eval",
    "validation": "eval",
    "validating": "eval",
    "eval": "eval",
    "evaluation": "eval",
    "evaluating": "eval",
    "dev": "eval",
    "test": "test",
    "testing": "test",
    "tst": "test",
}


def hit_score(n: int, one: float = 0.6, many: float = 0.9) -> float:
    """A detection score from the number of lines in the sample that only this format
    writes: ``many`` for two or more, ``one`` for a single one, 0 for none."""
    if n >= 2:
        return many
    return one if n else 0.0
