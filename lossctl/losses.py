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

Details of this implementation (additions to the contract, nothing removed):

- ``validate_options(spec, given)`` turns CLI option values (keyed by CLI name,
  ``None`` = not given) into the ``opts`` dict: python keys, defaults filled, ranges
  checked, plus ``opts["reduction"]`` (the validated reduction; the fns ignore it).
- Private keys a caller may add to ``opts``: ``_row0`` (the number of the first row
  of this chunk, used in error messages: row ``_row0 + i``; default 0),
  ``_source`` (a file name for error messages), ``_seq_ids`` (lm only: the sequence
  of every token, from :func:`lm_flatten`), and for gaussian-nll ``var`` may be an
  array (per element, per row, or a scalar) instead of the scalar ``--var`` option.
- ``Parts.extra`` may hold ``"warnings"`` (list of human messages for stderr),
  ``"notes"`` (list of messages worth printing, e.g. lm's per-sequence mean),
  ``"denominator_is"`` (what ``mean`` divides by, in words) and loss-specific data.
- Class targets (cross-entropy, nll, multi-margin) are class indices with one dimension
  fewer than the input (given as ints or integer-valued floats), or for cross-entropy
  probabilities of the input's shape. Inputs of shape (N, C, d1, ...) are accepted
  like PyTorch (class dimension 1); values then have the target's shape.
- ``lm`` has ``target == "tokens"``: no target (per-token probabilities or
  log-probabilities) or token ids with logits. Use :func:`lm_flatten` first.
- NaN and inf in the input propagate as in PyTorch; they never raise here.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from lossctl.errors import InputError, UsageError

# Rows of --probs input whose sum is further than this from 1 get a warning.
ROWSUM_TOL = 1e-3
# lm log-probabilities above this are an error (a rounding error like log(1 + 2e-16) is not).
LOGPROB_TOL = 1e-12
# PyTorch's binary_cross_entropy clamps each log term at this value.
BCE_LOG_CLAMP = -100.0
LOG2 = math.log(2.0)


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
    target: str = "same"  # "class" (class indices or probabilities) | "same" (same shape) | "none" | "tokens" (lm)
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


# ---------------------------------------------------------------- helpers


def _err(opts: Mapping[str, Any], message: str, *, key: str | None = None, hint: str | None = None):
    return InputError(message, source=opts.get("_source"), key=key, hint=hint)


def _row(opts: Mapping[str, Any], i: int) -> int:
    return int(opts.get("_row0", 0) or 0) + int(i)


def _num(v: float) -> str:
    """A number as a user typed it: 3 not 3.0, 0.6 not 0.6000000001."""
    v = float(v)
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"


def _f64(a, what: str, opts: Mapping[str, Any]) -> np.ndarray:
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise _err(opts, f"{what} is not an array of numbers ({e})", key=what) from None


def _need_target(name: str, y, opts) -> None:
    if y is None:
        raise _err(opts, f"{name} needs a target", key="target",
                   hint="give the target next to the input (e.g. {\"input\": ..., \"target\": ...})")


def _same_shape(name: str, x: np.ndarray, y: np.ndarray, opts, what: str = "target") -> None:
    if x.shape != y.shape:
        raise _err(
            opts,
            f"input has shape {x.shape} but {what} has shape {y.shape}",
            key=what,
            hint=f"{name} compares input and {what} element by element; give them the same shape",
        )


def _broadcast(w: np.ndarray, shape: tuple, what: str, opts) -> np.ndarray:
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise _err(
            opts,
            f"--{what} has shape {w.shape}, which does not broadcast to the input's shape {shape}",
            hint=f"give one --{what} value, or one per column (the input's last dimension)",
        ) from None


def _first_bad(mask: np.ndarray) -> tuple[int, tuple]:
    """Index along axis 0 and full index of the first True in ``mask``."""
    flat = int(np.flatnonzero(mask.ravel())[0])
    idx = np.unravel_index(flat, mask.shape)
    return int(idx[0]) if mask.ndim else 0, tuple(int(i) for i in idx)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """log_softmax over the last axis, computed as PyTorch does: (x - max) - log Σ exp(x - max)."""
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    shifted = x - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Stable log Σ exp over ``axis``."""
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log σ(x) = min(x, 0) - log1p(exp(-|x|)), finite for any finite x."""
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + exp(-x)) as PyTorch computes it; exp overflow gives exactly 0."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


@dataclass
class _ClassData:
    """Class-target data flattened to (M, C) rows, M = samples × extra dims."""

    x: np.ndarray  # (M, C)
    soft: bool
    idx: np.ndarray | None  # (M,) int, ignored rows replaced by 0
    keep: np.ndarray | None  # (M,) bool, False for ignored rows
    t: np.ndarray | None  # (M, C) soft targets
    out_shape: tuple  # shape of the unreduced values
    batch: int
    rows: np.ndarray  # (M,) sample index (axis 0) of every flat row
    n_classes: int


