"""Small helpers shared by the text-log format modules (not a format itself).

- :data:`NUM`: a regex fragment for a number as training logs print it: ints,
  decimals, scientific notation, and ``nan``/``NaN``/``NAN``/``-nan``/``inf``/``Infinity``.
- :func:`to_float`: ``float()`` that keeps NaN/inf and returns None for junk.
- :func:`numbered`: ``(lineno, text)`` pairs from a source of lines or pairs.
- :func:`canonical`: (split, metric) for a key as written in a log
  ("val_loss" -> ("eval", "loss"), "Train Acc" -> ("train", "accuracy")).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

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


def numbered(source: Iterable) -> Iterator[tuple[int, str]]:
    """Yield ``(lineno, text)`` whether ``source`` gives strings or (lineno, text) pairs."""
    n = 0
    for item in source:
        if isinstance(item, str):
            n += 1
            yield n, item
        else:
            n, text = item[0], item[1]
            yield n, text


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

METRIC_ALIASES = {
    "loss": "loss",
    "acc": "accuracy",
    "accuracy": "accuracy",
    "lr": "learning_rate",
    "learning_rate": "learning_rate",
    "gnorm": "grad_norm",
    "grad_norm": "grad_norm",
    "gradient_norm": "grad_norm",
    "ppl": "perplexity",
    "perplexity": "perplexity",
}

_SEP = re.compile(r"[\s\-./]+")


def canonical(name: str, split: str = "train") -> tuple[str, str]:
    """(split, metric) for ``name``: a split word at the start (``val_loss``,
    ``Validation Loss``, ``train/acc``) overrides ``split``; the rest is lower-cased,
    joined by ``_`` and mapped through a few aliases (acc -> accuracy, lr ->
    learning_rate, ppl -> perplexity, gnorm -> grad_norm)."""
    words = [w for w in _SEP.split(name.strip().lower().replace("_", " ")) if w]
    if len(words) > 1 and words[0] in SPLIT_WORDS:
        split = SPLIT_WORDS[words[0]]
        words = words[1:]
    metric = "_".join(words) or name.strip().lower()
    return split, METRIC_ALIASES.get(metric, metric)
