"""Read a training curve: one verdict, findings, evidence and recommendations.

Python API::

    lossctl.diagnose("train.log")            # path → parse_log → Diagnosis
    lossctl.diagnose(df)                     # a tidy DataFrame from parse_log
    lossctl.diagnose.diagnose_runs(df)       # one Diagnosis per run

The diagnosis is a pure function of the data: deterministic, no smoothing for
decisions, and independent of the loss's scale and of how often it was logged
(see :mod:`lossctl.curves` for the statistics). Every rule and threshold is
documented where it is used below.

The rules, in order (details and thresholds next to the code of each):

1. insufficient-data: fewer than 4 finite loss points (and no NaN/inf).
2. diverged: any NaN/inf loss or grad norm, the HF fp16 signature (loss 0.0
   with grad_norm NaN), Megatron NaN iterations; or a blow-up without NaN (the
   end above 1.1× the start and 1.5× the minimum, or back half-way up from the
   minimum — a new excursion, beyond noise); or grad norm ×10 while the loss rose.
3. overfitting (on the eval points, Prechelt's GL, patience in evaluations):
   ≥ 2 evals after the best, GL ≥ 2 % beyond eval noise, train not rising.
4. lr-too-high: block medians wander around the best non-increasing fit far
   beyond noise without a downward trend (epoch-level: a zig-zag), or no net
   progress while moving far more than noise.
5. not-learning: no fall ≥ 3 % beyond noise, from the very start, and flat.
6. converging: otherwise.

Scale-free by construction for positive losses (every threshold is a ratio to
the loss level or to a noise estimate); a loss that can be negative (ELBO,
log-likelihood) is read with the same rules on its raw values, which is weaker.

JSON schema (``Diagnosis.to_dict()``, stable; ``lossctl diagnose --format json``)::

    {
      "run": 0,                      # run id inside the file (null when single)
      "source": "train.log",         # path, or null for a DataFrame
      "verdict": "overfitting",      # converging | overfitting | lr-too-high |
                                     # diverged | not-learning | insufficient-data
      "confidence": "high",          # high | medium | low
      "summary": "eval loss min ...",# the numbers behind the verdict, one line
      "picture": "overfitting",      # tutorial picture: normal | overfitting |
                                     # lr-too-high | null
      "findings": [                  # any number, in a fixed order
        {"code": "spikes", "confidence": "medium", "message": "...",
         "evidence": {...}}
      ],
      "recommendations": [
        {"param": "learning_rate", "current": 5e-05, "suggested": 1.5e-05,
         "framework": "hf", "message": "lower the learning rate"}
      ],                             # framework: hf | keras | lightning | any
      "best_step": 2000,             # step of the lowest eval loss, or null
      "evidence": {...},             # flat dict of the numbers used (see below)
      "evidence_lines": ["..."]      # the same numbers as sentences (in --lang)
    }

Finding codes: still-improving, plateaued, schedule-decay, spikes, noisy,
lr-too-low, underfitting, warmup-instability, hidden-nans, nonfinite,
clipping-saturated, eval-sparse, no-eval, grad-norm-growth, too-few-points,
eval-stalled.

Evidence keys (absent when not applicable): n_points, n_eval, first_step,
last_step, axis ("step"|"epoch"|"index"), warmup_end_step, l_start, l_head,
l_end, l_last10, l_min, l_min_step, rel_drop, sigma, noise_rel, oscillation_q,
oscillation_amp, last_quarter_change, last_quarter_se, eval_best, eval_best_step,
eval_best_epoch, eval_last, eval_gl, eval_after_best, train_at_best, train_end,
lr_peak, lr_end, lr_end_ratio, schedule, grad_norm_median, n_nonfinite,
n_spikes, n_hidden_nan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossctl import _callable_module, curves
from lossctl.i18n import t

VERDICTS = ("diverged", "lr-too-high", "overfitting", "not-learning", "insufficient-data", "converging")
#: Sort order for a directory of runs: most severe first.
SEVERITY = {v: i for i, v in enumerate(VERDICTS)}
CONFIDENCES = ("high", "medium", "low")
PICTURES = {
    "converging": "normal",
    "overfitting": "overfitting",
    "lr-too-high": "lr-too-high",
    "diverged": "lr-too-high-closest",
    "not-learning": "none",
    "insufficient-data": "none",
}
PICTURE_ZH_NAMES = {"normal": "正常训练", "overfitting": "过拟合", "lr-too-high": "学习率太大"}
FINDING_ORDER = (
    "nonfinite",
    "hidden-nans",
    "spikes",
    "warmup-instability",
    "grad-norm-growth",
    "clipping-saturated",
    "eval-stalled",
    "still-improving",
    "plateaued",
    "schedule-decay",
    "lr-too-low",
    "underfitting",
    "noisy",
    "too-few-points",
    "eval-sparse",
    "no-eval",
)
#: Formats whose grad_norm is Hugging Face's pre-clipping norm with max_grad_norm=1.0 by default.
HF_FORMATS = ("hf_trainer_state", "hf-trainer-state", "hf_console", "hf-console")


# --------------------------------------------------------------------------- results


@dataclass
class Finding:
    code: str
    confidence: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "confidence": self.confidence, "message": self.message, "evidence": self.evidence}


@dataclass
class Recommendation:
    param: str | None
    message: str
    current: Any = None
    suggested: Any = None
    framework: str = "hf"

    def to_dict(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "current": self.current,
            "suggested": self.suggested,
            "framework": self.framework,
            "message": self.message,
        }

    def text(self) -> str:
        if self.param is None:
            return self.message
        if self.current is not None and self.suggested is not None:
            return f"{self.param}: {_fmt_value(self.current)} → {_fmt_value(self.suggested)}  ({self.message})"
        if self.suggested is not None:
            return f"{self.param}={_fmt_value(self.suggested)}  ({self.message})"
        return f"{self.param}  ({self.message})"


@dataclass
class Diagnosis:
    verdict: str
    confidence: str
    summary: str
    findings: list[Finding] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    best_step: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    run: Any = None
    source: str | None = None
    lang: str = "en"
    #: the evidence as sentences for people (in ``lang``)
    lines: list[str] = field(default_factory=list)
    fmt: str | None = None
    #: lines of the log that could not be read (skipped by the parser, counted); also
    #: ``evidence["skipped_lines"]`` in the JSON
    skipped_lines: int = 0
    # display data (not part of the JSON): block medians of the curves
    chart: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def picture(self) -> str | None:
        p = PICTURES[self.verdict]
        return p if p in ("normal", "overfitting", "lr-too-high") else None

    def picture_text(self) -> str:
        return t("picture." + PICTURES[self.verdict], self.lang)

    def has(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": _py(self.run),
            "source": self.source,
            "verdict": self.verdict,
            "confidence": self.confidence,
            "summary": self.summary,
            "picture": self.picture,
            "findings": [f.to_dict() for f in self.findings],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "best_step": _py(self.best_step),
            "evidence": {k: _py(v) for k, v in self.evidence.items()},
            "evidence_lines": list(self.lines),
        }


# --------------------------------------------------------------------------- helpers


def _py(v):
    if isinstance(v, (np.floating, float)):
        f = float(v)
        if not math.isfinite(f):
            return None
        return int(f) if f.is_integer() and abs(f) < 1e15 else f
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (list, tuple)):
        return [_py(x) for x in v]
    if isinstance(v, dict):
        return {k: _py(x) for k, x in v.items()}
    return v


def _fmt(v, digits: int = 4) -> str:
    """A number for messages: 4 significant digits, integers without a dot."""
    if v is None:
        return "-"
    v = float(v)
    if not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if v.is_integer() and abs(v) < 1e9:
        return str(int(v))
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e6):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


def _fmt_value(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float, np.floating, np.integer)):
        return _fmt(v)
    if isinstance(v, str):
        return f'"{v}"' if not v.startswith(("EarlyStopping", "True", "False", "×")) else v
    return str(v)


def _pct(r: float, signed: bool = True) -> str:
    if r is None or not math.isfinite(r):
        return "-"
    p = 100.0 * r
    s = f"{p:+.3g}%" if signed else f"{p:.3g}%"
    return s


def _step_str(s) -> str:
    return _fmt(s) if s is not None else "-"


def _nice_round(v: float) -> float:
    """Round to 2 significant digits (suggested hyper-parameter values)."""
    if v == 0 or not math.isfinite(v):
        return v
    e = math.floor(math.log10(abs(v)))
    return round(v, -e + 1)


# --------------------------------------------------------------------------- input


@dataclass
class Series:
    x: np.ndarray
    y: np.ndarray
    epoch: np.ndarray  # NaN where unknown

    @property
    def n(self) -> int:
        return int(self.y.size)

    def finite(self) -> "Series":
        ok = np.isfinite(self.y)
        return Series(self.x[ok], self.y[ok], self.epoch[ok])


_EMPTY = np.empty(0, dtype=np.float64)


def _empty() -> Series:
    return Series(_EMPTY, _EMPTY, _EMPTY)


@dataclass
class Curves:
    """The curves of one run, sorted by step, one value per step (the last one written)."""

    train: Series
    eval: Series
    lr: Series
    grad_norm: Series
    nan_iterations: Series
    hparams: dict[str, Any]
    fmt: str | None
    axis: str
    loss_parts: tuple[str, ...] = ()  # when "the loss" is the sum of these parts (YOLO: box+cls+dfl)


def _to_series(x, y, ep) -> Series:
    if y.size == 0:
        return _empty()
    order = np.argsort(x, kind="stable")
    x, y, ep = x[order], y[order], ep[order]
    # Two writers logging the same step: keep the last value written.
    keep = np.append(x[1:] != x[:-1], True)
    return Series(x[keep], y[keep], ep[keep])


def choose_series(pairs, splits, names):
    """Which series to read among the (split, metric) ``pairs`` of a run: the first of
    ``splits`` that has one, with the loss (or its parts, :func:`_pick_loss`) when ``names``
    is None, else the first of ``names`` there. ``(split, metrics)``, or None."""
    for sp in splits:
        present = {m for (s_, m) in pairs if s_ == sp}
        if not present:
            continue
        chosen = _pick_loss(present) if names is None else [m for m in names if m in present][:1]
        if chosen:
            return sp, chosen
    return None


def sum_of_parts(x, names, value, epoch):
    """A loss made of parts (YOLO box + cls + dfl): at each x where every part has a value,
    their sum (the last value of a part logged twice at one x), with the epoch last seen there."""
    import numpy as np
    import pandas as pd

    sub = pd.DataFrame({"x": x, "m": names, "v": value, "e": epoch})
    sub = sub.drop_duplicates(["x", "m"], keep="last")
    wide = sub.pivot(index="x", columns="m", values="v").dropna(how="any")
    ep = sub.groupby("x")["e"].last().reindex(wide.index)
    return _to_series(
        wide.index.to_numpy(dtype=np.float64),
        wide.sum(axis=1, min_count=1).to_numpy(dtype=np.float64),
        ep.to_numpy(dtype=np.float64),
    )


def curves_from_frame(df, run=None) -> Curves:
    """Pick the loss, eval loss, learning rate and grad norm of one run from a tidy frame."""
    import pandas as pd

    if run is not None and "run" in df.columns:
        df = df[df["run"] == run]
    if not {"split", "metric", "value"} <= set(df.columns):
        from lossctl.errors import InputError

        raise InputError("the table needs the columns split, metric and value (as lossctl.parse_log returns)")
    # row indices of every (split, metric) pair, in one hashed pass
    groups = {(str(k[0]), str(k[1])): v for k, v in df.groupby(["split", "metric"], sort=False, dropna=True).indices.items()}
    value = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=np.float64)
    step = pd.to_numeric(df["step"], errors="coerce").to_numpy(dtype=np.float64) if "step" in df.columns else None
    epoch = (
        pd.to_numeric(df["epoch"], errors="coerce").to_numpy(dtype=np.float64)
        if "epoch" in df.columns
        else np.full(value.size, np.nan)
    )
    if step is not None and np.isfinite(step).any():
        axis = "step"
        xall = step
    elif np.isfinite(epoch).any():
        axis = "epoch"
        xall = epoch
    else:
        axis = "index"
        xall = np.arange(value.size, dtype=np.float64)
    # rows without a position: put them after the last known one, in file order
    if not np.isfinite(xall).all():
        xall = xall.copy()
        bad = ~np.isfinite(xall)
        xall[bad] = np.nan
        # forward-fill by file order
        s = pd.Series(xall).ffill().fillna(0.0).to_numpy()
        xall = s

    picked: dict[str, list[str]] = {}

    def series_for(splits, names) -> Series:
        found = choose_series(groups, splits, names)
        if found is None:
            return _empty()
        sp, chosen = found
        if names is None:
            picked[sp] = chosen
        if len(chosen) == 1:
            m = groups[(sp, chosen[0])]
            return _to_series(xall[m], value[m], epoch[m])
        # several loss components (e.g. box/cls/dfl): their sum where all are present
        m = np.sort(np.concatenate([groups[(sp, k)] for k in chosen]))
        names_m = df["metric"].to_numpy()[m].astype(str)
        return sum_of_parts(xall[m], names_m, value[m], epoch[m])

    train = series_for(("train",), None)
    ev = series_for(("eval", "test"), None)
    lr = series_for(("train", "eval"), ("learning_rate", "lr"))
    gn = series_for(("train",), ("grad_norm",))
    nan_it = series_for(("train",), ("nan_iterations",))
    hp = dict(getattr(df, "attrs", {}).get("hparams") or {})
    fmt = getattr(df, "attrs", {}).get("format")
    parts = picked.get("train") or picked.get("eval") or picked.get("test") or []
    return Curves(train, ev, lr, gn, nan_it, hp, fmt, axis, tuple(parts) if len(parts) > 1 else ())


def _pick_loss(present: set[str]) -> list[str]:
    """Which metric is "the loss": ``loss``, else ``total_loss``, else the sum of ``*loss`` parts."""
    if "loss" in present:
        return ["loss"]
    if "total_loss" in present:
        return ["total_loss"]
    # loss components: "*loss" (loss_cls, box_loss…) or YOLO's per-head names (box_om, cls_oo…)
    parts = sorted(m for m in present if (m.endswith("loss") or _YOLO_PART.match(m)) and "acc" not in m)
    return parts


_YOLO_PART = __import__("re").compile(r"^(box|cls|dfl|obj|seg|pose|kobj)_(om|oo)$")


# --------------------------------------------------------------------------- analysis


def diagnose(source, *, run=None, lang: str = "en", log_format: str | None = None) -> Diagnosis:
    """Diagnose a training log (path, '-' or text source for parse_log) or a tidy DataFrame.

    With several runs in the data and ``run=None``, the run with the most loss
    points is diagnosed (use :func:`diagnose_runs` for all of them).
    """
    df, src = _frame(source, log_format)
    if run is None and "run" in df.columns and df["run"].nunique(dropna=True) > 1:
        runs = diagnose_runs(df, lang=lang)
        return max(runs, key=lambda d: (d.evidence.get("n_points", 0), d.evidence.get("n_eval", 0)))
    d = diagnose_curves(curves_from_frame(df, run), lang=lang)
    d.run = run
    d.source = src
    _set_skipped(d, df)
    return d


def _set_skipped(d: Diagnosis, df) -> None:
    try:
        n = int(getattr(df, "attrs", {}).get("skipped") or 0)
    except (TypeError, ValueError):
        n = 0
    d.skipped_lines = n
    d.evidence["skipped_lines"] = n


def diagnose_runs(source, *, lang: str = "en", log_format: str | None = None) -> list[Diagnosis]:
    """One Diagnosis per run in the data, in run order."""
    df, src = _frame(source, log_format)
    if "run" not in df.columns or df["run"].nunique(dropna=True) <= 1:
        d = diagnose_curves(curves_from_frame(df), lang=lang)
        d.source = src
        _set_skipped(d, df)
        if "run" in df.columns and df["run"].nunique(dropna=True) == 1:
            d.run = df["run"].dropna().iloc[0]
        return [d]
    out = []
    for r in sorted(df["run"].dropna().unique().tolist()):
        d = diagnose_curves(curves_from_frame(df, r), lang=lang)
        d.run = r
        d.source = src
        _set_skipped(d, df)  # of the whole file: lines are not tied to a run
        out.append(d)
    # runs without any loss (a file that also logs test-only runs) say nothing
    with_loss = [d for d in out if d.evidence.get("n_points", 0) or d.evidence.get("n_eval", 0)]
    return with_loss or out


def _frame(source, log_format):
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source, None
    from lossctl import parse_log

    df = parse_log(source, log_format=log_format)
    return df, str(source)


# Minimum number of finite loss points to say anything (the tutorial's example has 5).
MIN_POINTS = 4


def diagnose_curves(c: Curves, lang: str = "en") -> Diagnosis:
    """The rules. Order of verdicts: diverged > overfitting > lr-too-high > not-learning > converging."""
    ev: dict[str, Any] = {"axis": c.axis, "format": c.fmt}
    findings: list[Finding] = []
    T = lambda key, **kw: t(key, lang, **kw)  # noqa: E731

    train_f = c.train.finite()
    eval_f = c.eval.finite()
    main, main_name = train_f, "train"
    if train_f.n < MIN_POINTS and eval_f.n > train_f.n:
        main, main_name = eval_f, "eval"
    ev["main"] = main_name
    if c.loss_parts:
        ev["loss_parts"] = list(c.loss_parts)
    ev["n_points"] = main.n
    ev["n_eval"] = eval_f.n
    if main.n:
        ev["first_step"] = float(main.x[0])
        ev["last_step"] = float(main.x[-1])

    # ------------------------------------------------------------ NaN / inf
    # Rule D1: any non-finite loss (train or eval) or grad norm means diverged.
    # The HF fp16 signature (loss exactly 0.0 where grad_norm is NaN/inf) and a
    # positive count of NaN iterations (Megatron) are "hidden NaNs": diverged too.
    nan_reasons: list[str] = []
    first_bad_step: float | None = None
    conf_nan = None

    def note_bad(step):
        nonlocal first_bad_step
        if step is not None and (first_bad_step is None or step < first_bad_step):
            first_bad_step = float(step)

    bad_loss = np.concatenate([c.train.x[~np.isfinite(c.train.y)], c.eval.x[~np.isfinite(c.eval.y)]])
    ev["n_nonfinite"] = int(bad_loss.size)
    hidden_mask = np.zeros(c.train.n, dtype=bool)
    if bad_loss.size:
        s = float(bad_loss.min())
        note_bad(s)
        nan_reasons.append(T("why.nonfinite", n=bad_loss.size, step=_step_str(s)))
        conf_nan = "high"
    if c.grad_norm.n:
        gbad = ~np.isfinite(c.grad_norm.y)
        if gbad.any():
            gsteps = c.grad_norm.x[gbad]
            # HF signature: a train loss of exactly 0.0 at a step whose grad norm is not finite
            zero_loss_steps = c.train.x[c.train.y == 0.0]
            sig = np.intersect1d(zero_loss_steps, gsteps)
            if sig.size:
                hidden_mask = np.isin(c.train.x, sig) & (c.train.y == 0.0)
                note_bad(float(sig.min()))
                nan_reasons.append(T("why.hf_signature", n=sig.size, step=_step_str(sig.min())))
                conf_nan = "high"
            else:
                note_bad(float(gsteps.min()))
                nan_reasons.append(T("why.nonfinite_gn", n=int(gbad.sum()), step=_step_str(gsteps.min())))
                # only the gradient norm: the optimizer may have skipped these steps (fp16 loss scaling)
                conf_nan = conf_nan or ("high" if gbad[-max(1, gbad.size // 10):].any() else "medium")
            ev["n_nonfinite_grad_norm"] = int(gbad.sum())
    n_hidden = int(hidden_mask.sum())
    if c.nan_iterations.n:
        nn = np.nan_to_num(c.nan_iterations.y, nan=0.0)
        if (nn > 0).any():
            n_hidden += int(nn[nn > 0].sum())
            s = float(c.nan_iterations.x[nn > 0][0])
            note_bad(s)
            nan_reasons.append(T("why.nan_iterations", n=_fmt(nn[nn > 0].sum()), step=_step_str(s)))
            conf_nan = conf_nan or "medium"
    ev["n_hidden_nan"] = n_hidden
    if n_hidden:
        findings.append(
            Finding("hidden-nans", "high", T("f.hidden-nans", what="; ".join(r for r in nan_reasons if "0.0" in r or "NaN" in r)), {"count": n_hidden})
        )
    if hidden_mask.any():
        keep = ~hidden_mask
        train_f = Series(c.train.x[keep], c.train.y[keep], c.train.epoch[keep]).finite()
        if main_name == "train":
            main = train_f
            ev["n_points"] = main.n
    if nan_reasons and not n_hidden:
        findings.append(Finding("nonfinite", conf_nan or "high", T("f.nonfinite", what="; ".join(nan_reasons)), {"first_step": first_bad_step}))

    # ------------------------------------------------------------ too short
    if main.n < MIN_POINTS and not nan_reasons:
        d = Diagnosis(
            "insufficient-data",
            "high",
            T("ev.few_points", n=main.n),
            _order(findings),
            [],
            _best_eval_step(eval_f),
            ev,
            lang=lang,
        )
        d.recommendations = _recommend(d, c, lang, {})
        d.chart = _chart_data(main, eval_f, main_name)
        d.fmt = c.fmt
        d.lines = [d.summary]
        return d

    st = _stats(main, c, ev) if main.n >= 2 else None

    verdict = None
    conf = None
    summary = None
    ctx: dict[str, Any] = {"first_bad_step": first_bad_step}

    if nan_reasons:
        verdict, conf, summary = "diverged", conf_nan or "high", "; ".join(nan_reasons)
        ctx["resume_before"] = first_bad_step

    # ------------------------------------------------------------ blow-up (rule D2, D3)
    if verdict is None and st is not None and st["n"] >= MIN_POINTS:
        blow = _blowup(st, c, ev, T)
        if blow:
            verdict, conf, summary = "diverged", blow[0], blow[1]
            ctx["resume_before"] = blow[2]

    # ------------------------------------------------------------ overfitting (rule O)
    # Overfitting needs something learned to overfit: when the train loss is the
    # main curve it must have fallen (otherwise a rising eval is "not learning").
    learned = st is None or main_name != "train" or st["fell"] or st["fell_head"]
    tsig = st["sigma"] if st is not None and main_name == "train" else 0.0
    ovf = _overfitting(eval_f, train_f, ev, T, tsig) if eval_f.n >= 2 and learned else None
    # a low-confidence overfitting (one eval after the best) yields to an oscillating train curve
    if verdict is None and ovf is not None and ovf[0] != "low":
        verdict, conf, summary = "overfitting", ovf[0], ovf[1]

    # ------------------------------------------------------------ oscillation (rule L)
    if verdict is None and st is not None and st["n"] >= MIN_POINTS:
        osc = _oscillating(st, ev, T)
        if osc:
            verdict, conf, summary = "lr-too-high", osc[0], osc[1]
    if verdict is None and ovf is not None:
        verdict, conf, summary = "overfitting", ovf[0], ovf[1]

    # ------------------------------------------------------------ not learning (rule N)
    if verdict is None and st is not None:
        nl = _not_learning(st, ev, T)
        if nl and len(nl) == 3:
            verdict, conf, summary = nl
        elif nl:
            verdict, conf, summary = "not-learning", nl[0], nl[1]

    if verdict is None:
        verdict = "converging"
        r = st["R"] if st else 0.0
        # Confidence: a clear fall (≥ 10 %) over ≥ 5 points is "high"; a short
        # run or a small fall is "medium"; a fall barely beyond 3 % is "low".
        if r >= 0.10 and st["n"] >= 5:
            conf = "high" if st["n"] >= 8 or r >= 0.3 else "medium"
        elif r >= 0.05:
            conf = "medium"
        else:
            conf = "low"
        if st and ev.get("window_starts_late") and not (st["fell"] or st["fell_head"]):
            conf = "low"
            summary = T("why.window", l0=_fmt(st["L0"]), lend=_fmt(st["Lend"]), step=_step_str(st["x_all"][0]))
        elif st and not st["fell"] and st["fell_head"]:
            # it fell in the very first points (before L0's window), then stayed
            summary = T("why.converging", l0=_fmt(st["Lhead"]), lend=_fmt(st["Lend"]), pct=_pct(-st["Rhead"]))
        else:
            summary = T("why.converging", l0=_fmt(st["L0"]), lend=_fmt(st["Lend"]), pct=_pct(-r)) if st else ""

    # ------------------------------------------------------------ findings
    if st is not None:
        findings.extend(_findings(st, c, eval_f, train_f, ev, verdict, T))
    d = Diagnosis(verdict, conf, summary, _order(findings), [], _best_eval_step(eval_f), ev, lang=lang, fmt=c.fmt)
    d.recommendations = _recommend(d, c, lang, ctx)
    d.chart = _chart_data(main, eval_f, main_name)
    d.lines = _evidence_lines(d, st, T)
    return d


def _evidence_lines(d: Diagnosis, st, T) -> list[str]:
    """The numbers behind the verdict, as sentences."""
    ev = d.evidence
    out = [d.summary] if d.summary else []
    if ev.get("loss_parts"):
        out.append(T("ev.loss_parts", parts=" + ".join(ev["loss_parts"])))
    if ev.get("n_points"):
        if ev.get("main") == "eval":
            out.append(T("ev.points_eval_main", n=ev["n_points"], first=_step_str(ev.get("first_step")), last=_step_str(ev.get("last_step"))))
        elif ev.get("epoch_level") and ev.get("warmup_end_step") is None:
            out.append(T("ev.points_epochs", n=ev["n_points"], first=_step_str(ev.get("first_step")), last=_step_str(ev.get("last_step"))))
        else:
            w = T("ev.warmup", step=_step_str(ev["warmup_end_step"])) if ev.get("warmup_end_step") is not None else ""
            out.append(T("ev.points", n=ev["n_points"], first=_step_str(ev.get("first_step")), last=_step_str(ev.get("last_step")), warmup=w))
    if st is not None and d.verdict in ("converging", "not-learning") and not ev.get("window_starts_late"):
        out.append(T("ev.noise", sigma=_fmt(st["sigma"]), noise_pct=_pct(ev.get("noise_rel", 0.0), signed=False)))
    elif st is not None:
        out.append(T("ev.levels", l0=_fmt(st["L0"]), lend=_fmt(st["Lend"]), pct=_pct(-st["R"]), sigma=_fmt(st["sigma"]), noise_pct=_pct(ev.get("noise_rel", 0.0), signed=False)))
    if ev.get("eval_best") is not None and d.verdict != "overfitting":
        ep = T("ev.eval_epoch", epoch=_fmt(ev["eval_best_epoch"], 3)) if ev.get("eval_best_epoch") is not None else ""
        out.append(T("ev.eval", best=_fmt(ev["eval_best"]), step=_step_str(ev["eval_best_step"]), epoch=ep, last=_fmt(ev["eval_last"]), gl=_pct(ev.get("eval_gl")), n=ev.get("n_eval")))
        if ev.get("train_at_best") is not None:
            out.append(T("ev.train_during", a=_fmt(ev["train_at_best"]), b=_fmt(ev["train_end"])))
    if ev.get("lr_peak"):
        out.append(T("ev.schedule", peak=_fmt(ev["lr_peak"]), end=_fmt(ev["lr_end"]), pct=_pct(ev.get("lr_end_ratio") or 0.0, signed=False)))
    return out


def _order(findings: list[Finding]) -> list[Finding]:
    rank = {c: i for i, c in enumerate(FINDING_ORDER)}
    return sorted(findings, key=lambda f: rank.get(f.code, 99))


def _best_eval_step(eval_f: Series):
    if eval_f.n == 0:
        return None
    return float(eval_f.x[int(np.argmin(eval_f.y))])


def _chart_data(main: Series, eval_f: Series, main_name: str = "train") -> dict[str, Any]:
    """The raw curves for the chart (the chart downsamples per column, keeping spikes)."""
    if main_name == "eval":
        return {"x": main.x, "y": main.y, "eval_x": _EMPTY, "eval_y": _EMPTY, "main": "eval"}
    return {"x": main.x, "y": main.y, "eval_x": eval_f.x, "eval_y": eval_f.y, "main": "train"}


def _stats(s: Series, c: Curves, ev: dict) -> dict[str, Any]:
    """Baselines of the main curve after warm-up.

    - warm-up: from the logged learning rate (first point at ≥ 99 % of the peak,
      :func:`curves.warmup_end`), only when ≥ 4 points remain after it.
    - L0 = median of the first 10 % after warm-up; L_end = median of the last
      25 %; L_last10 = median of the last 10 %; R = (L0 − L_end)/|L0|.
    - L_head = median of the first 1 % (1–5 points) including warm-up: a fall
      that happened before L0's window still counts as learning.
    - σ = min(robust σ from first differences, from second differences): the
      second differences remove a curved trend, which matters for short,
      smooth epoch-level series; both are MAD-based (spike-proof).
    - 30 block medians of the post-warm-up curve for trends and shapes.
    """
    x, y = s.x, s.y
    n_all = y.size
    start = 0
    if c.lr.n >= 3:
        wi = curves.warmup_end(c.lr.y)
        if wi is not None:
            wstep = float(c.lr.x[wi])
            k = int(np.searchsorted(x, wstep, side="left"))
            if n_all - k >= MIN_POINTS and k > 0:
                start = k
                ev["warmup_end_step"] = wstep
    xp, yp = x[start:], y[start:]
    n = yp.size
    nh = max(1, math.ceil(0.10 * n))
    nt = max(1, math.ceil(0.25 * n))
    n10 = max(1, math.ceil(0.10 * n))
    L0 = float(np.median(yp[:nh]))
    Lend = float(np.median(yp[-nt:]))
    Llast10 = float(np.median(yp[-n10:]))
    Lhead = float(np.median(y[: max(1, min(5, math.ceil(0.01 * n_all)))]))  # L_head
    scale0 = max(abs(L0), 1e-12)
    R = (L0 - Lend) / scale0
    Rhead = (Lhead - Lend) / max(abs(Lhead), 1e-12)
    sigma = curves.noise_sigma(yp)
    nhead = max(1, min(5, math.ceil(0.01 * n_all)))
    # A fall counts only when it is ≥ 3 % and beyond noise: more than 3 standard
    # errors of the difference of the two medians (SE of a median = 1.25 σ/√k).
    se_r = 3 * curves.MEDIAN_SE_FACTOR * sigma * math.sqrt(1 / nh + 1 / nt)
    se_h = 3 * curves.MEDIAN_SE_FACTOR * sigma * math.sqrt(1 / nhead + 1 / nt)
    fell = R >= 0.03 and (L0 - Lend) > se_r
    # …or the Theil–Sen trend over all points after warm-up fell ≥ 3 % of L0 and
    # beyond 3 standard errors (uses every point: more power on very noisy curves)
    if not fell and n >= 8:
        tchange, tse = curves.trend_change(xp, yp, sigma)
        fell = tchange < -3 * tse and -tchange >= 0.03 * scale0
    fell_head = Rhead >= 0.03 and (Lhead - Lend) > se_h
    bl = curves.block_medians(xp, yp, 30)
    imin = int(np.argmin(bl.med))
    Lmin = float(bl.med[imin])
    bb = curves.block_bounds(n, 30)
    # steps as logged: the middle and the last point of the minimum's block
    min_step = float(xp[(bb[imin] + bb[imin + 1] - 1) // 2])
    min_block_end = float(xp[bb[imin + 1] - 1])
    # the loss level for relative thresholds; at least 1 % of the start, so a loss
    # rounded to 0.0 at the end (HF logs 4 decimals) does not make every ratio explode
    level = max(abs(Lend), abs(Lmin), 0.01 * max(abs(L0), abs(Lhead)), 1e-12)
    ev.update(
        epoch_level=_epoch_level(c),
        l_start=L0,
        l_head=Lhead,
        l_end=Lend,
        l_last10=Llast10,
        l_min=Lmin,
        l_min_step=min_step,
        rel_drop=R,
        sigma=sigma,
        noise_rel=sigma / level,
    )
    return dict(
        x=xp, y=yp, n=n, L0=L0, Lend=Lend, Llast10=Llast10, Lhead=Lhead, R=R, Rhead=Rhead,
        sigma=sigma, bl=bl, Lmin=Lmin, Lmin_step=min_step, Lmin_block_end=min_block_end, level=level, start=start,
        x_all=x, y_all=y, fell=fell, fell_head=fell_head, epoch_level=_epoch_level(c),
    )


def _blowup(st, c: Curves, ev, T):
    """Rules D2/D3: the loss blew up without NaNs.

    D2 (design rule): the last 10 % median is above 1.1·start (start = min(L0,
    L_head): a warm-up spike does not raise the bar) and above 1.5× the run's
    minimum (minimum of the 30 block medians: robust to single low points).
    D3: it climbed back at least half-way from its minimum to where it started
    (rise ≥ 0.5·(max(L0, L_head) − min)) and ended ≥ 1.5× the minimum — a blow-up
    to a high plateau below the starting value.
    Both also need the rise to be far beyond noise (> 6 σ/√(points in the last 10 %)
    and > 6 standard errors of a block median), so that noise on a flat curve never
    counts. D4: the grad-norm median grew ≥ 10× while the loss rose ≥ 10 % above
    its minimum.
    Returns (confidence, summary, step to resume before) or None.
    """
    L0, Lmin, last = st["L0"], st["Lmin"], st["Llast10"]
    n = st["n"]
    bl = st["bl"]
    n10 = max(1, math.ceil(0.10 * n))
    se_last = st["sigma"] / math.sqrt(n10)
    se_blk = curves.MEDIAN_SE_FACTOR * st["sigma"] / math.sqrt(max(bl.typical_size, 1.0))
    rise = last - Lmin
    significant = rise > 6 * max(se_last, se_blk) and rise > 0
    top = max(L0, st["Lhead"])
    # the start: L0, or the very first points when they are lower (a loss that
    # spiked during warm-up must not raise the bar)
    start = min(L0, st["Lhead"])
    d2 = last > 1.1 * start and last > 1.5 * Lmin and start > 0
    d3 = Lmin >= 0 and rise >= 0.5 * (top - Lmin) and last >= 1.5 * Lmin and (top - Lmin) > 0
    # where did it start going up: first block after the minimum above min + rise/2
    imin = int(np.argmin(bl.med))
    # A blow-up is a new excursion: the end is higher than anything the curve
    # showed since it first fell below that level (by 10 % of the rise). An
    # oscillating curve that happens to end on a crest fails this: its earlier
    # crests were as high.
    below = np.flatnonzero(bl.med < last)
    new_excursion = True
    if below.size and imin > below[0] + 1:
        earlier = float(np.max(bl.med[below[0] + 1 : imin + 1]))
        new_excursion = last > earlier + 0.1 * rise
    d2 = d2 and new_excursion
    d3 = d3 and new_excursion
    summary = T("why.blowup", last=_fmt(last), l0=_fmt(start), lmin=_fmt(Lmin), step=_step_str(st["Lmin_step"]))
    if significant and (d2 or d3):
        conf = "high" if last > 2 * Lmin and (d2 or rise > (top - Lmin)) else "medium"
        return conf, summary, st["Lmin_block_end"]
    if c.grad_norm.n >= 10:
        g = c.grad_norm.y[np.isfinite(c.grad_norm.y)]
        if g.size >= 10:
            k = max(1, math.ceil(0.1 * g.size))
            a, b = float(np.median(g[:k])), float(np.median(g[-k:]))
            if a > 0:
                ev["grad_norm_growth"] = b / a
            if a > 0 and b >= 10 * a and significant and last >= 1.1 * Lmin and Lmin > 0:
                return "medium", T("why.gn_growth", ratio=_fmt(b / a, 3), a=_fmt(a), b=_fmt(b), lmin=_fmt(Lmin), last=_fmt(last)), st["Lmin_block_end"]
    return None


def _overfitting(eval_f: Series, train_f: Series, ev, T, train_sigma: float = 0.0):
    """Rule O: generalization loss on the eval points (Prechelt's GL).

    best j* = argmin of the eval losses; GL = ref/best − 1 with ref = median of
    the last min(3, evals after j*) evals (a median, so one lucky or unlucky eval
    does not decide). Overfitting when:
      - ≥ 3 evals, ≥ 2 evals after the best (HF/Lightning patience is counted in
        evaluations: two non-improving evals), GL ≥ 2 % (≥ 5 % and ≥ 3 evals after
        the best: high confidence), the train loss did not rise meanwhile (> 2 %
        and beyond its noise and rounding), the rise ref − best is > 3 σ_eval with the evals
        after the best trending up, or > 5 σ_eval (σ_eval from the MAD of the eval
        differences, so noisy evals that happen to dip do not fire) — or every eval
        after the best (≥ 3) rose and the last is ≥ 5 % above the best,
        and the train loss did not rise after the best eval;
      - or a mild steady rise: ≥ 5 evals after the best, GL ≥ 1 %, > 10 σ_eval,
        ≥ 70 % of the eval-to-eval steps after the best going up (medium);
      - or, with a single eval after the best (or only 2 evals): GL ≥ 10 %, low confidence.
    """
    x, y = eval_f.x, eval_f.y
    ne = y.size
    j = int(np.argmin(y))
    best = float(y[j])
    after = ne - 1 - j
    ev["eval_best"] = best
    ev["eval_best_step"] = float(x[j])
    if math.isfinite(eval_f.epoch[j]):
        ev["eval_best_epoch"] = float(eval_f.epoch[j])
    ev["eval_last"] = float(y[-1])
    ev["eval_after_best"] = after
    denom = abs(best) if best != 0 else 1e-12
    ev["eval_gl"] = (float(y[-1]) - best) / denom
    if after < 1:
        return None
    ref = float(np.median(y[-min(3, after):]))
    gl = (ref - best) / denom
    # Eval noise σ_eval: from the scatter of the evals from the best on around
    # their Theil–Sen line (≥ 4 points), else from the differences of all evals
    # (≥ 5), else unknown (then only a ≥ 5 % rise with every eval after the best
    # going up counts).
    sig_known = True
    if after >= 3:
        xs, ys = x[j:], y[j:]
        sl, ic = curves.theil_sen(xs, ys)
        sig_e = curves.MAD_TO_SIGMA * float(np.median(np.abs(ys - (sl * xs + ic))))
        if sig_e == 0 and ne >= 5:
            sig_e = curves.noise_sigma(y)
    elif ne >= 5:
        sig_e = curves.noise_sigma(y)
    else:
        sig_e, sig_known = 0.0, False
    # the evals after the best must trend up (Theil–Sen slope > 0), unless the
    # rise is overwhelming (> 5 σ_eval): a minimum of noisy flat evals is followed
    # by evals that are higher on average but do not trend.
    slope_up = True
    if after >= 3:
        slope_up = curves.theil_sen(x[j + 1 :], y[j + 1 :])[0] > 0
    ev["eval_sigma"] = sig_e
    # train during the overfitting window: median of the train points around the
    # best eval (the last 10 % of train points up to it) vs the last 10 % of the run.
    ta = tb = None
    train_ok = True
    if train_f.n >= 2:
        before = train_f.y[train_f.x <= x[j]]
        afterv = train_f.y[train_f.x > x[j]]
        if before.size and afterv.size:
            ta = float(np.median(before[-max(1, math.ceil(0.1 * before.size)):]))
            tb = float(np.median(afterv[-max(1, math.ceil(0.1 * afterv.size)):]))
            ev["train_at_best"] = ta
            ev["train_end"] = tb
            # "train kept falling": it must not have risen meanwhile — by more than
            # 2 %, beyond 3 standard errors of the two medians and beyond the
            # logging resolution (HF rounds to 4 decimals); a train loss already on
            # its plateau still counts.
            ka = max(1, math.ceil(0.1 * before.size))
            kb = max(1, math.ceil(0.1 * afterv.size))
            se_t = curves.MEDIAN_SE_FACTOR * train_sigma * math.sqrt(1 / ka + 1 / kb)
            dv = np.abs(np.diff(train_f.y))
            quantum = float(dv[dv > 0].min()) if (dv > 0).any() else 0.0
            rise = tb - ta
            train_ok = not (rise > 0.02 * abs(ta) and rise > 3 * se_t and rise > quantum)
    epoch_txt = T("ev.eval_epoch", epoch=_fmt(eval_f.epoch[j], 3)) if math.isfinite(eval_f.epoch[j]) else ""
    if not train_ok:
        return None
    all_up = bool(np.all(np.diff(y[j:]) > 0))
    gl_last = (float(y[-1]) - best) / denom
    noise_ok = (((ref - best) > 3 * sig_e and slope_up) or (ref - best) > 5 * sig_e) if sig_known else (gl >= 0.05 and all_up)
    # every eval after the best higher than the one before (≥ 3 of them) and the
    # last ≥ 5 % above the best: a steady rise is not noise
    noise_ok = noise_ok or (after >= 3 and all_up and gl_last >= 0.05)
    if ne >= 3 and after >= 2 and gl >= 0.02 and noise_ok:
        conf = "high" if gl >= 0.05 and after >= 3 else "medium"
        if ta is None:
            conf = "low" if conf == "medium" else "medium"
            return conf, T("why.overfitting_weak", gl=_pct(gl), step=_step_str(x[j]), n=after)
        return conf, T("why.overfitting", best=_fmt(best), step=_step_str(x[j]), epoch=epoch_txt, last=_fmt(y[-1]), gl=_pct(ev["eval_gl"]), ta=_fmt(ta), tb=_fmt(tb))
    # A mild but steady rise: ≥ 5 evals after the best, GL ≥ 1 %, every part of it
    # far beyond the eval noise (> 10 σ_eval) and trending up. Smooth eval curves
    # (one point per epoch, large eval sets) show overfitting this way first.
    if ne >= 8 and after >= 5 and gl >= 0.01 and slope_up and (ref - best) > 10 * sig_e and sig_e > 0:
        rising = float(np.mean(np.diff(y[j:]) > 0))
        if rising >= 0.7:
            return "medium", T("why.overfitting", best=_fmt(best), step=_step_str(x[j]), epoch=epoch_txt, last=_fmt(y[-1]), gl=_pct(ev["eval_gl"]), ta=_fmt(ta) if ta is not None else "-", tb=_fmt(tb) if tb is not None else "-")
    if (after == 1 or ne == 2) and gl >= 0.10:
        return "low", T("why.overfitting_weak", gl=_pct(gl), step=_step_str(x[j]), n=after)
    return None


def _second_half_trend(st):
    """Theil–Sen change over the second half of the block medians, and its standard error."""
    bl = st["bl"]
    k = bl.med.size
    h = k // 2
    se_b = curves.MEDIAN_SE_FACTOR * st["sigma"] / math.sqrt(max(bl.typical_size, 1.0))
    xs, ys = bl.x[h:], bl.med[h:]
    slope, icpt = curves.theil_sen(xs, ys)
    # scatter around the line: an oscillation is scatter, not noise, so the
    # standard error uses the larger of the noise and the residual scatter.
    resid = ys - (slope * xs + icpt)
    scatter = curves.MAD_TO_SIGMA * float(np.median(np.abs(resid))) if resid.size else 0.0
    change, se = curves.trend_change(xs, ys, max(se_b, scatter))
    return change, se


def _oscillating(st, ev, T):
    """Rule L: oscillating and not converging.

    Long curves (≥ 30 points after warm-up), on the 30 block medians m_k (a block
    median ignores spikes): fit the best non-increasing curve (isotonic regression)
    and measure the RMS distance r to it. The noise explains about
    se_b = 1.25·σ/√(block size). Oscillating when
      - Q = r/se_b > 2.5 (the wandering is not noise: the design's 3 missed
        oscillations whose own slope inflates σ; 30 block medians of pure noise stay
        below Q ≈ 1.2 — see the synthetic suite's false-alarm rate),
      - r ≥ 3 % of the loss level and r ≥ 5 % of the total fall (a practical size:
        small bumps on a long, well-converged LLM curve do not count),
      - and the second half does not trend down: its Theil–Sen change (standard
        error from the larger of noise and scatter) is not below −2 SE and larger
        than r — or ≥ 40 % of its block-to-block movement is upward (an oscillation
        that happens to end in a trough still moves up half of the time).
    Short or epoch-level curves (< 30 points, or one point per epoch: each point
    is already an average over an epoch, so large jumps are not batch noise):
    ≥ 15 % of the steps rise by more than 5 % of the level (the design's 2 % fired
    on 2 % noise), ≥ 30 % of all movement |Δ| is upward, and the second half
    does not fall by more than the typical rise.
    """
    y, n = st["y"], st["n"]
    level = st["level"]
    fall = max(st["Lhead"], st["L0"]) - st["Lmin"]
    if n >= 30 and not st["epoch_level"]:
        bl = st["bl"]
        iso = curves.isotonic_decreasing(bl.med)
        r = float(np.sqrt(np.mean((bl.med - iso) ** 2)))
        se_b = curves.MEDIAN_SE_FACTOR * st["sigma"] / math.sqrt(max(bl.typical_size, 1.0))
        q = r / se_b if se_b > 0 else (math.inf if r > 1e-12 * level else 0.0)
        ev["oscillation_q"] = q
        ev["oscillation_amp"] = r / level
        change, se = _second_half_trend(st)
        # share of upward block-to-block movement in the second half: ~0.5 for an
        # oscillation whatever its phase at the end, small for a falling curve.
        d2h = np.diff(bl.med[bl.med.size // 2 :])
        mv = float(np.abs(d2h).sum())
        up2 = float(d2h[d2h > 0].sum() / mv) if mv > 0 else 0.0
        ev["oscillation_up_share"] = up2
        trending_down = change < -2 * se and -change > r and up2 < 0.4
        if q > 2.5 and r >= 0.03 * level and r >= 0.05 * max(fall, 0.0) and not trending_down:
            conf = "high" if q > 6 and r >= 0.06 * level else ("medium" if q > 3.5 else "low")
            return conf, T("why.oscillating", amp=_pct(r / level, signed=False), q=_fmt(q, 3), change=_pct(change / level))
        return None
    d = np.diff(y)
    rises = d > 0.05 * level
    moves = np.abs(d).sum()
    share = float(d[d > 0].sum() / moves) if moves > 0 else 0.0
    frac = float(rises.mean()) if d.size else 0.0
    h = n // 2
    half_change = float(np.median(y[h:][-max(1, (n - h) // 2):]) - np.median(y[h:][: max(1, (n - h) // 2)]))
    typical_rise = float(np.median(d[d > 0])) if (d > 0).any() else 0.0
    ev["oscillation_rise_frac"] = frac
    ev["oscillation_up_share"] = share
    if rises.sum() >= 2 and frac >= 0.15 and share >= 0.30 and not (half_change < -typical_rise):
        return "low" if n < 8 else "medium", T("why.oscillating_short", rises=int(rises.sum()), steps=int(d.size), share=_pct(share, signed=False))
    return None


def _last_quarter(st):
    """Theil–Sen change over the last quarter (at least 3 points) and its standard error."""
    x, y, n = st["x"], st["y"], st["n"]
    m = max(3, math.ceil(0.25 * n))
    m = min(m, n)
    change, se = curves.trend_change(x[-m:], y[-m:], st["sigma"])
    st["lq_start"] = float(np.median(y[-m:][: max(1, m // 4)]))
    return change, se


def _not_learning(st, ev, T):
    """Rule N: the loss hardly moved from the start.

    No fall of ≥ 3 % beyond noise from L0 to L_end, nor from the very first
    points (L_head: a fall during or just after warm-up is learning), and no
    significant fall in the last quarter (change < −3 SE and more than 1 % of the
    level). A flat curve with large noise is "not learning" (plus "noisy").
    """
    change, se = _last_quarter(st)
    sig_down = change < -3 * se and change < -0.01 * st["level"]
    # "From the start" needs the start: a log window that begins late (first step
    # more than twice the logged span, e.g. a pasted excerpt or a resumed run) and
    # is flat is a plateau, not a run that never learned.
    xa = st["x_all"]
    if ev.get("axis") == "step" and xa.size >= 2 and xa[0] > 2 * (xa[-1] - xa[0]) > 0:
        ev["window_starts_late"] = True
        return None
    if not st["fell"] and not st["fell_head"] and not sig_down:
        if _flat(st, ev):
            conf = "high" if st["n"] >= 20 else ("medium" if st["n"] >= 8 else "low")
            return conf, T("why.not_learning", l0=_fmt(st["L0"]), lend=_fmt(st["Lend"]), pct=_pct(-st["R"]))
        # no net progress, but it moves far more than noise: unstable, not flat
        return "lr-too-high", ("medium" if st["n"] >= 8 else "low"), T("why.wander", spread=_pct(ev["spread_rel"], signed=False), l0=_fmt(st["L0"]), lend=_fmt(st["Lend"]))
    return None


def _flat(st, ev) -> bool:
    """Whether a curve without net progress is flat (noise only) rather than wandering.

    Long step-logged curves: the RMS distance of the 30 block medians from their
    median is ≤ 3 standard errors of a block median or ≤ 3 % of the level. Short or
    epoch-level curves (points are epoch averages): the robust spread
    1.4826·MAD(y) is ≤ 5 % of the level.
    """
    level = st["level"]
    if st["n"] >= 30 and not st["epoch_level"]:
        bl = st["bl"]
        se_b = curves.MEDIAN_SE_FACTOR * st["sigma"] / math.sqrt(max(bl.typical_size, 1.0))
        rms = float(np.sqrt(np.mean((bl.med - np.median(bl.med)) ** 2)))
        ev["spread_rel"] = rms / level
        return rms <= 3 * se_b or rms <= 0.03 * level
    spread = curves.MAD_TO_SIGMA * curves.mad(st["y"])
    ev["spread_rel"] = spread / level
    return spread <= 0.05 * level


def _findings(st, c: Curves, eval_f: Series, train_f: Series, ev, verdict, T) -> list[Finding]:
    out: list[Finding] = []
    level = st["level"]
    n = st["n"]
    x, y = st["x"], st["y"]

    # --- still improving / plateaued: last quarter's Theil–Sen change vs its
    # standard error (σ·√(12/m)); "still improving" needs < −3 SE and a fall of
    # more than 0.5 % of the level, otherwise "plateaued".
    change, se = _last_quarter(st)
    ev["last_quarter_change"] = change
    ev["last_quarter_se"] = se
    still = change < -3 * se and change < -0.005 * level
    if verdict in ("converging", "overfitting", "lr-too-high", "not-learning"):
        # Overfitting: a train loss still falling is part of the verdict's evidence, and
        # "train longer" would be the wrong advice, so it is not a finding there.
        if still and verdict not in ("not-learning", "overfitting"):
            ref = max(abs(st["lq_start"]), 1e-12)
            out.append(Finding("still-improving", "high" if change < -6 * se else "medium", T("f.still-improving", change=_fmt(-change), pct=_pct(change / ref)), {"change": change, "se": se}))
        elif verdict == "converging":
            ref = max(abs(st["lq_start"]), 1e-12)
            out.append(Finding("plateaued", "medium" if n >= 8 else "low", T("f.plateaued", change=_fmt(change), pct=_pct(change / ref)), {"change": change, "se": se}))

    # --- eval stalled (verdict converging, so no significant rise): the eval loss
    # has not improved for its last >= 3 evaluations and >= 25 % of them. Training
    # longer will not help the held-out loss even if the train loss still falls:
    # early stopping on the best checkpoint will (patience counted in evaluations).
    ne = int(ev.get("n_eval") or 0)
    after = ev.get("eval_after_best")
    if verdict == "converging" and ne >= 4 and after is not None and after >= max(3, math.ceil(0.25 * ne)):
        ep = T("ev.eval_epoch", epoch=_fmt(ev["eval_best_epoch"], 3)) if ev.get("eval_best_epoch") is not None else ""
        out.append(Finding("eval-stalled", "medium", T("f.eval-stalled", n=int(after), best=_fmt(ev["eval_best"]), step=_step_str(ev["eval_best_step"]), epoch=ep, last=_fmt(ev["eval_last"])), {"after_best": int(after)}))
        # the train loss still falling is then no reason to train longer
        out = [f for f in out if f.code != "still-improving"]

    # --- learning-rate schedule (decay understood)
    if c.lr.n >= 3:
        lr = c.lr.y[np.isfinite(c.lr.y)]
        if lr.size >= 3:
            peak = float(lr.max())
            end = float(lr[-1])
            ev["lr_peak"] = peak
            ev["lr_end"] = end
            ev["lr_end_ratio"] = end / peak if peak > 0 else None
            ev["schedule"] = curves.schedule_kind(lr)
            # With a decaying schedule (end < 10 % of the peak) a flat end is partly the schedule.
            if peak > 0 and end / peak < 0.10 and any(f.code == "plateaued" for f in out):
                out.append(Finding("schedule-decay", "medium", T("f.schedule-decay", pct=_pct(end / peak, signed=False)), {"lr_end_ratio": end / peak}))

    # --- spikes: rolling median/MAD z-scores over strided blocks.
    # Window: n/50 points, 5..200. A spike: z > 6 (as OLMo flags mean + 6σ) and the
    # value > 1.05× the local median and higher than 2 % of the curve's total fall
    # (so rounding noise on a near-zero loss is no spike). The scale has a floor of
    # 0.5·σ (global noise). The first window after warm-up is skipped (a steep
    # initial fall is not a spike). Recovered: the median of the next window is
    # within 10 % (or 3 σ) of the local median before it.
    if n >= 20 and verdict != "insufficient-data":
        w = int(min(200, max(5, n // 50)))
        roll = curves.rolling_z(y, w, floor=max(0.5 * st["sigma"], 1e-12 * level))
        fall = max(st["Lhead"], st["L0"]) - st["Lmin"]
        height_min = np.maximum(0.05 * np.abs(roll.median), 0.02 * max(fall, 0.0))
        flag = (roll.z > 6) & (y - roll.median > height_min)
        flag[: min(n, w)] = False
        idx = np.flatnonzero(flag)
        if idx.size:
            # group into events (gaps of ≤ 2 points join)
            splits = np.flatnonzero(np.diff(idx) > 2) + 1
            events = np.split(idx, splits)
            rec = unrec = 0
            steps = []
            heights = []
            details = []
            for e in events:
                i0, i1 = int(e[0]), int(e[-1])
                base = float(roll.median[i0])
                post = y[i1 + 1 : i1 + 1 + w]
                ok = post.size >= min(3, w) and float(np.median(post)) <= base + max(0.1 * abs(base), 3 * st["sigma"])
                rec += ok
                unrec += not ok
                peak_i = i0 + int(np.argmax(y[i0 : i1 + 1]))
                steps.append(float(x[peak_i]))
                heights.append(float(y[peak_i] / base) if base > 0 else math.inf)
                details.append({"step": float(x[peak_i]), "value": float(y[peak_i]), "local_median": base, "recovered": bool(ok)})
            ev["n_spikes"] = len(events)
            shown = ", ".join(_step_str(s) for s in steps[:8]) + (" …" if len(steps) > 8 else "")
            conf = "high" if max(heights) > 1.5 else "medium"
            out.append(Finding("spikes", conf, T("f.spikes", n=len(events), rec=rec, unrec=unrec, steps=shown, height=_fmt(max(heights), 3)), {"events": details[:50], "recovered": rec, "unrecovered": unrec}))

    # --- warm-up instability: during warm-up the block medians (of 5 points) rise
    # above 1.1× the loss at the start of the run, beyond noise (> 3 σ).
    wend = ev.get("warmup_end_step")
    if wend is not None:
        xa, ya = st["x_all"], st["y_all"]
        k = int(np.searchsorted(xa, wend, side="right"))
        seg = ya[:k]
        if seg.size >= 3:
            start = float(np.median(seg[: max(1, min(3, seg.size // 4))]))
            bs = curves.block_medians(xa[:k], seg, max(1, seg.size // 3))
            i = int(np.argmax(bs.med))
            peak = float(bs.med[i])
            if peak > 1.1 * start and peak - start > 3 * st["sigma"] and start > 0:
                peak_step = float(xa[int(np.argmax(seg))])
                out.append(Finding("warmup-instability", "medium", T("f.warmup-instability", peak=_fmt(peak), start=_fmt(start), step=_step_str(peak_step)), {"peak": peak, "start": start, "step": peak_step}))

    # --- gradient norm: clipping saturated / growth.
    if c.grad_norm.n >= 5:
        g = c.grad_norm.finite()
        if wend is not None:
            g = Series(g.x[g.x >= wend], g.y[g.x >= wend], g.epoch[g.x >= wend])
        if g.n >= 5:
            ev["grad_norm_median"] = float(np.median(g.y))
            clip = c.hparams.get("max_grad_norm")
            if clip is None and (c.fmt or "").replace("-", "_") in [f.replace("-", "_") for f in HF_FORMATS]:
                clip = 1.0  # Hugging Face's default
            try:
                clip = float(clip) if clip is not None else None
            except (TypeError, ValueError):
                clip = None
            # HF logs the norm before clipping: above max_grad_norm in ≥ 50 % of the
            # post-warm-up points means clipping acts on most steps.
            if clip and clip > 0:
                frac = float(np.mean(g.y > clip))
                ev["clip_fraction"] = frac
                if frac >= 0.5:
                    out.append(Finding("clipping-saturated", "medium" if frac < 0.9 else "high", T("f.clipping-saturated", clip=_fmt(clip), pct=_pct(frac, signed=False), median=_fmt(np.median(g.y))), {"fraction": frac, "max_grad_norm": clip}))
            k = max(1, math.ceil(0.1 * g.n))
            a, b = float(np.median(g.y[:k])), float(np.median(g.y[-k:]))
            if a > 0 and b >= 10 * a and verdict != "diverged":
                out.append(Finding("grad-norm-growth", "medium", T("f.grad-norm-growth", ratio=_fmt(b / a, 3), a=_fmt(a), b=_fmt(b)), {"start": a, "end": b}))

    # --- noisy: relative noise ≥ 10 % (and ≥ 20 points to estimate it). For a
    # positive loss the relative noise is the robust σ of log(loss) (scale-free and
    # right when the noise shrinks with the loss); otherwise σ / level.
    rel = st["sigma"] / level
    if n >= 20 and np.all(y > 0):
        rel = curves.noise_sigma(np.log(y))
    ev["noise_rel"] = rel
    if n >= 20 and rel >= 0.10:
        every = _logging_every_step(c, x)
        out.append(Finding("noisy", "medium", T("f.noisy", sigma=_fmt(st["sigma"]), pct=_pct(rel, signed=False), why=T("f.noisy_every_step") if every else ""), {"sigma": st["sigma"], "noise_rel": rel, "every_step": every}))

    # --- learning rate probably too low: still improving, fell < 50 % in total,
    # and almost straight: the second half's fall is 60–167 % of the first half's
    # (an exponential or power-law curve falls much less in its second half).
    if verdict == "converging" and still and n >= 8:
        bl = st["bl"]
        k = bl.med.size
        a = float(np.median(bl.med[: max(1, k // 6)]))
        m_ = float(np.median(bl.med[k // 2 - max(1, k // 12) : k // 2 + max(1, k // 12)]))
        b = float(np.median(bl.med[-max(1, k // 6):]))
        d1, d2 = a - m_, m_ - b
        # ≤ 1/0.6 too: a second half falling much faster than the first is no straight line
        if d1 > 0 and d2 > 0 and 0.6 <= d2 / d1 <= 1 / 0.6 and st["R"] < 0.5:
            out.append(Finding("lr-too-low", "low", T("f.lr-too-low", ratio=_pct(d2 / d1, signed=False), pct=_pct(-st["R"])), {"half_ratio": d2 / d1}))

    # --- possible underfitting: plateaued after falling only 3–20 %.
    if verdict == "converging" and not still and 0.03 <= st["R"] < 0.20 and max(st["Rhead"], st["R"]) < 0.20:
        out.append(Finding("underfitting", "low", T("f.underfitting", pct=_pct(st["R"], signed=False), l0=_fmt(st["L0"]), lend=_fmt(st["Lend"])), {"rel_drop": st["R"]}))

    # --- too few points: a step-based run with < 20 logged points.
    if n < 20 and c.axis == "step" and not st["epoch_level"]:
        out.append(Finding("too-few-points", "low", T("f.too-few-points", n=st["x_all"].size), {"n": int(st["x_all"].size)}))

    # --- eval coverage
    if eval_f.n == 0 and verdict != "diverged":
        out.append(Finding("no-eval", "low", T("f.no-eval"), {}))
    elif 0 < eval_f.n < 3:
        out.append(Finding("eval-sparse", "medium", T("f.eval-sparse", n=eval_f.n), {"n_eval": eval_f.n}))
    return out


def _logging_every_step(c: Curves, x) -> bool:
    ls = c.hparams.get("logging_steps")
    if ls is not None:
        try:
            return float(ls) == 1
        except (TypeError, ValueError):
            pass
    if c.axis != "step" or x.size < 50:
        return False
    return bool(np.median(np.diff(x)) == 1)


def _epoch_level(c: Curves, x=None) -> bool:
    """Whether the main curve has one point per epoch (Keras CSVLogger, per-epoch logs).

    True when the axis is the epoch, or when every train point has a known epoch
    and consecutive points are at least one whole epoch apart.
    """
    if c.axis == "epoch":
        return True
    ep = c.train.epoch if c.train.n >= 2 else c.eval.epoch
    if ep.size < 2 or not np.isfinite(ep).all():
        return False
    return bool(np.all(np.diff(ep) >= 0.999))


# --------------------------------------------------------------------------- recommendations


def _hp(c: Curves, *names):
    for n in names:
        v = c.hparams.get(n)
        if v is not None:
            return v
    return None


def _num(v):
    try:
        f = float(v)
        return f if math.isfinite(f) else None
    except (TypeError, ValueError):
        return None


def _recommend(d: Diagnosis, c: Curves, lang: str, ctx: dict) -> list[Recommendation]:
    """Concrete changes in Hugging Face TrainingArguments terms (+ Keras/Lightning lines)."""
    T = lambda key, **kw: t(key, lang, **kw)  # noqa: E731
    R: list[Recommendation] = []
    lr = _num(_hp(c, "learning_rate", "lr"))
    if lr is None and d.evidence.get("lr_peak"):
        lr = _num(d.evidence["lr_peak"])
    epochs = _num(_hp(c, "num_train_epochs", "epochs"))
    if epochs is None:
        # The log does not print num_train_epochs: the last epoch it reached is the
        # current value when that is a whole number of epochs (>= 1), i.e. the run ended.
        # Whole-number epochs counted from 0 (Keras CSVLogger) are indices: count = last + 1.
        ep = c.train.epoch[np.isfinite(c.train.epoch)] if c.train.n else np.empty(0)
        last_ep = float(ep.max()) if ep.size else None
        if last_ep is not None and abs(last_ep - round(last_ep)) < 1e-6:
            if ep.min() == 0 and np.all(ep == np.round(ep)):
                last_ep += 1
            if last_ep >= 1:
                epochs = float(round(last_ep))
    fp16 = _hp(c, "fp16")
    v = d.verdict
    codes = {f.code for f in d.findings}

    def lr_down(factor=0.3):
        R.append(Recommendation("learning_rate", T("r.lr_down"), lr, _nice_round(lr * factor) if lr else None))

    def early_stopping(weight_decay: bool) -> None:
        """Keep the best checkpoint and stop on the eval loss (overfitting, eval stalled)."""
        # patience: 2 evaluations when evals are sparse (< 10), 3 otherwise.
        p = 2 if d.evidence.get("n_eval", 0) < 10 else 3
        R.append(Recommendation("load_best_model_at_end", T("r.best_model"), _hp(c, "load_best_model_at_end"), True))
        R.append(Recommendation("metric_for_best_model", T("r.metric"), _hp(c, "metric_for_best_model"), "eval_loss"))
        R.append(Recommendation("callbacks", T("r.early_stop", p=p), None, f"EarlyStoppingCallback(early_stopping_patience={p})"))
        be = d.evidence.get("eval_best_epoch")
        if be is not None and be > 0:
            R.append(Recommendation("num_train_epochs", T("r.epochs_best", epoch=_fmt(be, 3)), epochs, max(1, math.ceil(be - 1e-9))))
        elif d.best_step is not None:
            R.append(Recommendation("max_steps", T("r.steps_best", step=_step_str(d.best_step)), _num(_hp(c, "max_steps")), d.best_step))
        if weight_decay:
            wd = _num(_hp(c, "weight_decay"))
            R.append(Recommendation("weight_decay", T("r.weight_decay"), wd, 0.1 if not wd or wd < 0.1 else None))
        R.append(Recommendation(None, T("r.keras_early", p=p), framework="keras"))
        R.append(Recommendation(None, T("r.lightning_early", p=p), framework="lightning"))

    if v == "diverged":
        lr_down(0.3)
        wr = _num(_hp(c, "warmup_ratio"))
        R.append(Recommendation("warmup_ratio", T("r.warmup"), wr, 0.05 if not wr or wr < 0.05 else min(0.1, _nice_round(wr * 2))))
        R.append(Recommendation("max_grad_norm", T("r.clip"), _num(_hp(c, "max_grad_norm")), 1.0))
        if fp16 or "hidden-nans" in codes or d.evidence.get("n_nonfinite"):
            R.append(Recommendation("bf16", T("r.bf16"), None, True))
        if "hidden-nans" in codes or "nonfinite" in codes or (c.fmt or "").replace("_", "-") in ("hf-console", "hf-trainer-state"):
            R.append(Recommendation("logging_nan_inf_filter", T("r.nan_filter"), None, False))
        if ctx.get("resume_before") is not None:
            R.append(Recommendation("resume_from_checkpoint", T("r.resume", step=_step_str(ctx["resume_before"]))))
        R.append(Recommendation(None, T("r.keras_nan"), framework="keras"))
    elif v == "lr-too-high":
        lr_down(0.3)
        wr = _num(_hp(c, "warmup_ratio"))
        R.append(Recommendation("warmup_ratio", T("r.warmup"), wr, 0.05 if not wr or wr < 0.05 else min(0.1, _nice_round(wr * 2))))
        R.append(Recommendation("max_grad_norm", T("r.clip"), _num(_hp(c, "max_grad_norm")), 1.0))
        R.append(Recommendation(None, T("r.keras_lr"), framework="keras"))
    elif v == "overfitting":
        early_stopping(weight_decay=True)
    elif v == "not-learning":
        R.append(Recommendation("learning_rate", T("r.lr_up10"), lr, _nice_round(lr * 10) if lr else None))
    elif v == "insufficient-data":
        # too few points: log more often (aim for 100–300 points), or wait for more
        R.append(Recommendation("logging_steps", T("r.logging_more"), _num(_hp(c, "logging_steps")), None))
    if v != "diverged" and "hidden-nans" in codes:
        R.append(Recommendation("logging_nan_inf_filter", T("r.nan_filter"), None, False))
        R.append(Recommendation("bf16", T("r.bf16"), None, True))
    if v == "converging" and "eval-stalled" in codes:
        early_stopping(weight_decay=False)
    elif v == "converging" and "still-improving" in codes:
        R.append(Recommendation("num_train_epochs", T("r.train_longer"), epochs, _nice_round(epochs * 2) if epochs else "×2"))
        R.append(Recommendation(None, T("r.keras_longer"), framework="keras"))
    if v == "converging" and "lr-too-low" in codes:
        R.append(Recommendation("learning_rate", T("r.lr_up"), lr, _nice_round(lr * 3) if lr else None))
    if "spikes" in codes and v not in ("diverged", "lr-too-high"):
        f = d.finding("spikes")
        if f and f.evidence.get("unrecovered"):
            R.append(Recommendation("learning_rate", T("r.lr_spikes"), lr, _nice_round(lr * 0.5) if lr else None))
    if "warmup-instability" in codes and v not in ("diverged", "lr-too-high"):
        wr = _num(_hp(c, "warmup_ratio"))
        R.append(Recommendation("warmup_ratio", T("r.warmup"), wr, 0.1 if not wr or wr < 0.1 else _nice_round(min(0.3, wr * 2))))
    if "clipping-saturated" in codes and v not in ("diverged", "lr-too-high"):
        R.append(Recommendation("learning_rate", T("r.clip_saturated"), lr, _nice_round(lr * 0.5) if lr else None))
    if "noisy" in codes:
        f = d.finding("noisy")
        bs = _num(_hp(c, "per_device_train_batch_size", "train_batch_size", "batch_size"))
        ga = _num(_hp(c, "gradient_accumulation_steps"))
        R.append(Recommendation("gradient_accumulation_steps", T("r.batch"), ga, int((ga or 1) * 4)))
        if bs:
            R.append(Recommendation("per_device_train_batch_size", T("r.batch"), bs, int(bs * 2)))
        if f and f.evidence.get("every_step"):
            total = d.evidence.get("last_step") or 0
            R.append(Recommendation("logging_steps", T("r.logging_every_step"), _num(_hp(c, "logging_steps")) or 1, max(2, int(round(total / 200))) if total else 10))
    if "too-few-points" in codes:
        total = _num(_hp(c, "max_steps")) or d.evidence.get("last_step") or 0
        cur = _num(_hp(c, "logging_steps"))
        if cur is None and c.axis == "step" and c.train.n >= 2:
            # not printed: the interval the log shows (median gap between logged steps)
            gaps = np.diff(c.train.x[np.isfinite(c.train.x)])
            gaps = gaps[gaps > 0]
            cur = float(np.median(gaps)) if gaps.size else None
        sug = max(1, int(round(total / 200))) if total else None
        # only ever advise logging MORE often than now (a smaller logging_steps)
        if sug is not None and (cur is None or sug < cur):
            R.append(Recommendation("logging_steps", T("r.logging_more"), cur, sug))
    if "eval-sparse" in codes:
        total = _num(_hp(c, "max_steps")) or d.evidence.get("last_step") or 0
        R.append(Recommendation("eval_steps", T("r.eval_more"), _num(_hp(c, "eval_steps")), max(1, int(round(total / 20))) if total else None))
    if "no-eval" in codes and v in ("converging", "not-learning", "lr-too-high"):
        total = d.evidence.get("last_step") or 0
        R.append(Recommendation("eval_strategy", T("r.eval_add"), None, "epoch" if _epoch_level(c) else "steps"))
        if total and c.axis == "step" and not _epoch_level(c):
            R.append(Recommendation("eval_steps", T("r.eval_more"), None, max(1, int(round(total / 20)))))
    if not R and v == "converging":
        R.append(Recommendation(None, T("r.none"), framework="any"))
    # one recommendation per (param, framework): keep the first
    seen = set()
    out = []
    for r in R:
        key = (r.param, r.framework) if r.param else (r.message, r.framework)
        if key in seen:
            continue
        seen.add(key)
        out.append(r)
    return out


_callable_module(__name__, diagnose)  # lossctl.diagnose(...) also after `import lossctl.diagnose`
