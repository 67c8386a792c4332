"""``lossctl.compute``: a loss over predictions, from Python or from the CLI.

    >>> import lossctl
    >>> r = lossctl.compute("cross-entropy", [[2.0, 1.0, 0.5]], [0])
    >>> round(r.value, 4), r.count, r.denominator
    (0.4644, 1, 1.0)

``input`` is an array-like, or a path (``str`` / ``os.PathLike``, ``"-"`` for stdin) to a
predictions file in any format :mod:`lossctl.inputs` reads (the target then comes from the
file unless given). Big files are reduced chunk by chunk: with ``mean`` and ``sum`` only the
running sum, denominator and batch size are kept, so memory stays flat.

The loss functions live in :mod:`lossctl.losses`; this module checks shapes and values,
streams, reduces and collects warnings. It never prints: warnings and notes are returned in
the :class:`ComputeResult` (the CLI prints them on stderr).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from lossctl import _callable_module
from lossctl import inputs as _inputs
from lossctl import losses as _losses
from lossctl.errors import InputError, UsageError

LN2 = math.log(2.0)


@dataclass
class LMSummary:
    """Token-level language-model loss. ``mean_nll`` is the mean over all tokens."""

    mean_nll: float
    sum: float
    tokens: int
    perplexity: float
    bits_per_token: float
    sequences: list[dict] = field(default_factory=list)  # sequence, tokens, sum, mean_nll, perplexity
    mean_of_sequence_means: float | None = None

    def to_dict(self) -> dict:
        return {
            "mean_nll": self.mean_nll,
            "sum": self.sum,
            "tokens": self.tokens,
            "perplexity": self.perplexity,
            "bits_per_token": self.bits_per_token,
            "mean_of_sequence_means": self.mean_of_sequence_means,
            "note": "mean_nll is the mean over all tokens; the mean of the per-sequence means "
            "(mean_of_sequence_means) weights every sequence equally, so it is not the same",
            "sequences": self.sequences,
        }


@dataclass
class ComputeResult:
    """What :func:`compute` returns. ``value`` is None when ``reduction='none'`` (see ``values``)."""

    loss: str
    reduction: str
    value: float | None
    count: int  # number of loss values (the length of ``values`` with reduction none)
    denominator: float  # what 'mean' divides the sum by
    batch: int  # number of samples ('batchmean' divides by it)
    sum: float
    options: dict  # effective loss options with defaults, by CLI name
    values: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    explanation: list[str] | None = None
    lm: LMSummary | None = None
    source: str | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {
            "loss": self.loss,
            "reduction": self.reduction,
            "value": self.value,
            "count": self.count,
            "denominator": self.denominator,
            "batch": self.batch,
            "sum": self.sum,
            "options": self.options,
        }
        if self.source is not None:
            d["source"] = self.source
        if self.values is not None:
            d["values"] = self.values.tolist()
        if self.lm is not None:
            d.update(self.lm.to_dict())
        if self.explanation is not None:
            d["explanation"] = self.explanation
        d["warnings"] = list(self.warnings)
        return d


# ---------------------------------------------------------------- options


def normalize_options(options: Mapping[str, Any]) -> dict:
    """Option names as the CLI spells them (``label_smoothing`` → ``label-smoothing``); None dropped."""
    return {str(k).lstrip("-").replace("_", "-"): v for k, v in options.items() if v is not None}


def _public_options(spec, opts: Mapping[str, Any]) -> dict:
    """The effective loss options (defaults filled in) by CLI name, JSON-ready."""
    out = {}
    for o in spec.options:
        v = opts.get(o.key, o.default)
        if isinstance(v, np.ndarray):
            v = v.tolist() if v.size != 1 or o.name in ("weight",) else float(v.reshape(-1)[0])
        out[o.name] = v
    return out


# ---------------------------------------------------------------- shapes and values


def _shape(a: np.ndarray) -> str:
    return "(" + ", ".join(str(n) for n in a.shape) + (",)" if a.ndim == 1 else ")")


class _Finite:
    """Counts NaN/inf values and remembers where the first one is."""

    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None

    def check(self, arr: np.ndarray | None, what: str, row0: int, preds) -> None:
        if arr is None or arr.size == 0 or arr.dtype.kind in "iub":
            return
        fin = np.isfinite(arr)
        if fin.all():
            return
        bad = ~fin
        self.count += int(bad.sum())
        if self.first is None:
            idx = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
            row = idx[0] if idx else 0
            col = idx[1] if len(idx) > 1 else None
            self.first = _where_text(what, row0 + row, col, float(arr[idx]), preds)

    def message(self) -> str:
        n = self.count
        return (f"{n} NaN/inf value{'s' if n != 1 else ''} in the data; first: {self.first}; "
                "they propagate to the loss as in PyTorch (--strict makes this an error)")


def _where_text(what: str, row: int, col: int | None, value: float, preds) -> str:
    txt = f"{what} row {row}"
    if col is None and what == "input" and preds is not None and preds.columns and len(preds.columns) == 1:
        txt += f", column {preds.columns[0]!r}"
    elif col is not None:
        if preds is not None and what == "input" and preds.columns and col < len(preds.columns):
            txt += f", column {preds.columns[col]!r}"
        else:
            txt += f", position {col}"
    if preds is not None and preds.format in ("csv", "tsv"):
        txt += f" ({preds.source}:{row + 1 + preds.header_lines})"
    elif preds is not None and preds.source:
        txt += f" ({preds.source})"
    return f"{txt} is {'nan' if math.isnan(value) else ('inf' if value > 0 else '-inf')}"


class _Sum:
    """Sum of chunk sums, compensated (Neumaier), so chunking does not change the result."""

    def __init__(self) -> None:
        self.s = 0.0
        self.c = 0.0

    def add(self, v: float) -> None:
        t = self.s + v
        if math.isfinite(t) and math.isfinite(v):
            if abs(self.s) >= abs(v):
                self.c += (self.s - t) + v
            else:
                self.c += (v - t) + self.s
        self.s = t

    @property
    def value(self) -> float:
        return self.s + self.c if math.isfinite(self.s) else self.s


# ---------------------------------------------------------------- the API


def compute(
    name: str,
    input: Any,
    target: Any = None,
    *,
    reduction: str | None = None,
    var: Any = None,
    strict: bool = False,
    explain: bool = False,
    input_format: str = "auto",
    target_col: str | None = None,
    input_cols: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    **options: Any,
) -> ComputeResult:
    """Compute loss ``name`` (``"cross-entropy"``, ``"mse"``, … see ``lossctl losses``).

    ``input``: predictions as an array-like (rows = samples), or a file path / ``"-"``.
    ``target``: labels or values (taken from the file when ``input`` is a path and this is None).
    ``reduction``: ``mean`` (default), ``sum``, ``none`` or (kl-div) ``batchmean``.
    ``var``: gaussian-nll's variance: a number, an array-like, or a column/key name for files.
    ``strict``: NaN/inf in the input, target or variance is an error instead of a warning.
    ``explain``: put a step-by-step explanation of the first rows in ``result.explanation``.
    ``**options``: the loss's options, python or CLI spelling (``label_smoothing=0.1``).
    ``progress(done_bytes, total_bytes)`` is called after each chunk of a file;
    ``on_note(text)`` receives notes (which columns were taken as what) as soon as known.

    Raises :class:`lossctl.errors.LossctlError` subclasses for anything the caller can fix.
    """
    spec = _losses.get(name)
    given = normalize_options(options)
    if reduction is not None:
        given["reduction"] = reduction
    var_name: str | None = None
    var_value = None
    if isinstance(var, str) and not _looks_numeric(var):
        var_name = var
    elif var is not None:
        v = _inputs.parse_inline(var, "var") if isinstance(var, str) else var
        if np.ndim(v) == 0 or (np.ndim(v) == 1 and len(v) == 1):
            given["var"] = float(np.reshape(np.asarray(v, dtype=np.float64), -1)[0])
        else:
            var_value = v
    opts = _losses.validate_options(spec, given)
    red = opts.pop("reduction")
    public = _public_options(spec, opts)

    if isinstance(input, (str, os.PathLike, _inputs.Predictions)):
        if isinstance(input, _inputs.Predictions):
            preds = input
        else:
            preds = _inputs.read_predictions(os.fspath(input), fmt=input_format, target_kind=spec.target,
                                             target_col=target_col, input_cols=input_cols,
                                             var=var_name or (None if var is None else "0"))
        notes = list(preds.notes)
        if on_note:
            for n in notes:
                on_note(n)
        if target is not None or var_value is not None:
            preds = _override(preds, target, var_value)
    else:
        if target_col or input_cols or var_name:
            raise UsageError("--target-col, --input-cols and a --var column name select columns of a file",
                             hint="give the arrays themselves")
        preds = _inputs.Predictions(source=None, format="inline", raw=(input, target, var_value))  # type: ignore[arg-type]
        notes = []
    try:
        if spec.target == "tokens":
            result = _compute_lm(spec, preds, opts, red, strict, explain)
        else:
            result = _compute_chunks(spec, preds, opts, red, strict, explain, progress)
    finally:
        preds.close()
        late = [n for n in preds.notes if n not in notes]  # found while reading (JSON Lines)
        notes.extend(late)
        if on_note:
            for n in late:
                on_note(n)
    result.options = public
    result.notes = notes
    result.source = preds.source
    return result


def _looks_numeric(s: str) -> bool:
    s = s.strip()
    if s.startswith("["):
        return True
    try:
        [float(p) for p in s.replace(";", ",").split(",")]
        return True
    except ValueError:
        return False


def _override(preds, target, var_value):
    """A file's input with the target/variance given separately (read whole)."""
    xs, ys, vs = [], [], []
    try:
        for ch in preds.chunks():
            xs.append(ch.x)
            ys.append(ch.y)
            vs.append(ch.var)
    finally:
        preds.close()
    x = np.concatenate(xs) if xs else np.empty(0)
    y = target if target is not None else (None if not ys or ys[0] is None else np.concatenate(ys))
    v = var_value if var_value is not None else (None if not vs or vs[0] is None else np.concatenate(vs))
    return _inputs.Predictions(source=preds.source, format=preds.format, columns=preds.columns,
                               header_lines=preds.header_lines, raw=(x, y, v))


