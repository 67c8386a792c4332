"""Synthetic training curves with known labels, for the diagnose suite.

``make(label, seed)`` returns a :class:`Case`: a tidy DataFrame shaped like
``lossctl.parse_log``'s output (columns run, step, epoch, split, metric, value,
name, time, line; ``attrs["hparams"]``, ``attrs["format"]``) and the label.
Everything is drawn from ``numpy.random.default_rng(seed)``: deterministic.

Variety (so that thresholds are not tuned to one shape):
- shapes: exponential, power-law, cosine-schedule-driven, slow near-linear;
- scale: the whole curve is multiplied by 10^U(-3, 3) (decisions must be scale-free);
- length: 5 to 100,000 logged points; logging every 1 to 500 steps;
- noise: 0 to large, Gaussian or heavy-tailed (Student t, 3 d.o.f.), proportional
  to the level; recovering spikes; warm-up with a logged learning rate;
- layouts ("formats"): hf (step-logged loss, lr, grad_norm, eval every k steps),
  keras (epoch-level train + val), lightning (step-logged train, val per epoch),
  llm (Megatron-like: long, per-step, lr warm-up + cosine, nan_iterations),
  plain (loss only).

Labels: converging, overfitting, lr-too-high, diverged, not-learning,
insufficient-data. Each generator keeps its label identifiable: e.g. an
overfitting case has ≥ 3 evaluations after the eval minimum and a rise far above
the eval noise, a lr-too-high case oscillates with an amplitude well above its
noise, a converging case falls by ≥ 15 % with a signal-to-noise ratio that a
person could read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LABELS = ("converging", "overfitting", "lr-too-high", "diverged", "not-learning", "insufficient-data")
FORMATS = ("hf", "keras", "lightning", "llm", "plain")

#: Seeds used by the test suite; HELD_OUT seeds are only for the final report.
SUITE_SEEDS = range(0, 100)
HELD_OUT_SEEDS = range(100_000, 100_200)


@dataclass
class Case:
    label: str
    df: pd.DataFrame
    meta: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        m = self.meta
        return f"{self.label}/{m.get('fmt')}/{m.get('shape')}/n={m.get('n')}/noise={m.get('noise', 0):.3g}/seed={m.get('seed')}"


# ----------------------------------------------------------------------------- pieces


def _layout(rng, fmt: str, long_ok: bool = True):
    """Number of logged points, logging interval and whether it is epoch-level."""
    if fmt == "keras":
        n = int(rng.choice([5, 6, 8, 10, 12, 15, 20, 30, 50, 100]))
        return n, 1, True
    if fmt == "llm":
        n = int(rng.choice([300, 2_000, 10_000, 30_000, 100_000] if long_ok else [300, 2_000, 5_000]))
        return n, int(rng.choice([1, 1, 10])), False
    n = int(rng.choice([10, 20, 40, 80, 150, 300, 600, 1_500, 5_000, 20_000]))
    every = int(rng.choice([1, 5, 10, 50, 500]))
    return n, every, False


def _shape(rng, t, kind=None):
    """A decreasing curve on progress t ∈ [0, 1], from 1 (start) to its floor; returns (values, kind)."""
    kind = kind or str(rng.choice(["exp", "power", "cosine", "slow"], p=[0.35, 0.3, 0.25, 0.1]))
    floor = float(rng.uniform(0.05, 0.8))  # floor / start: relative drop 20–95 %
    if kind == "slow":
        floor = float(rng.uniform(0.4, 0.8))
        shape = 1 - (1 - floor) * t
    elif kind == "exp":
        tau = float(rng.uniform(0.03, 0.4))
        shape = floor + (1 - floor) * np.exp(-t / tau)
    elif kind == "power":
        tau = float(rng.uniform(0.005, 0.1))
        alpha = float(rng.uniform(0.3, 1.5))
        shape = floor + (1 - floor) * (1 + t / tau) ** (-alpha)
    else:  # loss driven by a cosine learning-rate schedule: progress = ∫ lr
        p = t + np.sin(np.pi * t) / np.pi  # ∫ (1 + cos πs)/2 ds ∝ t + sin(πt)/π
        p = p / p[-1] if p[-1] > 0 else p
        tau = float(rng.uniform(0.1, 0.5))
        shape = floor + (1 - floor) * np.exp(-p / tau)
    # make sure the relative drop is at least 15 %
    if shape[-1] > 0.85 * shape[0]:
        shape = 1 - (1 - shape) * (0.15 / max(1 - shape[-1] / shape[0], 1e-9))
    return shape, kind


def _noise(rng, n, rel, heavy):
    if rel == 0:
        return np.zeros(n)
    if heavy:
        return rel * rng.standard_t(3, n) / np.sqrt(3.0)
    return rel * rng.standard_normal(n)


def _lr_schedule(rng, n, warm_frac, kind):
    peak = float(10 ** rng.uniform(-5, -2.5))
    t = np.linspace(0, 1, n)
    lr = np.full(n, peak)
    w = int(round(warm_frac * n))
    if w >= 2:
        lr[:w] = peak * (np.arange(1, w + 1) / w)
    rest = np.arange(n - w) / max(n - w - 1, 1)
    if kind == "cosine":
        lr[w:] = peak * 0.5 * (1 + np.cos(np.pi * rest))
    elif kind == "linear":
        lr[w:] = peak * (1 - rest)
    return lr, peak, w, t


def _frame(rows: dict, hparams: dict, fmt: str) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["run"] = 0
    df["name"] = df["metric"]
    df["time"] = np.nan
    df["line"] = np.arange(1, len(df) + 1)
    df = df[["run", "step", "epoch", "split", "metric", "value", "name", "time", "line"]]
    df.attrs["hparams"] = hparams
    df.attrs["format"] = {"hf": "hf_trainer_state", "keras": "keras_csvlogger", "lightning": "lightning_metrics_csv", "llm": "megatron", "plain": "plaintext"}[fmt]
    return df


def _assemble(fmt, steps, epochs, train, eval_idx, eval_vals, lr=None, gn=None, nan_it=None, hparams=None):
    parts = []

    def add(split, metric, st, ep, v):
        parts.append(pd.DataFrame({"step": np.asarray(st, dtype=float), "epoch": np.asarray(ep, dtype=float), "split": split, "metric": metric, "value": np.asarray(v, dtype=float)}))

    add("train", "loss", steps, epochs, train)
    if lr is not None:
        add("train", "learning_rate", steps, epochs, lr)
    if gn is not None:
        add("train", "grad_norm", steps, epochs, gn)
    if nan_it is not None:
        add("train", "nan_iterations", steps, epochs, nan_it)
    if eval_idx is not None and len(eval_idx):
        add("eval", "loss", steps[eval_idx], epochs[eval_idx], eval_vals)
    df = pd.concat(parts, ignore_index=True)
    return _frame({c: df[c].to_numpy() for c in df.columns}, hparams or {}, fmt)


# ----------------------------------------------------------------------------- the generator


def make(label: str, seed: int, *, fmt: str | None = None, long_ok: bool = True) -> Case:
    rng = np.random.default_rng([seed, LABELS.index(label)])
    fmt = fmt or str(rng.choice(FORMATS, p=[0.3, 0.2, 0.15, 0.15, 0.2]))
    if label == "insufficient-data":
        n = int(rng.integers(1, 4))
        y = 10 ** rng.uniform(-2, 1) * rng.uniform(0.5, 1.5, n)
        steps = np.arange(1, n + 1) * (1 if fmt == "keras" else 10)
        df = _assemble(fmt, steps, np.arange(1, n + 1), y, None, None)
        return Case(label, df, {"fmt": fmt, "n": n, "seed": seed, "shape": "few"})

    n, every, epoch_level = _layout(rng, fmt, long_ok)
    if label == "overfitting" and n < 8:
        n = 8
    scale = float(10 ** rng.uniform(-3, 3))
    heavy = bool(rng.random() < 0.3)
    # noise: per logged point, relative to the level; epoch-level and short runs are smooth
    if epoch_level or n < 30:
        noise = float(rng.choice([0.0, 0.003, 0.01, 0.02]))
    else:
        noise = float(rng.choice([0.0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4]))
        noise /= np.sqrt(every) ** 0.5  # averaging over logging_steps calms it (partially: correlated batches)
    steps = np.arange(1, n + 1) * every
    t = np.linspace(0, 1, n)
    total_steps = int(steps[-1])
    n_epochs = int(rng.choice([1, 2, 3, 5, 10])) if not epoch_level else n
    epochs = steps / total_steps * n_epochs if not epoch_level else np.arange(1, n + 1).astype(float)
    warm = float(rng.choice([0.0, 0.0, 0.02, 0.06, 0.1])) if fmt in ("hf", "llm") and n >= 40 else 0.0
    sched = str(rng.choice(["constant", "linear", "cosine"])) if fmt in ("hf", "llm") else "constant"
    lr, peak, w, _ = _lr_schedule(rng, n, warm, sched)
    has_lr = fmt in ("hf", "llm", "lightning") and not epoch_level
    hp = {}
    if fmt == "hf":
        hp = {"logging_steps": every, "learning_rate": peak, "num_train_epochs": n_epochs, "max_steps": total_steps, "train_batch_size": int(rng.choice([4, 8, 16, 32]))}
    meta = {"fmt": fmt, "n": n, "every": every, "noise": noise, "heavy": heavy, "seed": seed, "scale": scale, "warm": warm, "sched": sched}

    def warmup_hold(v):
        # during warm-up the loss barely falls; the shape starts after it
        if w >= 2:
            out = v.copy()
            shifted = np.interp(np.linspace(0, 1, n - w), np.linspace(0, 1, n), v)
            out[w:] = shifted
            out[:w] = v[0] * (1 - 0.05 * np.arange(w) / w)
            return out
        return v

    grad = None
    nan_it = None
    eval_idx = None
    eval_vals = None
    level0 = float(rng.uniform(0.5, 3.0))

    if label in ("converging", "overfitting", "diverged"):
        shape, kind = _shape(rng, t)
        base = warmup_hold(shape) * level0
        meta["shape"] = kind
    elif label == "not-learning":
        drift = float(rng.uniform(-0.005, 0.005))
        base = level0 * (1 + drift * t)
        meta["shape"] = "flat"
    else:  # lr-too-high: a small initial fall, then oscillation around a level
        drop = float(rng.uniform(0.0, 0.3))
        amp = float(rng.uniform(0.12, 0.4))
        cycles = min(float(rng.uniform(2.5, 8)), n / 20)  # ≥ 20 points per cycle: readable
        ph = rng.uniform(0, 2 * np.pi, 2)
        osc = 0.7 * np.sin(2 * np.pi * cycles * t + ph[0]) + 0.3 * np.sin(2 * np.pi * cycles * 2.3 * t + ph[1])
        start_fall = np.exp(-t / 0.05)
        base = level0 * (1 - drop * (1 - start_fall)) * (1 + amp * osc * (1 - start_fall))
        meta["shape"] = "oscillating"
        if epoch_level or n < 30:
            # short / epoch-level runs: the tutorial's zig-zag (╱╲╱╲), irregular amplitude,
            # sometimes two steps the same way
            signs = np.where(rng.random(n) < 0.8, 1.0, -1.0) * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
            base = level0 * (1 - drop * (1 - start_fall)) * (1 + amp * signs * rng.uniform(0.5, 1.0, n) * (t > 0.15))
        else:
            # identifiable: block medians (n/30 points each) must show the oscillation
            # above their own noise (signal-to-noise ≥ 4)
            noise = min(noise, amp * np.sqrt(n / 30) / 5)
            meta["noise"] = noise

    y = base * (1 + _noise(rng, n, noise, heavy))

    # recovering spikes on healthy long curves
    if label in ("converging", "overfitting") and n >= 200 and rng.random() < 0.3:
        k = int(rng.integers(1, 4))
        for i in rng.integers(int(0.2 * n), n - 5, k):
            y[i] *= float(rng.uniform(1.5, 3.0))
        meta["spikes"] = k

    # eval points
    if fmt in ("hf", "keras", "lightning") or (fmt == "llm" and rng.random() < 0.3) or label == "overfitting":
        if epoch_level:
            eval_idx = np.arange(n)
        else:
            n_eval = int(rng.choice([3, 5, 10, 20, 50])) if label != "overfitting" else int(rng.choice([6, 10, 20, 50]))
            n_eval = min(n_eval, n)
            eval_idx = np.unique(np.linspace(n / n_eval - 1, n - 1, n_eval).round().astype(int))
        gap = float(rng.uniform(1.0, 1.3))
        e_noise = float(rng.choice([0.0, 0.003, 0.01, 0.02]))
        clean = base if label != "lr-too-high" else base
        ev = clean[eval_idx] * gap
        if label == "overfitting":
            # the eval curve turns up at t*, rising GL_final above its minimum by the end
            te = t[eval_idx]
            ne = len(eval_idx)
            j = int(rng.integers(max(1, ne // 5), max(2, ne - 3)))
            j = min(j, ne - 4)
            t_star = te[j]
            gl = float(rng.uniform(0.08, 0.6))
            best = ev[j]
            rise = best * gl * (np.maximum(te - t_star, 0.0) / max(1 - t_star, 1e-9)) ** float(rng.uniform(0.7, 1.5))
            ev = np.where(te > t_star, best + rise, ev)
            meta["t_star"] = float(t_star)
            meta["gl"] = gl
        eval_vals = ev * (1 + e_noise * rng.standard_normal(len(eval_idx)))

    # divergence
    if label == "diverged":
        how = str(rng.choice(["nan", "blowup", "blowup", "plateau-blowup", "inf", "hf-signature" if fmt == "hf" else "nan"]))
        i0 = int(rng.integers(max(1, int(0.3 * n)), max(2, int(0.9 * n))))
        i0 = min(i0, n - 1)
        meta["how"] = how
        if how in ("nan", "inf"):
            y[i0:] = np.nan if how == "nan" else np.inf
            if rng.random() < 0.5:
                y[i0 + 1 :] = y[i0 - 1] if i0 >= 1 else y[0]  # framework kept logging the last finite value
                y[i0] = np.nan if how == "nan" else np.inf
        elif how == "hf-signature":
            y[i0:] = 0.0
            grad = np.abs(1 + 0.3 * rng.standard_normal(n))
            grad[i0:] = np.nan
        else:
            # blow-up after i0: exponential rise to a multiple of the start
            i0 = min(i0, n - max(2, n // 8))
            tt = np.linspace(0, 1, n - i0)
            target = level0 * float(rng.uniform(1.3, 10)) if how == "blowup" else max(2 * base[i0], level0 * float(rng.uniform(0.9, 1.2)))
            if how == "plateau-blowup":
                rise = base[i0] + (target - base[i0]) * np.minimum(1, tt / 0.3)
            else:
                rise = base[i0] * (target / base[i0]) ** np.minimum(1, tt / float(rng.uniform(0.2, 0.8)))
            y[i0:] = rise * (1 + _noise(rng, n - i0, noise, heavy))
            grad = None
        if eval_vals is not None:
            m = eval_idx >= i0
            if how in ("nan", "inf", "hf-signature"):
                eval_vals = np.where(m, np.nan, eval_vals)
            else:
                eval_vals = np.where(m, y[eval_idx] * 1.1, eval_vals)
        if fmt == "llm" and how in ("nan", "inf"):
            nan_it = np.zeros(n)
            nan_it[i0:] = 1
    if grad is None and fmt in ("hf", "llm"):
        grad = np.abs(float(rng.uniform(0.2, 0.8)) * (1 + 0.3 * rng.standard_normal(n)))
    if fmt == "llm" and nan_it is None:
        nan_it = np.zeros(n)

    y = y * scale
    if eval_vals is not None:
        eval_vals = eval_vals * scale
    if fmt == "hf":
        y = np.where(np.isfinite(y), np.round(y, 4), y) if scale > 0.01 else y  # HF rounds to 4 decimals
    df = _assemble(fmt, steps, epochs, y, eval_idx, eval_vals, lr if has_lr else None, grad, nan_it, hp)
    meta["n_eval"] = 0 if eval_idx is None else len(eval_idx)
    return Case(label, df, meta)


def suite(seeds=SUITE_SEEDS, *, long_ok: bool = True, labels=LABELS, weights=None) -> list[Case]:
    """One case per (seed, label) pair, insufficient-data only every 4th seed."""
    out = []
    for s in seeds:
        for lab in labels:
            if lab == "insufficient-data" and s % 4:
                continue
            out.append(make(lab, s, long_ok=long_ok))
    return out


def tutorial_example() -> pd.DataFrame:
    """The tutorial's five epochs: 2.5, 1.8, 1.2, 0.8, 0.5."""
    return _assemble("keras", np.arange(1, 6), np.arange(1, 6), np.array([2.5, 1.8, 1.2, 0.8, 0.5]), None, None)