def _class_data(name: str, x, y, opts, *, allow_soft: bool, ignore_index: int | None) -> _ClassData:
    _need_target(name, y, opts)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim == 0:
        raise _err(opts, f"{name} needs one row of class scores per sample; input is a single number",
                   key="input", hint="give input as [[score_0, score_1, ...], ...]")
    if x.ndim == 1:  # one unbatched sample, like PyTorch's (C,) input
        if y.ndim == 0:
            x, y = x[None, :], y[None]
        elif allow_soft and y.shape == x.shape:
            x, y = x[None, :], y[None, :]
        else:
            raise _err(
                opts,
                f"input has shape {x.shape} but target has shape {y.shape}",
                key="target",
                hint="give input as rows of class scores [[...], ...] with one class index per row",
            )
    n_classes = int(x.shape[1])
    if n_classes == 0:
        raise _err(opts, "input has no classes (its rows are empty)", key="input")
    # move the class dimension last and flatten the rest
    xm = np.moveaxis(x, 1, -1)
    inner = int(np.prod(x.shape[2:])) if x.ndim > 2 else 1
    if allow_soft and y.shape == x.shape:
        if y.dtype.kind not in "fiub":
            raise _err(opts, "target is not numeric", key="target")
        t = np.moveaxis(y.astype(np.float64), 1, -1).reshape(-1, n_classes)
        m = t.shape[0]
        return _ClassData(xm.reshape(-1, n_classes), True, None, None, t,
                          (x.shape[0],) + x.shape[2:], int(x.shape[0]),
                          np.arange(m) // max(inner, 1), n_classes)
    expected = (x.shape[0],) + x.shape[2:]
    if y.shape != expected:
        extra = " or probabilities of the input's shape" if allow_soft else ""
        raise _err(
            opts,
            f"input has shape {x.shape} but target has shape {y.shape}",
            key="target",
            hint=f"{name} takes one class index per row (target shape {expected}){extra}",
        )
    if y.dtype.kind not in "iub":
        if y.dtype.kind != "f":
            raise _err(opts, "target is not numeric: class indices must be integers", key="target")
        bad = ~(np.isfinite(y) & (np.floor(y) == y))
        if bad.any():
            r, full = _first_bad(bad)
            raise _err(
                opts,
                f"row {_row(opts, r)}: target {_num(y[full])} is not a class index (an integer)",
                key="target",
                hint=("class targets are integers 0..C-1"
                      + ("; for probability targets give one row per sample, shaped like the input" if allow_soft else "")),
            )
        shown = y.reshape(-1)  # the values as written, for messages (1e26 must not wrap to -2**63)
        y = np.clip(y, -2.0 ** 62, 2.0 ** 62).astype(np.int64)
    else:
        shown = None
    yf = y.reshape(-1).astype(np.int64)
    keep = np.ones(yf.shape, dtype=bool) if ignore_index is None else (yf != ignore_index)
    bad = keep & ((yf < 0) | (yf >= n_classes))
    rows = np.arange(yf.shape[0]) // max(inner, 1)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        ign = f" and is not --ignore-index ({ignore_index})" if ignore_index is not None else ""
        raise _err(
            opts,
            f"row {_row(opts, rows[j])}: target class {int(yf[j]) if shown is None else _num(shown[j])} is out of range: "
            f"the input has {n_classes} classes (0..{n_classes - 1}){ign}",
            key="target",
            hint="targets are 0-based class indices; check the number of columns of the input",
        )
    idx = np.where(keep, yf, 0)
    return _ClassData(xm.reshape(-1, n_classes), False, idx, keep, None, expected,
                      int(x.shape[0]), rows, n_classes)


def _class_weight(opts, n_classes: int) -> np.ndarray | None:
    w = opts.get("weight")
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    if w.shape[0] != n_classes:
        raise _err(
            opts,
            f"--weight has {w.shape[0]} values but the input has {n_classes} classes",
            hint="give one weight per class, in class order",
        )
    return w


def _probs_checks(x2: np.ndarray, rows: np.ndarray, opts, extra: dict) -> None:
    """--probs input: values must lie in [0, 1]; rows that do not sum to 1 get a warning."""
    bad = (x2 < 0) | (x2 > 1)
    if bad.any():
        j, k = (int(v) for v in np.argwhere(bad)[0])
        raise _err(
            opts,
            f"row {_row(opts, rows[j])}: probability {_num(x2[j, k])} (class {k}) is outside [0, 1]",
            key="input",
            hint="with --probs the input holds probabilities; drop --probs if these are logits",
        )
    sums = np.sum(x2, axis=-1)
    off = np.flatnonzero(np.abs(sums - 1.0) > ROWSUM_TOL)  # NaN rows are not flagged
    if off.size:
        shown = off[:3]
        listing = ", ".join(f"row {_row(opts, rows[j])} (sum {sums[j]:.4g})" for j in shown)
        more = f" and {off.size - shown.size} more" if off.size > shown.size else ""
        extra.setdefault("warnings", []).append(
            f"{off.size} probability row{'s' if off.size != 1 else ''} do not sum to 1: {listing}{more}; "
            "they were used as given, not renormalised"
        )


# ---------------------------------------------------------------- classification


def _cross_entropy(x, y, opts) -> Parts:
    probs = bool(opts.get("probs", False))
    eps = float(opts.get("label_smoothing", 0.0) or 0.0)
    ignore_index = int(opts.get("ignore_index", -100))
    with np.errstate(all="ignore"):
        d = _class_data("cross-entropy", x, y, opts, allow_soft=True, ignore_index=ignore_index)
        C = d.n_classes
        w = _class_weight(opts, C)
        extra: dict = {"target_kind": "probabilities" if d.soft else "index"}
        if probs:
            _probs_checks(d.x, d.rows, opts, extra)
            logp = np.log(d.x)
        else:
            logp = _log_softmax(d.x)
        if d.soft:
            if ignore_index >= 0:
                raise _err(
                    opts,
                    f"--ignore-index {ignore_index} cannot be used with probability targets "
                    "(PyTorch refuses it too)",
                    key="target",
                    hint="drop --ignore-index, or give class indices as the target",
                )
            t = d.t
            if eps > 0:
                t = t * (1.0 - eps) + eps / C
            wl = logp * w if w is not None else logp
            terms = wl * t
            if probs:  # 0 · log 0 = 0 (xlogy), where a probability of 0 has target weight 0
                terms = np.where(t == 0, 0.0, terms)
            values = -np.sum(terms, axis=-1)
            denom = float(values.size)
            extra["denominator_is"] = "the number of samples"
        else:
            picked = np.take_along_axis(logp, d.idx[:, None], axis=-1)[:, 0]
            wy = w[d.idx] if w is not None else np.ones_like(picked)
            nll = np.where(d.keep, -wy * picked, 0.0)
            values = nll
            if eps > 0:
                smooth = -np.sum(logp * w, axis=-1) if w is not None else -np.sum(logp, axis=-1)
                smooth = np.where(d.keep, smooth, 0.0)
                values = (1.0 - eps) * nll + smooth * (eps / C)
            denom = float(np.sum(np.where(d.keep, wy, 0.0)))
            extra["ignored"] = int(np.sum(~d.keep))
            extra["denominator_is"] = (
                "Σ weight[target] over the non-ignored rows" if w is not None else "the number of non-ignored rows"
            )
    return Parts(values.reshape(d.out_shape), denom, d.batch, extra)


def _nll(x, y, opts) -> Parts:
    ignore_index = int(opts.get("ignore_index", -100))
    xa = np.asarray(x, dtype=np.float64)
    ya = None if y is None else np.asarray(y)
    if ya is not None and ya.shape == xa.shape and xa.ndim > 1:
        raise _err(
            opts,
            f"nll takes class indices, but target has the input's shape {xa.shape}",
            key="target",
            hint="for probability targets use cross-entropy",
        )
    with np.errstate(all="ignore"):
        d = _class_data("nll", xa, ya, opts, allow_soft=False, ignore_index=ignore_index)
        w = _class_weight(opts, d.n_classes)
        picked = np.take_along_axis(d.x, d.idx[:, None], axis=-1)[:, 0]
        wy = w[d.idx] if w is not None else np.ones_like(picked)
        values = np.where(d.keep, -wy * picked, 0.0)
        denom = float(np.sum(np.where(d.keep, wy, 0.0)))
    extra = {
        "target_kind": "index",
        "ignored": int(np.sum(~d.keep)),
        "denominator_is": "Σ weight[target] over the non-ignored rows" if w is not None
        else "the number of non-ignored rows",
    }
    return Parts(values.reshape(d.out_shape), denom, d.batch, extra)


def _multi_margin(x, y, opts) -> Parts:
    p = int(opts.get("p", 1))
    margin = float(opts.get("margin", 1.0))
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim > 2:
        raise _err(opts, f"multi-margin takes a 1-D or 2-D input, got shape {xa.shape}", key="input")
    with np.errstate(all="ignore"):
        d = _class_data("multi-margin", xa, y, opts, allow_soft=False, ignore_index=None)
        C = d.n_classes
        w = _class_weight(opts, C)
        xy = np.take_along_axis(d.x, d.idx[:, None], axis=-1)
        z = margin - xy + d.x
        h = np.where(z > 0, z if p == 1 else z * z, 0.0)
        if w is not None:
            h = h * w[d.idx][:, None]
        h[np.arange(h.shape[0]), d.idx] = 0.0
        values = np.sum(h, axis=-1) / C
    return Parts(values.reshape(d.out_shape), float(values.size), d.batch,
                 {"target_kind": "index", "denominator_is": "the number of samples"})


# ---------------------------------------------------------------- binary


def _elementwise_pair(name: str, x, y, opts) -> tuple[np.ndarray, np.ndarray]:
    _need_target(name, y, opts)
    x = np.asarray(x, dtype=np.float64)
    y = _f64(y, "target", opts)
    _same_shape(name, x, y, opts)
    return x, y


def _parts(values: np.ndarray, **extra) -> Parts:
    batch = int(values.shape[0]) if values.ndim else 1
    extra.setdefault("denominator_is", "the number of elements")
    return Parts(values, float(values.size), batch, dict(extra))


def _bce(x, y, opts) -> Parts:
    x, y = _elementwise_pair("bce", x, y, opts)
    bad = (x < 0) | (x > 1)
    if bad.any():
        r, full = _first_bad(bad)
        raise _err(
            opts,
            f"row {_row(opts, r)}: {_num(x[full])} is not a probability (bce needs inputs in [0, 1])",
            key="input",
            hint="for logits (any real number) use bce-with-logits",
        )
    with np.errstate(all="ignore"):
        # PyTorch: (y - 1)·max(log1p(-x), -100) - y·max(log x, -100)
        log_x = np.maximum(np.log(x), BCE_LOG_CLAMP)
        log_1mx = np.maximum(np.log1p(-x), BCE_LOG_CLAMP)
        values = (y - 1.0) * log_1mx - y * log_x
        if opts.get("weight") is not None:
            values = values * _broadcast(np.asarray(opts["weight"], dtype=np.float64), x.shape, "weight", opts)
    return _parts(values)


def _bce_with_logits(x, y, opts) -> Parts:
    x, y = _elementwise_pair("bce-with-logits", x, y, opts)
    with np.errstate(all="ignore"):
        ls = log_sigmoid(x)
        if opts.get("pos_weight") is not None:
            pw = _broadcast(np.asarray(opts["pos_weight"], dtype=np.float64), x.shape, "pos-weight", opts)
            ls = ls * ((pw - 1.0) * y + 1.0)
        values = (1.0 - y) * x - ls
        if opts.get("weight") is not None:
            values = values * _broadcast(np.asarray(opts["weight"], dtype=np.float64), x.shape, "weight", opts)
    return _parts(values)


def _focal(x, y, opts) -> Parts:
    gamma = float(opts.get("gamma", 2.0))
    alpha = float(opts.get("alpha", 0.25))
    x, y = _elementwise_pair("focal", x, y, opts)
    with np.errstate(all="ignore"):
        p = sigmoid(x)
        ce = (1.0 - y) * x - log_sigmoid(x)
        p_t = p * y + (1.0 - p) * (1.0 - y)
        values = ce * ((1.0 - p_t) ** gamma)
        if alpha >= 0:
            values = (alpha * y + (1.0 - alpha) * (1.0 - y)) * values
    return _parts(values)


# ---------------------------------------------------------------- regression


def _mse(x, y, opts) -> Parts:
    x, y = _elementwise_pair("mse", x, y, opts)
    with np.errstate(all="ignore"):
        d = x - y
        v = d * d
    return _parts(v)


def _l1(x, y, opts) -> Parts:
    x, y = _elementwise_pair("l1", x, y, opts)
    with np.errstate(all="ignore"):
        v = np.abs(x - y)
    return _parts(v)


def _huber(x, y, opts) -> Parts:
    delta = float(opts.get("delta", 1.0))
    x, y = _elementwise_pair("huber", x, y, opts)
    with np.errstate(all="ignore"):
        z = np.abs(x - y)
        v = np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
    return _parts(v)


def _smooth_l1(x, y, opts) -> Parts:
    beta = float(opts.get("beta", 1.0))
    x, y = _elementwise_pair("smooth-l1", x, y, opts)
    with np.errstate(all="ignore"):
        z = np.abs(x - y)
        if beta == 0.0:
            v = z
        else:
            v = np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
    return _parts(v)


def _log_cosh(x, y, opts) -> Parts:
    x, y = _elementwise_pair("log-cosh", x, y, opts)
    with np.errstate(all="ignore"):
        d = x - y
        v = d + softplus(-2.0 * d) - LOG2
    return _parts(v)


def _quantile(x, y, opts) -> Parts:
    q = float(opts.get("quantile", 0.5))
    x, y = _elementwise_pair("quantile", x, y, opts)
    with np.errstate(all="ignore"):
        e = y - x
        v = np.maximum(q * e, (q - 1.0) * e)
    return _parts(v)


def _kl_div(x, y, opts) -> Parts:
    x, y = _elementwise_pair("kl-div", x, y, opts)
    with np.errstate(all="ignore"):
        if opts.get("log_target", False):
            v = np.exp(y) * (y - x)
        else:
            xlogy = np.where(y == 0, 0.0, y * np.log(y))
            xlogy = np.where(np.isnan(y), np.nan, xlogy)
            v = xlogy - y * x
    parts = _parts(v)
    parts.extra["denominator_is"] = "the number of elements (batchmean divides by the number of rows)"
    with np.errstate(invalid="ignore"):
        positive = int(np.count_nonzero(x > 0))
    if positive:
        # computed as given (PyTorch does the same), but a log-probability is never > 0
        parts.extra["warnings"] = [
            f"{positive} input value(s) are > 0: kl-div takes log-probabilities (log_softmax output) as input; "
            "were probabilities passed? (take their log first)"]
    return parts


def _poisson_nll(x, y, opts) -> Parts:
    log_input = bool(opts.get("log_input", True))
    full = bool(opts.get("full", False))
    eps = float(opts.get("eps", 1e-8))
    x, y = _elementwise_pair("poisson-nll", x, y, opts)
    with np.errstate(all="ignore"):
        if log_input:
            v = np.exp(x) - y * x
        else:
            v = x - y * np.log(x + eps)
        if full:
            stirling = y * np.log(y) - y + 0.5 * np.log(2.0 * math.pi * y)
            v = v + np.where(y <= 1, 0.0, stirling)
    return _parts(v)


def _gaussian_nll(x, y, opts) -> Parts:
    full = bool(opts.get("full", False))
    eps = float(opts.get("eps", 1e-6))
    x, y = _elementwise_pair("gaussian-nll", x, y, opts)
    var = opts.get("var")
    if var is None:
        raise _err(opts, "gaussian-nll needs a variance", key="var",
                   hint="give --var V, or a 'var' array next to input and target")
    var = _f64(var, "var", opts)
    if var.shape != x.shape and var.ndim > 0:
        if var.shape == x.shape[:-1]:
            var = var[..., None]
        elif not (var.shape[:-1] == x.shape[:-1] and var.shape[-1] == 1):
            raise _err(
                opts,
                f"input has shape {x.shape} but var has shape {var.shape}",
                key="var",
                hint="give one variance per element, one per row, or a single --var",
            )
    neg = var < 0
    if neg.any():
        r, full_idx = _first_bad(neg)
        where = f"row {_row(opts, r)}: " if var.ndim else ""
        raise _err(opts, f"{where}variance {_num(var[full_idx])} is negative", key="var",
                   hint="a variance is >= 0 (values below --eps are clamped to it)")
    with np.errstate(all="ignore"):
        v_cl = np.maximum(np.broadcast_to(var, x.shape), eps)
        d = x - y
        v = 0.5 * (np.log(v_cl) + d * d / v_cl)
        if full:
            v = v + 0.5 * math.log(2.0 * math.pi)
    return _parts(v)


# ---------------------------------------------------------------- language model


def _depth(obj) -> int:
    """Nesting depth of a list structure, looking through empty lists."""
    if isinstance(obj, np.ndarray):
        if obj.dtype != object:
            return obj.ndim
        obj = list(obj)
    if not isinstance(obj, (list, tuple)):
        return 0
    best = 1
    for el in obj:
        if isinstance(el, (list, tuple, np.ndarray)):
            best = max(best, 1 + _depth(el))
            if best > 1 and (not isinstance(el, (list, tuple)) or len(el)):
                break
        else:
            break
    return best


def _floats(obj, what: str) -> np.ndarray:
    try:
        a = np.asarray(obj, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} is not an array of numbers (or its rows have different lengths)",
                         key=what) from None
    return a


