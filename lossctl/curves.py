"""Pure, robust statistics on one loss curve (numpy only, deterministic).

Everything here is scale-free or returns quantities in the curve's own units so
callers can form ratios, and nothing depends on how often a curve was logged
beyond the obvious (more points → smaller standard errors). No smoothing is used
for decisions (display smoothing lives in :mod:`lossctl.charts`).

Conventions: ``x`` is the step (or epoch, or index) axis, ``y`` the values, both
1-D float64 arrays of the same length, sorted by ``x``, finite (callers drop or
count non-finite values first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: 1.4826 · MAD estimates σ for Gaussian data.
MAD_TO_SIGMA = 1.4826
#: Standard error of a median relative to that of a mean, for Gaussian data (√(π/2)).
MEDIAN_SE_FACTOR = 1.2533


def as_float(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).ravel()


def mad(a) -> float:
    """Median absolute deviation from the median (unscaled); NaN for an empty array."""
    a = as_float(a)
    if a.size == 0:
        return math.nan
    med = np.median(a)
    return float(np.median(np.abs(a - med)))


def robust_sigma(y) -> float:
    """Noise σ of a curve: 1.4826·MAD(first differences)/√2.

    Differencing removes the slow trend (the MAD is taken around the median
    difference, so a constant slope is removed as well); dividing by √2 turns the
    spread of a difference of two independent noises into the spread of one.
    Robust to spikes and heavy tails (a MAD has a 50 % breakdown point).
    Returns 0.0 for fewer than 3 points or a constant curve.
    """
    y = as_float(y)
    if y.size < 3:
        return 0.0
    d = np.diff(y)
    return MAD_TO_SIGMA * mad(d) / math.sqrt(2.0)


def noise_sigma(y) -> float:
    """Noise σ robust to a curved trend: min of the first- and second-difference estimates.

    First differences (:func:`robust_sigma`) are exact for a straight trend; on a
    short, strongly curved series (10 epochs of a falling loss) the change of slope
    leaks into them, while the second differences (1.4826·MAD(Δ²y)/√6) cancel a
    locally quadratic trend. Both estimate σ for i.i.d. noise; the smaller one is
    the one less polluted by the trend.
    """
    y = as_float(y)
    s1 = robust_sigma(y)
    if y.size < 4:
        return s1
    s2 = MAD_TO_SIGMA * mad(np.diff(y, 2)) / math.sqrt(6.0)
    return min(s1, s2)


def block_bounds(n: int, n_blocks: int) -> np.ndarray:
    """Boundaries of ``min(n, n_blocks)`` contiguous blocks of (almost) equal size."""
    k = max(1, min(n, n_blocks))
    return np.linspace(0, n, k + 1).round().astype(np.int64)


@dataclass(frozen=True)
class Blocks:
    x: np.ndarray  # median x of each block
    med: np.ndarray  # median y of each block
    size: np.ndarray  # number of points in each block

    @property
    def typical_size(self) -> float:
        return float(np.median(self.size)) if self.size.size else 0.0


def block_medians(x, y, n_blocks: int = 30) -> Blocks:
    """Medians of ``y`` (and of ``x``) over ``n_blocks`` contiguous blocks.

    A fixed number of blocks makes every later statistic independent of the
    logging rate: 30 blocks of 3 points and 30 blocks of 30,000 points describe
    the same curve, only with different standard errors (σ·1.25/√size).
    """
    x = as_float(x)
    y = as_float(y)
    n = y.size
    if n == 0:
        e = np.empty(0)
        return Blocks(e, e, e)
    b = block_bounds(n, n_blocks)
    sizes = np.diff(b)
    xm = np.empty(sizes.size)
    ym = np.empty(sizes.size)
    # Block sizes differ by at most one: one vectorised median per distinct size.
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        idx = b[which][:, None] + np.arange(size)[None, :]
        xm[which] = np.median(x[idx], axis=1)
        ym[which] = np.median(y[idx], axis=1)
    return Blocks(xm, ym, sizes.astype(np.float64))


def theil_sen(x, y, max_points: int = 200) -> tuple[float, float]:
    """Theil–Sen line: the median of pairwise slopes, and the median intercept.

    Robust to 29 % of outliers. Longer inputs are first reduced to ``max_points``
    block medians (deterministic), which keeps it O(n) and changes the estimate
    by far less than its own standard error.
    Returns ``(slope, intercept)``; ``(0.0, median)`` when all x are equal.
    """
    x = as_float(x)
    y = as_float(y)
    if y.size > max_points:
        bl = block_medians(x, y, max_points)
        x, y = bl.x, bl.med
    n = y.size
    if n == 0:
        return 0.0, math.nan
    if n == 1:
        return 0.0, float(y[0])
    i, j = np.triu_indices(n, k=1)
    dx = x[j] - x[i]
    ok = dx != 0
    if not np.any(ok):
        return 0.0, float(np.median(y))
    slope = float(np.median((y[j] - y[i])[ok] / dx[ok]))
    intercept = float(np.median(y - slope * x))
    return slope, intercept


def trend_change(x, y, sigma: float) -> tuple[float, float]:
    """Change of the Theil–Sen trend over the span of ``x`` and its standard error.

    For m evenly spread points with noise σ the standard error of a fitted change
    over the whole span is σ·√(12/m) (least squares); Theil–Sen is ~91 % as
    efficient, hence the factor 1.05. Returns ``(change, se)``.
    """
    x = as_float(x)
    y = as_float(y)
    m = y.size
    if m < 2:
        return 0.0, math.inf
    slope, _ = theil_sen(x, y)
    span = float(x[-1] - x[0])
    se = 1.05 * sigma * math.sqrt(12.0 / m) if m >= 3 else math.inf
    return slope * span, se


def isotonic_decreasing(y, w=None) -> np.ndarray:
    """Least-squares non-increasing fit (pool-adjacent-violators), O(n)."""
    y = as_float(y)
    n = y.size
    if n == 0:
        return y.copy()
    w = np.ones(n) if w is None else as_float(w)
    # PAVA on -y for a non-decreasing fit, then negate.
    vals: list[float] = []
    wts: list[float] = []
    cnt: list[int] = []
    for v, ww in zip(-y, w):
        vals.append(float(v))
        wts.append(float(ww))
        cnt.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            v2, w2, c2 = vals.pop(), wts.pop(), cnt.pop()
            v1, w1, c1 = vals.pop(), wts.pop(), cnt.pop()
            wt = w1 + w2
            vals.append((v1 * w1 + v2 * w2) / wt)
            wts.append(wt)
            cnt.append(c1 + c2)
    return -np.repeat(np.array(vals), np.array(cnt))


@dataclass(frozen=True)
class Rolling:
    median: np.ndarray  # local median at every point
    scale: np.ndarray  # local robust σ (1.4826·MAD) at every point
    z: np.ndarray  # (y - median) / scale


def rolling_z(y, window: int, floor: float = 0.0) -> Rolling:
    """Local median / MAD z-scores with strided blocks (vectorised, O(n)).

    The curve is cut into blocks of ``window`` points; each block's median and
    MAD are placed at the block's centre and linearly interpolated to every
    point. This is the "rolling median via strided blocks" approximation: a
    spike cannot move the median of its own block (breakdown 50 %), and the cost
    is two ``np.median`` calls on an (n/window, window) array.
    ``floor`` bounds the scale from below (quantised or constant curves).
    """
    y = as_float(y)
    n = y.size
    w = int(max(3, min(window, n)))
    k = n // w
    if k == 0:
        med_b = np.array([np.median(y)])
        mad_b = np.array([mad(y)])
        centres = np.array([(n - 1) / 2.0])
    else:
        body = y[: k * w].reshape(k, w)
        med_b = np.median(body, axis=1)
        mad_b = np.median(np.abs(body - med_b[:, None]), axis=1)
        centres = np.arange(k) * w + (w - 1) / 2.0
        rest = n - k * w
        if rest >= max(3, w // 3):
            tail = y[k * w :]
            mt = np.median(tail)
            med_b = np.append(med_b, mt)
            mad_b = np.append(mad_b, np.median(np.abs(tail - mt)))
            centres = np.append(centres, k * w + (rest - 1) / 2.0)
    idx = np.arange(n, dtype=np.float64)
    med = np.interp(idx, centres, med_b)
    scale = np.maximum(np.interp(idx, centres, mad_b) * MAD_TO_SIGMA, floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (y - med) / np.where(scale > 0, scale, 1.0), 0.0)
    return Rolling(med, scale, z)


def warmup_end(lr, frac: float = 0.99) -> int | None:
    """Index of the first point where a warm-up learning rate reaches ``frac`` of its peak.

    A warm-up is recognised only when the schedule clearly starts low (the first
    logged rate below half the peak) and rises to the peak; a constant or purely
    decaying schedule has no warm-up (returns None).
    """
    lr = as_float(lr)
    ok = np.isfinite(lr)
    if ok.sum() < 3:
        return None
    lr = lr[ok]
    peak = float(np.max(lr))
    if not peak > 0:
        return None
    i = int(np.argmax(lr >= frac * peak))
    if i == 0 or lr[0] >= 0.5 * peak:
        return None
    return int(np.flatnonzero(ok)[i])


def schedule_kind(lr) -> str:
    """'constant', 'warmup-constant', 'decay' (ends below 50 % of its peak) or 'unknown'."""
    lr = as_float(lr)
    lr = lr[np.isfinite(lr)]
    if lr.size < 3:
        return "unknown"
    peak = float(np.max(lr))
    if not peak > 0:
        return "unknown"
    end = float(lr[-1]) / peak
    if end < 0.5:
        return "decay"
    if lr[0] < 0.5 * peak:
        return "warmup-constant"
    return "constant"


def display_series(x, y, max_points: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` block medians of a curve, for charts (display only)."""
    x = as_float(x)
    y = as_float(y)
    if y.size <= max_points:
        return x, y
    bl = block_medians(x, y, max_points)
    return bl.x, bl.med
