"""``--explain``: the computation of a loss in plain text, step by step, with real numbers.

:func:`explain` returns lines like the loss tutorial's::

    cross-entropy: classification: softmax cross-entropy ...
    formula: -log softmax(x)[y] = logsumexp(x) - x[y]  (with --probs: -log p[y])
    row 0 (target 0): logsumexp([2, 1, 0.5]) - 2 = 0.4644
    mean = 0.4644 / 1 = 0.4644  (divided by the number of non-ignored rows)
    loss (mean) = 0.4644

Step lines use 2 decimals (like the tutorial; a log-sum-exp step and a single-value
reduction keep 4, as the tutorial's code example prints), the final result 4; the exact value
is reported by the compute command itself. Numbers the user typed are shown as
typed (``0.6``, ``90``). The per-row results are taken from ``parts.values`` so the
explanation can never disagree with the computed loss.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from lossctl import losses as L
from lossctl.output import plain_number

MAX_VEC = 6  # entries of a vector shown before "…"
MAX_TERMS = 6  # terms of a sum written out in the reduction line


# ---------------------------------------------------------------- number formats


def _fmt(v: float, decimals: int) -> str:
    v = float(v)
    special = plain_number(v)
    if special is not None:
        return special
    if abs(v) < 0.5 * 10.0 ** (-decimals):  # would print as 0.00: keep it visible
        return f"{v:.{decimals}g}"
    if decimals <= 2 and abs(v) < 0.1:  # a step value 0.0087, not 0.01 (results keep 4 decimals: 0.0290)
        return f"{v:.{decimals}g}"
    return f"{v:.{decimals}f}"


def f2(v: float) -> str:
    """A step value: 2 decimals (0.51, 2.30), integers as integers (100)."""
    return _fmt(v, 2)


def f4(v: float) -> str:
    """A result: 4 decimals (0.4644, 0.0290)."""
    return _fmt(v, 4)


def fin(v: float) -> str:
    """An input number as typed: 0.6, 90, 1.6432."""
    return L._num(v)


def fpar(v: float) -> str:
    """An input number, parenthesised when negative: (-0.81)."""
    s = fin(v)
    return f"({s})" if s.startswith("-") else s


def fpar2(v: float) -> str:
    s = f2(v)
    return f"({s})" if s.startswith("-") else s


def fvec(a) -> str:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    items = [fin(v) for v in a[:MAX_VEC]]
    if a.size > MAX_VEC:
        items.append(f"… {a.size} values")
    return "[" + ", ".join(items) + "]"


# ---------------------------------------------------------------- public entry


def explain(spec: L.LossSpec, x, y, opts: Mapping[str, Any], reduction: str, parts: L.Parts,
            max_rows: int = 3) -> list[str]:
    """Plain-text lines explaining how ``parts`` (and its ``reduction``) came about.

    ``x``, ``y`` and ``opts`` are what was passed to ``spec.fn`` (for ``lm``: the
    output of :func:`lossctl.losses.lm_flatten`).
    """
    lines = [f"{spec.name}: {spec.summary}", f"formula: loss = {spec.formula}"]
    shown = _options_line(spec, opts)
    if shown:
        lines.append(shown)
    x = np.asarray(x, dtype=np.float64)
    y = None if y is None else np.asarray(y)
    stepper = _STEPS.get(spec.name, _generic_steps)
    with np.errstate(all="ignore"):
        lines += stepper(spec, x, y, opts, parts, max_rows)
    if spec.name == "lm" and reduction == "mean":
        # the tutorial's "总 Loss = 0.22 + 0.36 = 0.58": the total over tokens, then the mean
        lines.append(_reduction_lines(spec, "sum", parts)[0])
    lines += _reduction_lines(spec, reduction, parts)
    if spec.name == "lm":
        lines += _lm_summary_lines(parts)
    return lines


def _options_line(spec: L.LossSpec, opts: Mapping[str, Any]) -> str:
    shown = []
    for o in spec.options:
        v = opts.get(o.key, o.default)
        if v is None:
            continue
        if isinstance(v, np.ndarray) or isinstance(o.default, np.ndarray):
            shown.append(f"{o.name} {fvec(v)}")
        elif v != o.default:
            if o.kind == "bool":
                shown.append(o.name if v else f"no {o.name}")
            else:
                shown.append(f"{o.name} {fin(v)}")
    return ("options: " + ", ".join(shown)) if shown else ""


def _more(n_total: int, n_shown: int, what: str = "rows") -> list[str]:
    if n_total > n_shown:
        k = n_total - n_shown
        return [f"… ({k} more {what if k != 1 else what.rstrip('s')})"]
    return []


def _label(shape: tuple, flat: int, opts: Mapping[str, Any], word: str = "row") -> str:
    if len(shape) <= 1:
        return f"{word} {L._row(opts, flat)}"
    idx = np.unravel_index(flat, shape)
    return f"{word} {L._row(opts, idx[0])} [" + ", ".join(str(int(i)) for i in idx[1:]) + "]"


# ---------------------------------------------------------------- reduction


def _reduction_lines(spec: L.LossSpec, reduction: str, parts: L.Parts) -> list[str]:
    v = np.asarray(parts.values, dtype=np.float64).reshape(-1)
    n = v.size
    total = float(np.sum(v))
    # one value: the step line already showed it, so keep the precision of the result
    fmt, pfmt = (f4, lambda t: f"({f4(t)})" if t < 0 else f4(t)) if n == 1 else (f2, fpar2)
    terms = " + ".join(pfmt(t) for t in v[:MAX_TERMS]) if n else "0"
    written_out = 0 < n <= MAX_TERMS
    if reduction == "none":
        head = ", ".join(f4(t) for t in v[:MAX_VEC])
        more = f", … {n} values" if n > MAX_VEC else ""
        return ["reduction none: no reduction, one value per row", f"loss (none) = [{head}{more}]"]
    if reduction == "sum":
        if n == 0:
            line = "sum of no values = 0"
        elif written_out:
            line = f"sum = {terms} = {fmt(total)}"
        else:
            line = f"sum of the {n} values = {f2(total)}"
        return [line, f"loss (sum) = {f4(total)}"]
    if reduction == "batchmean":
        b = parts.batch
        res = total / b if b else float("nan")
        return [f"batchmean = sum / rows = {f2(total)} / {b} = {f2(res)}  (the true KL divergence per sample)",
                f"loss (batchmean) = {f4(res)}"]
    # mean
    d = parts.denominator
    res = total / d if d else float("nan")
    what = parts.extra.get("denominator_is", "the number of elements")
    if written_out and n > 1:
        num = f"({terms})"
    elif written_out:
        num = terms
    else:
        num = f"{f2(total)}"
    why = f"divided by {what}" if written_out else f"the sum of the {n} values divided by {what}"
    dn = f2(d) if d != int(d) else str(int(d))
    lines = [f"mean = {num} / {dn} = {fmt(res)}  ({why})" if n else
             f"mean of no values = nan  (divided by {what})"]
    if d == 0 and n:
        lines[0] = f"mean = {num} / 0 = nan  (every target is ignored: divided by {what})"
    if spec.name == "kl-div":
        lines.append("note: mean divides by every element; --reduction batchmean gives the true KL divergence")
    lines.append(f"loss (mean) = {f4(res)}")
    return lines


def _lm_summary_lines(parts: L.Parts) -> list[str]:
    total = float(np.sum(parts.values))
    s = L.lm_summary(total, int(parts.denominator))
    m = s["mean_nll"]
    lines = [
        f"tokens = {s['tokens']}, mean NLL per token = {f4(total)} / {s['tokens']} = {f4(m)}",
        f"perplexity = exp({f4(m)}) = {f4(s['perplexity'])}",
        f"bits per token = {f4(m)} / ln 2 = {f4(s['bits_per_token'])}",
    ]
    lines += list(parts.extra.get("notes", []))
    return lines


# ---------------------------------------------------------------- class losses


def _class_steps(spec, x, y, opts, parts, max_rows):
    ignore = None if spec.name == "multi-margin" else int(opts.get("ignore_index", -100))
    d = L._class_data(spec.name, x, y, opts, allow_soft=spec.name == "cross-entropy", ignore_index=ignore)
    vals = np.asarray(parts.values, dtype=np.float64).reshape(-1)
    M, C = d.x.shape
    inner = M // d.batch if d.batch else 1
    w = opts.get("weight")
    w = None if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    probs = bool(opts.get("probs", False)) and spec.name == "cross-entropy"
    eps = float(opts.get("label_smoothing", 0.0) or 0.0) if spec.name == "cross-entropy" else 0.0
    lines: list[str] = []
    if spec.name == "cross-entropy" and d.soft:
        lines.append("probability targets: loss = -Σ_c " + ("w[c]·" if w is not None else "")
                     + "t[c]·log p[c]" + (f"; targets smoothed: t = (1 - {fin(eps)})·t + {fin(eps)}/{C}" if eps else ""))
    elif spec.name == "cross-entropy" and eps:
        lines.append(f"label smoothing {fin(eps)}: loss = (1 - {fin(eps)})·"
                     + ("w[y]·" if w is not None else "") + f"(-log p[y]) + {fin(eps)}/{C}·Σ_c "
                     + ("w[c]·" if w is not None else "") + "(-log p[c])")
    for k in range(min(M, max_rows)):
        lab = f"row {L._row(opts, d.rows[k])}" + (f" [{k % inner}]" if inner > 1 else "")
        row = d.x[k]
        if spec.name == "cross-entropy" and d.soft:
            t = d.t[k] * (1.0 - eps) + eps / C if eps else d.t[k]
            logp = np.log(row) if probs else L._log_softmax(row)
            pieces = []
            for c in range(min(C, MAX_VEC)):
                wc = f"{fin(w[c])}·" if w is not None else ""
                pieces.append(f"{wc}{f2(t[c])}·{fpar2(logp[c])}")
            if C > MAX_VEC:
                pieces.append("…")
            src = f"log p = log({fvec(row)})" if probs else f"log p = log_softmax({fvec(row)})"
            lines.append(f"{lab}: {src}; -Σ t·log p = -({' + '.join(pieces)}) = {f2(vals[k])}")
            continue
        yk = int(d.idx[k])
        if d.keep is not None and not d.keep[k]:
            lines.append(f"{lab}: target {ignore} is --ignore-index: skipped (adds 0, not counted in the mean)")
            continue
        if spec.name == "multi-margin":
            lines.append(_margin_line(lab, row, yk, opts, w, vals[k]))
            continue
        if spec.name == "nll":
            nll = -row[yk]
            expr = f"-x[{yk}] = -{fpar(row[yk])} = {f2(nll)}"
        elif probs:
            nll = float(-np.log(row[yk]))  # as the loss computes it, to the last bit
            expr = f"-log(p[{yk}]) = -log({fin(row[yk])}) = {f2(nll)}"
        else:
            nll = float(-L._log_softmax(row)[yk])
            expr = f"logsumexp({fvec(row)}) - {fpar(row[yk])} = {f4(nll)}"
        line = f"{lab} (target {yk}): {expr}"
        if eps:
            logp = np.log(row) if probs else L._log_softmax(row)
            smooth = float(-np.sum(logp * w) if w is not None else -np.sum(logp))
            wy = f"{fin(w[yk])}·" if w is not None else ""
            line += (f"; (1 - {fin(eps)})·{wy}{f2(nll)} + {fin(eps)}/{C}·{f2(smooth)} = {f2(vals[k])}")
        elif w is not None:
            line += f"; × weight[{yk}] {fin(w[yk])} = {f2(vals[k])}"
        lines.append(line)
    lines += _more(M, min(M, max_rows))
    return lines


def _margin_line(lab, row, yk, opts, w, value):
    p = int(opts.get("p", 1))
    margin = float(opts.get("margin", 1.0))
    C = row.shape[0]
    terms = []
    for j in range(C):
        if j == yk:
            continue
        z = max(0.0, margin - row[yk] + row[j])
        terms.append(f2(z) + ("²" if p == 2 else ""))
    shown = terms[:MAX_VEC] + (["…"] if len(terms) > MAX_VEC else [])
    wtxt = f"{fin(w[yk])}·" if w is not None else ""
    return (f"{lab} (target {yk}): {wtxt}Σ_(j≠{yk}) max(0, {fin(margin)} - {fpar(row[yk])} + x[j])"
            + ("²" if p == 2 else "") + f" / {C} = {wtxt}({' + '.join(shown)}) / {C} = {f2(value)}")


# ---------------------------------------------------------------- element-wise losses


def _elementwise(describe: Callable[..., str]):
    """Steps for a loss computed element by element: ``describe(x, y, k, opts, shape) -> expr``."""

    def steps(spec, x, y, opts, parts, max_rows):
        vals = np.asarray(parts.values, dtype=np.float64)
        xs = np.broadcast_to(x, vals.shape).reshape(-1)
        ys = np.broadcast_to(np.asarray(y, dtype=np.float64), vals.shape).reshape(-1)
        flat = vals.reshape(-1)
        lines = []
        for k in range(min(flat.size, max_rows)):
            lab = _label(vals.shape, k, opts)
            lines.append(f"{lab}: {describe(float(xs[k]), float(ys[k]), k, opts, vals.shape)} = {f2(flat[k])}")
        lines += _more(flat.size, min(flat.size, max_rows), "elements" if vals.ndim > 1 else "rows")
        return lines

    return steps


def _elem_weight(opts, key, shape, k):
    w = opts.get(key)
    if w is None:
        return None
    return float(np.broadcast_to(np.asarray(w, dtype=np.float64), shape).reshape(-1)[k])


def _mse_d(a, b, k, opts, shape):
    return f"(x - y)² = ({fin(a)} - {fpar(b)})²"


def _l1_d(a, b, k, opts, shape):
    return f"|x - y| = |{fin(a)} - {fpar(b)}|"


def _huber_d(a, b, k, opts, shape):
    dl = float(opts.get("delta", 1.0))
    z = abs(a - b)
    if z < dl:
        return f"|x - y| = {f2(z)} < δ {fin(dl)}: ½·{f2(z)}²"
    return f"|x - y| = {f2(z)} ≥ δ {fin(dl)}: {fin(dl)}·({f2(z)} - {fin(dl)}/2)"


def _smooth_l1_d(a, b, k, opts, shape):
    bt = float(opts.get("beta", 1.0))
    z = abs(a - b)
    if bt == 0:
        return f"β = 0 gives L1: |x - y| = |{fin(a)} - {fpar(b)}|"
    if z < bt:
        return f"|x - y| = {f2(z)} < β {fin(bt)}: ½·{f2(z)}²/{fin(bt)}"
    return f"|x - y| = {f2(z)} ≥ β {fin(bt)}: {f2(z)} - {fin(bt)}/2"


def _bce_d(a, b, k, opts, shape):
    def lg(v, arg):
        r = math.log(v) if v > 0 else -math.inf
        return f"log({arg})" if r >= L.BCE_LOG_CLAMP else f"max(log({arg}), -100)"

    expr = f"-({fin(b)}·{lg(a, fin(a))} + {fin(1 - b)}·{lg(1 - a, fin(1 - a))})"
    w = _elem_weight(opts, "weight", shape, k)
    clamp = a <= 0 or a >= 1 or min(a, 1 - a) < math.exp(L.BCE_LOG_CLAMP)
    note = " (log clamped at -100, like PyTorch)" if clamp else ""
    return expr + note + (f" × weight {fin(w)}" if w is not None else "")


def _bce_logits_d(a, b, k, opts, shape):
    pw = _elem_weight(opts, "pos_weight", shape, k)
    w = _elem_weight(opts, "weight", shape, k)
    ls = float(L.log_sigmoid(np.float64(a)))
    if pw is None:
        head, vals = "(1 - y)·x - log σ(x)", f"{fin(1 - b)}·{fpar(a)} - {fpar2(ls)}"
    else:
        head = "(1 - y)·x - (1 + (pw - 1)·y)·log σ(x)"
        vals = f"{fin(1 - b)}·{fpar(a)} - {fin(1 + (pw - 1) * b)}·{fpar2(ls)}"
    if w is not None:
        vals = f"({vals}) × weight {fin(w)}"
    return f"{head} = {vals}"


def _focal_d(a, b, k, opts, shape):
    g = float(opts.get("gamma", 2.0))
    al = float(opts.get("alpha", 0.25))
    p = float(L.sigmoid(np.float64(a)))
    ce = float((1 - b) * a - L.log_sigmoid(np.float64(a)))
    pt = p * b + (1 - p) * (1 - b)
    head = f"p = σ({fin(a)}) = {f2(p)}, ce = {f2(ce)}, p_t = {f2(pt)}; "
    if al >= 0:
        at = al * b + (1 - al) * (1 - b)
        return head + f"α_t·(1 - p_t)^γ·ce = {f2(at)}·(1 - {f2(pt)})^{fin(g)}·{f2(ce)}"
    return head + f"(1 - p_t)^γ·ce = (1 - {f2(pt)})^{fin(g)}·{f2(ce)}"


def _kl_d(a, b, k, opts, shape):
    if opts.get("log_target", False):
        return f"exp(y)·(y - x) = exp({fin(b)})·({fin(b)} - {fpar(a)})"
    if b == 0:
        return "y = 0: y·(log y - x) is taken as 0"
    return f"y·(log y - x) = {fin(b)}·(log({fin(b)}) - {fpar(a)})"


def _poisson_d(a, b, k, opts, shape):
    if opts.get("log_input", True):
        expr = f"exp(x) - y·x = exp({fin(a)}) - {fin(b)}·{fpar(a)}"
    else:
        expr = f"x - y·log(x + eps) = {fin(a)} - {fin(b)}·log({fin(a)} + {fin(opts.get('eps', 1e-8))})"
    if opts.get("full", False) and b > 1:
        st = b * math.log(b) - b + 0.5 * math.log(2 * math.pi * b)
        expr += f" + Stirling y·log y - y + ½log(2πy) ({f2(st)})"
    return expr


def _gaussian_steps(spec, x, y, opts, parts, max_rows):
    vals = np.asarray(parts.values, dtype=np.float64)
    var = np.asarray(opts.get("var"), dtype=np.float64)
    if var.ndim and var.shape != vals.shape and var.shape == vals.shape[:-1]:
        var = var[..., None]
    vv = np.broadcast_to(var, vals.shape).reshape(-1)
    xs, ys, flat = x.reshape(-1), np.asarray(y, dtype=np.float64).reshape(-1), vals.reshape(-1)
    eps = float(opts.get("eps", 1e-6))
    full = bool(opts.get("full", False))
    lines = []
    for k in range(min(flat.size, max_rows)):
        v = float(vv[k])
        vc = max(v, eps)
        clamp = f" (var {fin(v)} clamped to eps {fin(eps)})" if v < eps else ""
        tail = " + ½log(2π)" if full else ""
        lines.append(f"{_label(vals.shape, k, opts)}: ½·(log(var) + (x - y)²/var){tail} = "
                     f"½·(log({fin(vc)}) + ({fin(xs[k])} - {fpar(ys[k])})²/{fin(vc)}){tail}{clamp} = {f2(flat[k])}")
    lines += _more(flat.size, min(flat.size, max_rows), "elements" if vals.ndim > 1 else "rows")
    return lines


def _log_cosh_d(a, b, k, opts, shape):
    return f"log(cosh(x - y)) = log(cosh({f2(a - b)}))"


def _quantile_d(a, b, k, opts, shape):
    q = float(opts.get("quantile", 0.5))
    e = b - a
    return (f"e = y - x = {fin(b)} - {fpar(a)} = {f2(e)}; max(q·e, (q - 1)·e) = "
            f"max({fin(q)}·{fpar2(e)}, {fin(q - 1)}·{fpar2(e)})")


# ---------------------------------------------------------------- lm


def _lm_steps(spec, x, y, opts, parts, max_rows):
    vals = np.asarray(parts.values, dtype=np.float64).reshape(-1)
    probs = bool(opts.get("probs", False))
    ignore = int(opts.get("ignore_index", -100))
    seq = opts.get("_seq_ids")
    multi = seq is not None and np.unique(np.asarray(seq)).size > 1
    lines = []
    for k in range(min(vals.size, max_rows)):
        lab = f"token {L._row(opts, k)}" + (f" (sequence {int(np.asarray(seq)[k])})" if multi else "")
        if y is None:
            if probs:
                lines.append(f"{lab}: -log({fin(x[k])}) = {f2(vals[k])}")
            else:
                lines.append(f"{lab}: -log p = -{fpar(x[k])} = {f2(vals[k])}")
            continue
        t = int(y[k])
        if t == ignore:
            lines.append(f"{lab}: target {t} is --ignore-index: skipped (adds 0, not counted)")
        elif probs:
            lines.append(f"{lab} (target id {t}): -log(p[{t}]) = -log({fin(x[k, t])}) = {f2(vals[k])}")
        else:
            lines.append(f"{lab} (target id {t}): logsumexp({fvec(x[k])}) - {fpar(x[k, t])} = {f4(vals[k])}")
    lines += _more(vals.size, min(vals.size, max_rows), "tokens")
    return lines


# ---------------------------------------------------------------- generic fallback


def _generic_steps(spec, x, y, opts, parts, max_rows):
    vals = np.asarray(parts.values, dtype=np.float64)
    flat = vals.reshape(-1)
    lines = []
    for k in range(min(flat.size, max_rows)):
        lab = _label(vals.shape, k, opts)
        xi = x.reshape(-1)[k] if x.size == flat.size else None
        yi = np.asarray(y, dtype=np.float64).reshape(-1)[k] if y is not None and np.size(y) == flat.size else None
        args = ", ".join(s for s in (
            f"x = {fin(xi)}" if xi is not None else "", f"y = {fin(yi)}" if yi is not None else "") if s)
        lines.append(f"{lab}: {spec.formula}" + (f" with {args}" if args else "") + f" = {f2(flat[k])}")
    lines += _more(flat.size, min(flat.size, max_rows))
    return lines


_STEPS: dict[str, Callable] = {
    "cross-entropy": _class_steps,
    "nll": _class_steps,
    "multi-margin": _class_steps,
    "mse": _elementwise(_mse_d),
    "l1": _elementwise(_l1_d),
    "huber": _elementwise(_huber_d),
    "smooth-l1": _elementwise(_smooth_l1_d),
    "bce": _elementwise(_bce_d),
    "bce-with-logits": _elementwise(_bce_logits_d),
    "focal": _elementwise(_focal_d),
    "kl-div": _elementwise(_kl_d),
    "poisson-nll": _elementwise(_poisson_d),
    "gaussian-nll": _gaussian_steps,
    "log-cosh": _elementwise(_log_cosh_d),
    "quantile": _elementwise(_quantile_d),
    "lm": _lm_steps,
}