def _unbatched(spec, x: np.ndarray, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """One flat row with one class index (``--input 2,1,0.5 --target 0``) is one sample."""
    if spec.target == "class" and x.ndim == 1 and y is not None and y.ndim == 1 and y.size == 1 and x.size > 1:
        return x[None, :], y
    return x, y


def _compute_chunks(spec, preds, opts, red, strict, explain, progress) -> ComputeResult:
    total = _Sum()
    denom = _Sum()
    batch = 0
    count = 0
    values: list[np.ndarray] = []
    warnings: list[str] = []
    finite = _Finite()
    first = None  # the first chunk, for --explain
    n_chunks = 0
    for ch in preds.chunks():
        x, y, v = _unbatched(spec, ch.x, ch.y) + (ch.var,)
        if x.size == 0:
            continue
        if spec.target != "tokens" and y is None:
            raise InputError(f"{spec.name} needs a target, and none was given", source=preds.source,
                             hint="give --target, a 'target' key, or a label/target column")
        finite.check(x, "input", ch.row0, preds)
        finite.check(y, "target", ch.row0, preds)
        o = dict(opts)
        if v is not None:
            if spec.name != "gaussian-nll":
                raise UsageError(f"{spec.name} takes no variance", hint="drop --var or the 'var' key / column")
            finite.check(v, "variance", ch.row0, preds)
            o["var"] = v
        if strict and finite.count:
            raise InputError(f"NaN/inf in the data: {finite.first}", hint="drop --strict to compute anyway")
        o["_row0"] = ch.row0
        parts = _call(spec, x, y, o, preds, ch.row0)
        n_chunks += 1
        vals = np.asarray(parts.values, dtype=np.float64)
        total.add(float(np.sum(vals)))
        denom.add(float(parts.denominator))
        batch += int(parts.batch)
        count += int(vals.size)
        if red == "none":
            values.append(vals)
        for w in (parts.extra or {}).get("warnings", []) or []:
            if w not in warnings:
                warnings.append(w)
        if explain and first is None:
            first = (x, y, o, parts)
        if progress is not None:
            done, size = preds.progress()
            progress(done, size)
    if n_chunks == 0:
        raise InputError("no predictions: the input is empty", source=preds.source,
                         hint="give at least one row of input and target")
    if finite.count:
        warnings.insert(0, finite.message())
    s, d = total.value, denom.value
    if red == "none":
        value = None
    elif red == "sum":
        value = s
    elif red == "mean":
        value = s / d if d else float("nan")
        if not d and count:
            # PyTorch's answer too (0/0), but never silently
            warnings.append("the mean divides by 0 (every target is ignored, or every weight is 0): "
                            "the result is NaN, as in PyTorch; --reduction sum gives 0")
    else:  # batchmean
        value = s / batch if batch else float("nan")
    arr = None
    if red == "none":
        arr = values[0] if len(values) == 1 else np.concatenate(values)
    explanation = None
    if first is not None:
        explanation = _explain(spec, *first, red)
        if n_chunks > 1:
            explanation = _explain_whole(spec, explanation, first, red, arr, s, count, d, batch)
    return ComputeResult(loss=spec.name, reduction=red, value=value, count=count, denominator=d, batch=batch,
                         sum=s, options={}, values=arr, warnings=warnings, explanation=explanation)


_ROW_RE = None


def _call(spec, x, y, opts, preds, row0: int):
    """``spec.fn`` with the file (and line, for CSV rows) added to its error messages."""
    try:
        return spec.fn(x, y, opts)
    except InputError as e:
        raise _located(e, preds) from None


def as_option_error(e: InputError) -> InputError:
    """An error about values given inline on the command line, worded for the CLI:
    the option is named (``--target`` rather than key 'target') and rows are counted
    from 1, as the ``--input`` parser counts them."""
    if e.source or e.key not in ("input", "target", "var"):
        return e
    import re

    from lossctl.errors import location

    msg = e.message
    prefix = location(None, e.line, e.column, e.key)
    if prefix and msg.startswith(prefix + ": "):
        msg = msg[len(prefix) + 2:]
    msg = re.sub(r"\brow (\d+)", lambda m: f"row {int(m.group(1)) + 1}", msg)
    msg = re.sub(r"\[(\d+)\]", lambda m: f"row {int(m.group(1)) + 1}", msg)
    return InputError(f"--{e.key}: {msg}", hint=e.hint)


def _located(e: InputError, preds) -> InputError:
    """Add the file (and for CSV the line and column) to a message from the loss functions."""
    if not preds.source or e.source:
        return e
    global _ROW_RE
    import re

    from lossctl.errors import location

    if _ROW_RE is None:
        _ROW_RE = re.compile(r"\b(?:row|token) (\d+)")
    msg = e.message
    prefix = location(None, e.line, e.column, e.key)
    if prefix and msg.startswith(prefix + ": "):
        msg = msg[len(prefix) + 2:]
    line = None
    column = e.column
    key = e.key
    if preds.format in ("csv", "tsv", "parquet"):
        m = _ROW_RE.search(msg)
        if m and preds.format != "parquet":
            line = int(m.group(1)) + 1 + preds.header_lines
        if key == "target" and preds.target_columns and len(preds.target_columns) == 1:
            column, key = preds.target_columns[0], None
        elif key == "input" and preds.columns and len(preds.columns) == 1:
            column, key = preds.columns[0], None
        elif key in ("input", "target"):
            key = None
    return InputError(msg, source=preds.source, line=line, column=column, key=key, hint=e.hint)


def _explain_whole(spec, lines, first, red, values, total, count, denominator, batch) -> list[str]:
    """--explain over a file read in chunks: the first rows' steps, the reduction of all values."""
    import re

    from lossctl import explain as _ex

    x, y, o, parts = first
    reduction_lines = getattr(_ex, "_reduction_lines", None)
    if reduction_lines is None:  # pragma: no cover - another explain module
        return lines + [f"(the rows above are from the start of the file; the {red} is over all {count} values)"]
    k = len(reduction_lines(spec, red, parts))
    head = lines[:-k]
    first_count = int(np.asarray(parts.values).size)
    more = re.compile(r"^… \((\d+) more (\w+)\)$")
    for i, line in enumerate(head):
        m = more.match(line)
        if m:
            extra = (batch - parts.batch) if m.group(2).startswith("row") else (count - first_count)
            n = int(m.group(1)) + extra
            head[i] = f"… ({n} more {m.group(2) if n != 1 else m.group(2).rstrip('s')})"
    if values is None:  # mean/sum/batchmean: no values kept; a same-sized view with the same sum
        values = np.broadcast_to(np.float64(total / count if count else 0.0), (count,))
    whole = _losses.Parts(values, denominator, batch, dict(parts.extra))
    return head + reduction_lines(spec, red, whole)


def _explain(spec, x, y, opts, parts, red) -> list[str]:
    try:
        from lossctl.explain import explain
    except ImportError:  # pragma: no cover - the explain module is written by the losses work
        return [f"{spec.name}: {spec.formula}"]
    return [str(s) for s in explain(spec, x, y, opts, red, parts, max_rows=3)]


# ---------------------------------------------------------------- lm


def _compute_lm(spec, preds, opts, red, strict, explain) -> ComputeResult:
    if preds.raw is not None:
        x_obj, y_obj, _ = preds.raw
    else:
        chunks = list(preds.chunks())
        x_obj = np.concatenate([c.x for c in chunks]) if chunks else np.empty(0)
        y_obj = np.concatenate([c.y for c in chunks]) if chunks and chunks[0].y is not None else None
    try:
        x, y, seq = _losses.lm_flatten(x_obj, y_obj)
    except InputError as e:
        raise _located(e, preds) from None
    if x.size == 0:
        raise InputError("no tokens: the input is empty", source=preds.source,
                         hint="give per-token (log-)probabilities, or logits with target token ids")
    finite = _Finite()
    finite.check(x, "input", 0, preds)
    if strict and finite.count:
        raise InputError(f"NaN/inf in the data: {finite.first}", hint="drop --strict to compute anyway")
    o = dict(opts)
    o["_row0"] = 0
    o["_seq_ids"] = seq
    parts = _call(spec, x, y, o, preds, 0)
    vals = np.asarray(parts.values, dtype=np.float64)
    extra = parts.extra or {}
    warnings = list(extra.get("warnings", []) or [])
    if finite.count:
        warnings.insert(0, finite.message())
    s = float(np.sum(vals))
    tokens = int(parts.denominator)
    summ = _losses.lm_summary(s, tokens)
    sequences = []
    ids = extra.get("seq_ids")
    if ids is not None:
        for i, sid in enumerate(np.asarray(ids).tolist()):
            t = int(extra["seq_tokens"][i])
            m = float(extra["seq_mean"][i])
            with np.errstate(all="ignore"):
                ppl = float(np.exp(m)) if t else float("nan")
            sequences.append({"sequence": int(sid), "tokens": t, "sum": float(extra["seq_sum"][i]),
                              "mean_nll": m, "perplexity": ppl})
    mom = extra.get("mean_of_seq_means")
    lm = LMSummary(mean_nll=float(summ["mean_nll"]), sum=s, tokens=tokens, perplexity=float(summ["perplexity"]),
                   bits_per_token=float(summ["bits_per_token"]), sequences=sequences,
                   mean_of_sequence_means=None if mom is None else float(mom))
    value = None if red == "none" else (s if red == "sum" else lm.mean_nll)
    explanation = _explain(spec, x, y, o, parts, red) if explain else None
    return ComputeResult(loss=spec.name, reduction=red, value=value, count=int(vals.size), denominator=float(tokens),
                         batch=len(sequences) or 1, sum=s, options={}, values=vals if red == "none" else None,
                         warnings=warnings, explanation=explanation, lm=lm)


__all__ = ["compute", "ComputeResult", "LMSummary"]


_callable_module(__name__, compute)  # lossctl.compute(...) also after `import lossctl.compute`
