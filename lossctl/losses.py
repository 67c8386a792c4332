"""Loss functions with PyTorch's exact semantics, as pure numpy, and their registry.

CONTRACT (the compute layer, the CLI and ``--explain`` rely on it):

- ``REGISTRY``: name (as the CLI spells it) -> :class:`LossSpec`; ``ALIASES`` maps
  extra names (``mae`` -> ``l1``). ``get(name)`` returns the spec or raises
  :class:`lossctl.errors.UsageError` suggesting the closest name.
- ``spec.fn(x, y, opts) -> Parts``: ``x`` the input as a float64 array (rows = samples),
  ``y`` the target array (or None where the loss takes none), ``opts`` a dict of
  validated options keyed by python name (``label_smoothing``). It returns the
  *unreduced* loss exactly as PyTorch's ``reduction='none'`` would, plus the
  denominator that ``reduction='mean'`` divides the sum by, and the batch size (for
  ``batchmean``). The function works on any subset of rows, so the compute layer
  can stream a big file in chunks: ``mean = Σ_chunks values.sum() / Σ_chunks denominator``.
- ``reduce(parts, reduction)`` applies a reduction to one ``Parts``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from lossctl.errors import UsageError


@dataclass(frozen=True)
class Option:
    """One option of a loss. ``name`` is the CLI spelling without ``--``."""

    name: str
    kind: str  # "float" | "int" | "bool" | "floats"
    default: Any
    help: str

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")


@dataclass
class Parts:
    values: np.ndarray  # unreduced loss, PyTorch's reduction='none' output
    denominator: float  # what reduction='mean' divides values.sum() by
    batch: int  # number of samples (rows), for kl-div's batchmean
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LossSpec:
    name: str
    summary: str  # one line: what it is for
    formula: str  # one line: the per-element formula
    fn: Callable[[np.ndarray, np.ndarray | None, Mapping[str, Any]], Parts]
    options: tuple[Option, ...] = ()
    reductions: tuple[str, ...] = ("mean", "sum", "none")
    default_reduction: str = "mean"
    target: str = "same"  # "class" (class indices or probabilities) | "same" (same shape) | "none"
    aliases: tuple[str, ...] = ()


def reduce(parts: Parts, reduction: str):
    if reduction == "none":
        return parts.values
    total = float(np.sum(parts.values))
    if reduction == "sum":
        return total
    if reduction == "mean":
        return total / parts.denominator if parts.denominator else float("nan")
    if reduction == "batchmean":
        return total / parts.batch if parts.batch else float("nan")
    raise UsageError(f"unknown reduction {reduction!r}")


# ---------------------------------------------------------------- losses


def _mse(x: np.ndarray, y: np.ndarray | None, opts: Mapping[str, Any]) -> Parts:
    d = x - y
    v = d * d
    return Parts(v, float(v.size), int(v.shape[0]) if v.ndim else 1)


REGISTRY: dict[str, LossSpec] = {
    "mse": LossSpec(
        name="mse",
        summary="mean squared error (regression)",
        formula="(x - y)^2",
        fn=_mse,
    ),
}

ALIASES: dict[str, str] = {}


def names() -> list[str]:
    return sorted(REGISTRY)


def get(name: str) -> LossSpec:
    key = name.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    if key in REGISTRY:
        return REGISTRY[key]
    candidates = list(REGISTRY) + list(ALIASES)
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'?" if close else "run 'lossctl losses' to list them"
    raise UsageError(f"unknown loss {name!r}", hint=hint)