def lm_flatten(input_obj, target_obj=None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Flatten a language-model payload to ``(x, y, seq_ids)``.

    Accepted shapes (sequences may be ragged):

    - no target (``None`` or ``[]``): ``[p, p, ...]`` per-token probabilities or
      log-probabilities, or ``[[p, ...], [p, ...]]`` one list per sequence
      -> ``x`` 1-D, ``y`` None;
    - target token ids: logits ``[tokens][vocab]`` with ``[id, ...]``, or
      ``[seq][tokens][vocab]`` with ``[[id, ...], ...]`` (or one flat id list)
      -> ``x`` 2-D (tokens, vocab), ``y`` 1-D int.

    ``seq_ids`` gives the sequence number of every token (pass it as
    ``opts["_seq_ids"]`` to the lm fn).
    """
    no_target = target_obj is None or (
        isinstance(target_obj, (list, tuple, np.ndarray)) and len(target_obj) == 0
    )
    din = _depth(input_obj)
    if no_target:
        if din == 0:
            x = _floats([input_obj], "input")
            return x, None, np.zeros(1, dtype=np.int64)
        if din == 1:
            x = _floats(input_obj, "input")
            return x, None, np.zeros(x.shape[0], dtype=np.int64)
        if din == 2:
            seqs = [_floats(s, "input").reshape(-1) for s in input_obj]
            for s, raw in zip(seqs, input_obj):
                if _depth(raw) != 1:
                    raise InputError("lm input mixes numbers and lists", key="input")
            x = np.concatenate(seqs) if seqs else np.zeros(0)
            ids = np.concatenate([np.full(s.shape[0], i, dtype=np.int64) for i, s in enumerate(seqs)]) \
                if seqs else np.zeros(0, dtype=np.int64)
            return x, None, ids
        raise InputError(
            f"lm input without a target must be per-token (log-)probabilities: a list or a list of "
            f"sequences, but it has {din} levels of nesting",
            key="input",
            hint="logits [tokens][vocab] need the target token ids next to them",
        )
    dt = _depth(target_obj)
    if din == 2:
        x = _floats(input_obj, "input")
        if x.ndim != 2:
            raise InputError("lm logits rows have different lengths (vocabulary sizes)", key="input")
        y = _token_ids(target_obj)
        if y.shape[0] != x.shape[0]:
            raise InputError(
                f"input has {x.shape[0]} tokens (shape {x.shape}) but target has {y.shape[0]} token ids",
                key="target", hint="give one target token id per row of logits")
        return x, y, np.zeros(x.shape[0], dtype=np.int64)
    if din == 3:
        seqs = [_floats(s, "input") for s in input_obj]
        seqs = [s.reshape(0, -1) if s.size == 0 and s.ndim == 1 else s for s in seqs]
        vocab = {s.shape[1] for s in seqs if s.ndim == 2 and s.shape[0]}
        if any(s.ndim != 2 for s in seqs) or len(vocab) > 1:
            raise InputError("lm logits have different vocabulary sizes (row lengths)", key="input")
        V = vocab.pop() if vocab else 0
        seqs = [s.reshape(-1, V) if s.size == 0 else s for s in seqs]
        lengths = [s.shape[0] for s in seqs]
        x = np.concatenate(seqs, axis=0) if seqs else np.zeros((0, V))
        if dt == 2:
            ys = [_token_ids(t) for t in target_obj]
            if len(ys) != len(seqs) or any(a.shape[0] != n for a, n in zip(ys, lengths)):
                raise InputError(
                    f"input has sequences of {lengths} tokens but target has sequences of "
                    f"{[a.shape[0] for a in ys]} token ids",
                    key="target", hint="give one target id per token, sequence by sequence")
            y = np.concatenate(ys) if ys else np.zeros(0, dtype=np.int64)
        else:
            y = _token_ids(target_obj)
            if y.shape[0] != x.shape[0]:
                raise InputError(
                    f"input has {x.shape[0]} tokens in {len(seqs)} sequences but target has {y.shape[0]} token ids",
                    key="target", hint="give one target id per token")
        ids = np.concatenate([np.full(n, i, dtype=np.int64) for i, n in enumerate(lengths)]) \
            if lengths else np.zeros(0, dtype=np.int64)
        return x, y, ids
    raise InputError(
        f"with target token ids, lm input must be logits [tokens][vocab] or [seq][tokens][vocab], "
        f"but it has {din} level{'s' if din != 1 else ''} of nesting",
        key="input",
        hint="for per-token probabilities or log-probabilities, give no target",
    )


def _token_ids(obj) -> np.ndarray:
    a = _floats(obj, "target").reshape(-1)
    bad = ~(np.isfinite(a) & (np.floor(a) == a))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise InputError(f"token {j}: target {_num(a[j])} is not a token id (an integer)", key="target")
    big = np.abs(a) >= 2.0 ** 62
    if big.any():
        j = int(np.flatnonzero(big)[0])
        raise InputError(f"token {j}: target {_num(a[j])} is not a token id (far beyond any vocabulary)",
                         key="target", hint="token ids are 0..V-1 for a vocabulary of V tokens")
    return a.astype(np.int64)


def lm_summary(total_nll: float, tokens: int) -> dict:
    """Mean NLL, perplexity and bits per token from a summed NLL and a token count."""
    total_nll = float(total_nll)
    tokens = int(tokens)
    mean = total_nll / tokens if tokens else float("nan")
    with np.errstate(all="ignore"):
        ppl = float(np.exp(mean)) if tokens else float("nan")
    return {
        "mean_nll": mean,
        "sum": total_nll,
        "tokens": tokens,
        "perplexity": ppl,
        "bits_per_token": mean / LOG2 if tokens else float("nan"),
    }


def _lm(x, y, opts) -> Parts:
    probs = bool(opts.get("probs", False))
    ignore_index = int(opts.get("ignore_index", -100))
    x = np.asarray(x, dtype=np.float64)
    extra: dict = {"denominator_is": "the number of tokens (ignored tokens are not counted)"}
    with np.errstate(all="ignore"):
        if y is None:
            if x.ndim == 0:
                x = x[None]
            if x.ndim != 1:
                raise _err(opts, f"lm input without a target must be one value per token, got shape {x.shape}",
                           key="input", hint="run the payload through lm_flatten, or give target token ids")
            if probs:
                bad = (x < 0) | (x > 1)
                if bad.any():
                    j = int(np.flatnonzero(bad)[0])
                    raise _err(opts, f"token {_row(opts, j)}: probability {_num(x[j])} is outside [0, 1]",
                               key="input", hint="drop --probs if these are log-probabilities")
                values = -np.log(x)
            else:
                bad = x > LOGPROB_TOL
                if bad.any():
                    j = int(np.flatnonzero(bad)[0])
                    raise _err(
                        opts,
                        f"token {_row(opts, j)}: log-probability {_num(x[j])} is positive",
                        key="input",
                        hint="add --probs if the input holds probabilities",
                    )
                values = -x
            keep = np.ones(x.shape[0], dtype=bool)
            extra["input_kind"] = "probabilities" if probs else "log-probabilities"
        else:
            y = np.asarray(y)
            if x.ndim != 2 or y.ndim != 1 or y.shape[0] != x.shape[0]:
                raise _err(opts, f"input has shape {x.shape} but target has shape {y.shape}", key="target",
                           hint="lm with target ids takes logits [tokens][vocab] and one id per token")
            d = _class_data("lm", x, y, opts, allow_soft=False, ignore_index=ignore_index)
            if probs:
                _probs_checks(d.x, d.rows, opts, extra)
                picked = np.log(np.take_along_axis(d.x, d.idx[:, None], axis=-1)[:, 0])
            else:
                picked = np.take_along_axis(_log_softmax(d.x), d.idx[:, None], axis=-1)[:, 0]
            keep = d.keep
            values = np.where(keep, -picked, 0.0)
            extra["input_kind"] = "probabilities" if probs else "logits"
            extra["ignored"] = int(np.sum(~keep))
    n = values.shape[0]
    seq = opts.get("_seq_ids")
    seq = np.zeros(n, dtype=np.int64) if seq is None else np.asarray(seq, dtype=np.int64).reshape(-1)
    if seq.shape[0] != n:
        raise _err(opts, f"_seq_ids has {seq.shape[0]} entries for {n} tokens", key="input")
    uniq, inv = np.unique(seq, return_inverse=True)
    seq_sum = np.bincount(inv, weights=values, minlength=uniq.size) if n else np.zeros(0)
    seq_tok = np.bincount(inv, weights=keep.astype(np.float64), minlength=uniq.size) if n else np.zeros(0)
    with np.errstate(all="ignore"):
        seq_mean = np.where(seq_tok > 0, seq_sum / np.where(seq_tok > 0, seq_tok, 1), np.nan)
    tokens = int(np.sum(keep))
    token_mean = float(np.sum(values)) / tokens if tokens else float("nan")
    valid = seq_mean[~np.isnan(seq_mean)]
    mean_of_means = float(np.mean(valid)) if valid.size else float("nan")
    differs = bool(
        uniq.size > 1 and np.isfinite(token_mean) and np.isfinite(mean_of_means)
        and abs(mean_of_means - token_mean) > 1e-12 * max(1.0, abs(token_mean))
    )
    extra.update(
        seq_ids=uniq,
        seq_sum=seq_sum,
        seq_tokens=seq_tok.astype(np.int64),
        seq_mean=seq_mean,
        token_mean=token_mean,
        mean_of_seq_means=mean_of_means,
        per_sequence_differs=differs,
    )
    if differs:
        extra.setdefault("notes", []).append(
            f"mean of per-sequence means ({mean_of_means:.4f}) is not the token mean ({token_mean:.4f}); "
            "lossctl's mean is the token mean"
        )
    return Parts(values, float(tokens), int(n), extra)


# ---------------------------------------------------------------- registry

_REDUCTION_HELP = "mean | sum | none"

_WEIGHT_CLASS = Option("weight", "floats", None, "one weight per class (comma-separated), like PyTorch's weight")
_IGNORE = Option("ignore-index", "int", -100, "target value that is skipped: contributes 0 and is not counted")

REGISTRY: dict[str, LossSpec] = {}


def _add(spec: LossSpec) -> None:
    REGISTRY[spec.name] = spec


_add(LossSpec(
    name="cross-entropy",
    summary="classification: softmax cross-entropy from logits (or --probs) against class indices or probabilities",
    formula="-log softmax(x)[y] = logsumexp(x) - x[y]  (with --probs: -log p[y])",
    fn=_cross_entropy,
    options=(
        Option("probs", "bool", False, "the input holds probabilities (logged as given, not renormalised)"),
        _WEIGHT_CLASS,
        _IGNORE,
        Option("label-smoothing", "float", 0.0, "ε in [0, 1]: the target becomes (1-ε)·onehot + ε/C"),
    ),
    target="class",
    aliases=("ce", "xent"),
))
_add(LossSpec(
    name="nll",
    summary="negative log-likelihood of log-probabilities (log_softmax output) against class indices",
    formula="-x[y]",
    fn=_nll,
    options=(_WEIGHT_CLASS, _IGNORE),
    target="class",
))
_add(LossSpec(
    name="bce",
    summary="binary cross-entropy of probabilities in [0, 1] (each log clamped at -100)",
    formula="-(y·log(x) + (1-y)·log(1-x))",
    fn=_bce,
    options=(Option("weight", "floats", None, "weight per element (broadcast over the input, e.g. one per column)"),),
))
_add(LossSpec(
    name="bce-with-logits",
    summary="binary cross-entropy from logits (sigmoid included, numerically stable)",
    formula="-(pw·y·log σ(x) + (1-y)·log(1-σ(x)))",
    fn=_bce_with_logits,
    options=(
        Option("pos-weight", "floats", None, "weight of the positive term (one value or one per column)"),
        Option("weight", "floats", None, "weight per element (broadcast over the input, e.g. one per column)"),
    ),
))
_add(LossSpec(
    name="mse",
    summary="mean squared error (regression)",
    formula="(x - y)²",
    fn=_mse,
))
_add(LossSpec(
    name="l1",
    summary="mean absolute error (regression)",
    formula="|x - y|",
    fn=_l1,
    aliases=("mae",),
))
_add(LossSpec(
    name="huber",
    summary="Huber loss: squared near zero, linear beyond delta (regression)",
    formula="½(x-y)² if |x-y| < δ else δ·(|x-y| - ½δ)",
    fn=_huber,
    options=(Option("delta", "float", 1.0, "δ > 0 where the loss turns from quadratic to linear"),),
))
_add(LossSpec(
    name="smooth-l1",
    summary="smooth L1: Huber divided by beta (regression; beta 0 = L1)",
    formula="½(x-y)²/β if |x-y| < β else |x-y| - ½β",
    fn=_smooth_l1,
    options=(Option("beta", "float", 1.0, "β >= 0 where the loss turns from quadratic to linear; 0 gives L1"),),
))
_add(LossSpec(
    name="kl-div",
    summary="KL divergence; input log-probabilities, target probabilities (batchmean is the true KL)",
    formula="y·(log y - x)  (with --log-target: exp(y)·(y - x))",
    fn=_kl_div,
    options=(Option("log-target", "bool", False, "the target holds log-probabilities"),),
    reductions=("mean", "sum", "none", "batchmean"),
))
_add(LossSpec(
    name="poisson-nll",
    summary="Poisson negative log-likelihood for counts",
    formula="exp(x) - y·x  (without --log-input: x - y·log(x + eps))",
    fn=_poisson_nll,
    options=(
        Option("log-input", "bool", True, "the input is the log of the rate (default); false: the rate itself"),
        Option("full", "bool", False, "add Stirling's term y·log y - y + ½log(2πy) where y > 1"),
        Option("eps", "float", 1e-8, "eps > 0 added inside the log when the input is the rate"),
    ),
))
_add(LossSpec(
    name="gaussian-nll",
    summary="Gaussian negative log-likelihood with a predicted variance",
    formula="½(log(max(var, eps)) + (x - y)²/max(var, eps))",
    fn=_gaussian_nll,
    options=(
        Option("var", "float", None, "one variance for every element (or give a 'var' array)"),
        Option("full", "bool", False, "add the constant ½log(2π)"),
        Option("eps", "float", 1e-6, "eps > 0: variances below it are clamped to it"),
    ),
))
_add(LossSpec(
    name="focal",
    summary="sigmoid focal loss (torchvision) for imbalanced binary labels, from logits",
    formula="α_t·(1 - p_t)^γ·bce_with_logits(x, y),  p = σ(x), p_t = p·y + (1-p)·(1-y)",
    fn=_focal,
    options=(
        Option("gamma", "float", 2.0, "γ >= 0: focusing exponent; 0 gives weighted BCE"),
        Option("alpha", "float", 0.25, "α in [0, 1] weighting positives (1-α negatives); -1 disables"),
    ),
))
_add(LossSpec(
    name="multi-margin",
    summary="multi-class hinge loss (PyTorch's multi_margin_loss) on class scores",
    formula="Σ_{j≠y} max(0, margin - x[y] + x[j])^p / C",
    fn=_multi_margin,
    options=(
        Option("p", "int", 1, "1 or 2: exponent of the hinge"),
        Option("margin", "float", 1.0, "the margin"),
        Option("weight", "floats", None, "one weight per class, multiplying the terms of samples of that class"),
    ),
    target="class",
))
_add(LossSpec(
    name="log-cosh",
    summary="log-cosh (Keras): like ½e² near zero, like |e| - log 2 far out (regression)",
    formula="log(cosh(x - y)) = d + softplus(-2d) - log 2",
    fn=_log_cosh,
))
_add(LossSpec(
    name="quantile",
    summary="quantile (pinball) loss for quantile regression",
    formula="max(q·e, (q-1)·e),  e = y - x",
    fn=_quantile,
    options=(Option("quantile", "float", 0.5, "the quantile q in (0, 1); 0.5 gives half the MAE"),),
))
_add(LossSpec(
    name="lm",
    summary="language-model token loss: mean NLL per token, perplexity, bits per token",
    formula="-log p(token)",
    fn=_lm,
    options=(
        Option("probs", "bool", False,
               "the input holds probabilities (otherwise log-probabilities, or logits when target ids are given)"),
        _IGNORE,
    ),
    target="tokens",
))

ALIASES: dict[str, str] = {a: s.name for s in REGISTRY.values() for a in s.aliases}


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


# ---------------------------------------------------------------- option validation

_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f"}


def _coerce(opt: Option, value: Any, loss: str) -> Any:
    flag = f"--{opt.name}"
    if opt.kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and value in (0, 1):
            return bool(value)
        s = str(value).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise UsageError(f"{flag} expects true or false, got {value!r}", hint=f"{flag} alone means true")
    if opt.kind == "int":
        if isinstance(value, (bool, np.bool_)):
            raise UsageError(f"{flag} expects an integer, got {value!r}")
        if isinstance(value, (int, np.integer)):
            return int(value)
        try:
            f = float(str(value).strip())
        except ValueError:
            raise UsageError(f"{flag} expects an integer, got {value!r}") from None
        if not (math.isfinite(f) and f == int(f)):
            raise UsageError(f"{flag} expects an integer, got {value!r}")
        return int(f)
    if opt.kind == "float":
        if isinstance(value, (bool, np.bool_)):
            raise UsageError(f"{flag} expects a number, got {value!r}")
        try:
            return float(str(value).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{flag} expects a number, got {value!r}") from None
    if opt.kind == "floats":
        items: list
        if isinstance(value, str):
            items = [s for s in value.replace(";", ",").split(",")]
        elif isinstance(value, (list, tuple, np.ndarray)):
            items = list(np.asarray(value, dtype=object).reshape(-1))
        else:
            items = [value]
        out = []
        for s in items:
            try:
                if isinstance(s, (bool, np.bool_)):
                    raise ValueError
                out.append(float(str(s).strip()) if isinstance(s, str) else float(s))
            except (TypeError, ValueError):
                raise UsageError(
                    f"{flag} expects comma-separated numbers, got {value!r}",
                    hint=f"e.g. {flag} 1,2.5,0.5",
                ) from None
        if not out:
            raise UsageError(f"{flag} expects comma-separated numbers, got nothing")
        return np.asarray(out, dtype=np.float64)
    raise AssertionError(f"unknown option kind {opt.kind!r}")  # pragma: no cover


# option name -> (check, what it must be, hint)
_RANGES: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "label-smoothing": (lambda v: 0.0 <= v <= 1.0, "between 0 and 1", "0 disables label smoothing; 0.1 is common"),
    "delta": (lambda v: v > 0.0, "greater than 0", "Huber's δ is where the loss turns linear; the default is 1"),
    "beta": (lambda v: v >= 0.0, "0 or more", "β = 0 gives L1; the default is 1"),
    "eps": (lambda v: v > 0.0, "greater than 0", "eps is a small positive number (e.g. 1e-8)"),
    "quantile": (lambda v: 0.0 < v < 1.0, "strictly between 0 and 1", "0.5 is the median (half the MAE)"),
    "p": (lambda v: v in (1, 2), "1 or 2", "PyTorch's multi_margin_loss supports p = 1 and p = 2"),
    "var": (lambda v: v >= 0.0, "0 or more", "a variance cannot be negative; values below --eps are clamped"),
    "gamma": (lambda v: v >= 0.0, "0 or more", "γ = 0 gives plain (α-weighted) BCE; the default is 2"),
    "alpha": (lambda v: v <= 1.0 and not math.isnan(v), "in [0, 1] (or -1 to disable)", "the default is 0.25"),
    "margin": (lambda v: not math.isnan(v), "a number", "the default is 1"),
}


def _option_list(spec: LossSpec) -> str:
    opts = [f"--{o.name}" for o in spec.options] + ["--reduction"]
    return ", ".join(opts)


def validate_reduction(spec: LossSpec, reduction: str | None) -> str:
    """The reduction to use for ``spec`` (its default when None); UsageError if not accepted."""
    if reduction is None:
        return spec.default_reduction
    r = str(reduction).strip().lower()
    if r not in spec.reductions:
        raise UsageError(
            f"--reduction {reduction} is not accepted by {spec.name}",
            hint=f"{spec.name} accepts: " + ", ".join(spec.reductions),
        )
    return r


def validate_options(spec: LossSpec, given: Mapping[str, Any] | None) -> dict:
    """Check CLI option values for ``spec`` and return them keyed by python name.

    ``given`` maps CLI names (``"label-smoothing"``; python keys and a leading
    ``--`` are accepted too) to raw values: numbers, bools, strings as typed, or
    lists for ``floats`` options. ``None`` means not given; so does ``False`` for an
    option this loss does not take (a CLI flag left off). ``"reduction"`` is checked
    against ``spec.reductions`` and returned under ``"reduction"`` (default filled).
    Raises :class:`UsageError` with a hint.
    """
    by_name = {o.name: o for o in spec.options}
    values: dict[str, Any] = {}
    reduction = None
    for raw_name, value in (given or {}).items():
        name = str(raw_name).lstrip("-").strip().lower().replace("_", "-")
        if name == "reduction":
            reduction = value
            continue
        if name not in by_name:
            if value is None or (value is False):
                continue
            hint = (f"{spec.name} takes: {_option_list(spec)}" if spec.options
                    else f"{spec.name} takes no options besides --reduction")
            raise UsageError(f"--{name} is not an option of {spec.name}", hint=hint)
        if value is not None:
            values[name] = value
    out: dict[str, Any] = {}
    for opt in spec.options:
        if opt.name in values:
            v = _coerce(opt, values[opt.name], spec.name)
            rng = _RANGES.get(opt.name)
            if rng is not None and opt.kind in ("float", "int"):
                check, must, hint = rng
                if not check(v):
                    raise UsageError(f"--{opt.name} must be {must}, got {_num(v)}", hint=hint)
            out[opt.key] = v
        else:
            d = opt.default
            out[opt.key] = d.copy() if isinstance(d, np.ndarray) else d
    out["reduction"] = validate_reduction(spec, reduction)
    return out
