"""Fast CSV output for big Hugging Face console logs (filled in below)."""

from __future__ import annotations


def applies(stream, *, run=None) -> bool:
    return False


def write_csv(stream, out, sep=",", metrics=None, splits=None) -> int:  # pragma: no cover
    raise NotImplementedError