# ----------------------------------------------------------------------------- as log text


def to_hf_console(df: pd.DataFrame) -> str:
    """The case as a Hugging Face Trainer console log (one dict per logging step)."""
    tr = df[df.split == "train"].pivot_table(index="step", columns="metric", values="value", aggfunc="last", dropna=False)
    ep = df.groupby("step")["epoch"].last()
    ev = df[(df.split == "eval") & (df.metric == "loss")].set_index("step")["value"]
    lines = []
    for step, r in tr.iterrows():
        parts = [f"'loss': {_num(r['loss'])}"]
        if "grad_norm" in r:
            parts.append(f"'grad_norm': {_num(r['grad_norm'])}")
        if "learning_rate" in r:
            parts.append(f"'learning_rate': {r['learning_rate']:.6e}")
        parts.append(f"'epoch': {float(ep.loc[step]):.4f}")
        lines.append("{" + ", ".join(parts) + "}")
        if step in ev.index:
            lines.append("{" + f"'eval_loss': {_num(ev.loc[step])}, 'eval_runtime': 1.0, 'epoch': {float(ep.loc[step]):.4f}" + "}")
    return "\n".join(lines) + "\n"


def to_keras_csv(df: pd.DataFrame) -> str:
    """The case as a Keras CSVLogger file (epoch,loss,val_loss)."""
    tr = df[(df.split == "train") & (df.metric == "loss")].set_index("step")["value"]
    ev = df[(df.split == "eval") & (df.metric == "loss")].set_index("step")["value"]
    out = ["epoch,loss,val_loss"] if len(ev) else ["epoch,loss"]
    for i, (s, v) in enumerate(tr.items()):
        row = [str(i), _num(v)]
        if len(ev):
            row.append(_num(ev.get(s, np.nan)))
        out.append(",".join(row))
    return "\n".join(out) + "\n"


def _num(v) -> str:
    if v is None:
        return "nan"
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)
