"""Terminal charts of loss curves: a bar chart, a line chart and a sparkline.

The pictures follow the tutorial (``shared/seed/loss-function-tutorial.zh.md``):

* :class:`BarChart` — one line per epoch (or per bucket of steps)::

      Epoch 1: Loss = 2.5  ████████████████████████████████████
      Epoch 5: Loss = 0.5  ███████▎

* :class:`LineChart` — train and eval curves on one chart with axes, nice ticks
  and a legend (braille, block or pure-ASCII glyphs);
* :class:`Sparkline` — a one-line summary for tables of many runs.

Each is a rich renderable (``__rich_console__`` + ``__rich_measure__``, so it
composes with tables and panels and follows the console's width and colour
settings, ``NO_COLOR`` included) and also renders to plain text without colour
with ``to_text(width)``.

This module needs numpy and rich only (never pandas). Library code: it returns
objects and strings and prints nothing.

Conventions shared by the three charts
--------------------------------------
* NaN and ±inf are *gaps*: never drawn, never joined across; the line chart marks
  their columns with ``!`` on the x axis, the bar chart shows ``nan``/``inf`` with
  no bar, the sparkline shows ``!`` for a column with no finite value.
* In ASCII mode every character, frame included, is ASCII, and each series has its
  own marker (``*``, ``o``, ``+``, ...); colour is only an extra.
* ``to_text`` strips trailing spaces from each line and ends every line with
  ``\\n``; no line is ever wider than the width asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from rich.cells import cell_len

__all__ = [
    "BarChart",
    "LineChart",
    "Series",
    "Sparkline",
    "TUTORIAL_SCALE",
    "bucket_points",
    "format_value",
    "nice_ticks",
    "log_ticks",
    "tb_smooth",
]

#: The tutorial's bar scale: 2.5 → 36 cells, 1.8 → 26, 1.2 → 17, 0.8 → 12, 0.5 → 7.
TUTORIAL_SCALE = 14.4
#: With the default scale, the longest bar is grown to at least this many cells
#: (or the available width) so that small losses (0.01) still show.
MIN_LONGEST_BAR = 20
#: Auto log-scale when all values are positive and max/min is at least this.
LOGY_AUTO_RATIO = 100.0
#: TensorBoard's default smoothing weight.
DEFAULT_SMOOTHING = 0.6
DEFAULT_WIDTH = 80
DEFAULT_HEIGHT = 15
MIN_WIDTH = 20

GLYPHS = ("braille", "block", "ascii")
LINES = ("solid", "dashed", "raw")

EIGHTHS = " ▏▎▍▌▋▊▉"  # index = eighths of a cell (0..7)
FULL_BLOCK = "█"
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
SPARK_LEVELS_ASCII = "_.-:=+*#"
GAP_MARK = "!"

PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta")
ASCII_MARKERS = ("*", "o", "+", "#", "@", "%", "=", "&", "$", "~")
RAW_MARKER = "."

# 2x2 quadrant characters indexed by mask: 1 top-left, 2 top-right, 4 bottom-left, 8 bottom-right
_QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
# braille dot bits by (sub-row from top, sub-column)
_BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)


# ---------------------------------------------------------------- number formatting


def format_value(v: float, max_digits: int = 6) -> str:
    """The shortest text that reads back as ``v`` (at most ``max_digits`` significant
    digits; longer values are rounded to that many): 2.5 → ``2.5``, 2.0 → ``2``,
    0.00001 → ``1e-05``, NaN → ``nan``, -inf → ``-inf``."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-4 <= a < 1e15:
        s = np.format_float_positional(v, precision=max_digits, unique=True, fractional=False, trim="-")
        # positional form of a value with more integer digits than max_digits shows
        # rounding zeros; that is still the shortest faithful form at this precision
        return s
    return np.format_float_scientific(v, precision=max_digits - 1, unique=True, trim="-")


def _fmt_fixed(v: float, decimals: int) -> str:
    s = f"{v:.{decimals}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s


def _decimals_for(step: float) -> int:
    return max(0, -int(math.floor(math.log10(step) + 1e-9)))


def _fmt_linear_tick(v: float, step: float, vmax: float) -> str:
    if vmax >= 1e6 or step < 1e-5:
        s = f"{v:.3g}"
        return "0" if float(s) == 0 else s
    return _fmt_fixed(v, _decimals_for(step))


def _fmt_x_tick(v: float, step: float, vmax: float) -> str:
    """x labels: plain up to 9999, then k / M units (``20k``, ``1.5M``)."""
    if v == 0:
        return "0"
    for unit, suffix in ((1e6, "M"), (1e3, "k")):
        if vmax >= 10 * unit and step >= unit / 10:
            return _fmt_fixed(v / unit, _decimals_for(step / unit)) + suffix
    return _fmt_linear_tick(v, step, vmax)


# ---------------------------------------------------------------- ticks


def _frac(v, lo: float, hi: float):
    """(v − lo) / (hi − lo), computed on halves so that spans up to the whole float
    range do not overflow."""
    return (v * 0.5 - lo * 0.5) / (hi * 0.5 - lo * 0.5)


def _candidate_steps(span: float) -> Iterable[float]:
    e = int(math.floor(math.log10(span))) - 3
    while e < 309:
        for m in (1, 2, 5):
            step = m * 10.0**e
            if not math.isfinite(step):
                return
            yield step
        e += 1


def _multiples(lo: float, hi: float, step: float) -> list[float]:
    k0 = math.ceil(lo / step - 1e-9)
    k1 = math.floor(hi / step + 1e-9)
    return [k * step for k in range(k0, k1 + 1) if math.isfinite(k * step)]


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Ticks at multiples of 1, 2 or 5 × 10^k inside ``[lo, hi]``: the finest such
    step that gives at most ``max_ticks`` ticks. ``nice_ticks(0.3, 2.5, 5)`` →
    ``[0.5, 1.0, 1.5, 2.0, 2.5]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        return []
    if hi == lo:
        return [lo]
    if not math.isfinite(hi - lo):  # a span beyond float range: just the ends
        return [lo, hi]
    for step in _candidate_steps(hi - lo):
        if (hi - lo) / step > max_ticks + 1:
            continue
        ticks = _multiples(lo, hi, step)
        if len(ticks) <= max_ticks:
            return ticks
    return [lo, hi]


def log_ticks(lo: float, hi: float, max_ticks: int = 8) -> list[float]:
    """Ticks for a log axis over ``[lo, hi]`` (values > 0): powers of ten (every
    one, or every 2nd, 3rd, ... to stay within ``max_ticks``); when the range holds
    fewer than two powers of ten, 1-2-5 multiples. Never ``10^0.2``."""
    if not (lo > 0 and hi >= lo and math.isfinite(hi)):
        return []
    l0, l1 = math.log10(lo), math.log10(hi)
    k0, k1 = math.ceil(l0 - 1e-9), math.floor(l1 + 1e-9)
    decades = list(range(k0, k1 + 1))
    if len(decades) >= 2:
        every = 1
        while len(decades[::every]) > max_ticks:
            every += 1
        # keep the decades that are multiples of `every` so labels look regular
        kept = [k for k in decades if k % every == 0] or decades[::every]
        return [10.0**k for k in kept]
    ticks = []
    for k in range(int(math.floor(l0)) - 1, min(int(math.floor(l1)) + 2, 309)):
        for m in (1, 2, 5):
            if k == 308 and m > 1:  # 2e308 is past the largest float
                break
            v = m * 10.0**k
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                ticks.append(v)
    if len(ticks) >= 2:
        while len(ticks) > max_ticks:
            ticks = ticks[::2]
        return ticks
    return []  # caller falls back to linear ticks


def _log_label(v: float, exp_form: bool) -> str:
    k = int(math.floor(math.log10(v) + 1e-9))
    m = int(round(v / 10.0**k))
    if m == 10:
        m, k = 1, k + 1
    if exp_form:
        return str(m) if k == 0 else f"{m}e{k}"
    return format_value(m * 10.0**k)


# ---------------------------------------------------------------- smoothing


def tb_smooth(values, weight: float = DEFAULT_SMOOTHING) -> np.ndarray:
    """TensorBoard's debiased exponential moving average (vz_line_chart2).

    ``last = last·w + (1−w)·v``; ``smoothed = last / (1 − w^n)`` with ``n`` the number
    of finite values so far. Non-finite values are returned as they are and do not
    enter the average; a constant series is returned unchanged (as TensorBoard does).
    ``weight`` in ``[0, 1)``; 0 means no smoothing.
    """
    y = np.asarray(values, dtype=np.float64).ravel()
    w = float(weight)
    if not (0.0 <= w < 1.0):
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    out = y.copy()
    if y.size == 0 or w == 0.0 or np.all(y == y[0]):
        return out
    fin = np.isfinite(y)
    v = y[fin]
    n = v.size
    if n == 0:
        return out
    last = np.empty(n)
    if n <= 2048 or float(np.max(np.abs(v))) > 1e200:  # short, or too large for the closed form
        acc = 0.0
        for i in range(n):
            acc = acc * w + (1.0 - w) * v[i]
            last[i] = acc
    else:
        # blockwise closed form: inside a block of length B,
        #   last[j] = w^(j+1)·carry + (1−w)·w^j·Σ_{i≤j} w^(−i)·v[i]
        # B keeps w^(−B) below 1e100 so the cumulative sum stays accurate.
        B = 1024 if w < 1e-300 else int(max(1, min(1024, math.floor(100.0 / -math.log10(w)))))
        j = np.arange(B, dtype=np.float64)
        wp = w**j  # w^j
        winv = w ** (-j)  # w^-j
        carry = 0.0
        for s in range(0, n, B):
            blk = v[s : s + B]
            m = blk.size
            part = (1.0 - w) * wp[:m] * np.cumsum(winv[:m] * blk)
            seg = carry * (wp[:m] * w) + part
            last[s : s + m] = seg
            carry = seg[-1]
    k = np.arange(1, n + 1, dtype=np.float64)
    out[fin] = last / (1.0 - np.power(w, k))
    return out


# ---------------------------------------------------------------- bucketing


def _nice_size(raw: float) -> float:
    for step in _candidate_steps(max(raw, 1e-300)):
        if step >= raw * (1 - 1e-12):
            return step
    return raw  # pragma: no cover


def bucket_points(x, y, max_rows: int = 30):
    """Evenly spaced buckets of ``x`` for a bar chart of many points.

    The bucket size is the smallest 1-2-5 × 10^k that gives at most ``max_rows``
    buckets, and buckets start at multiples of the size (``100-199``, ``200-299``).
    Each bucket's value is the **mean of its finite values** (the mean, like the
    per-epoch loss frameworks print); a bucket with no finite value is NaN.

    Returns ``(starts, ends, values, n_points, n_nonfinite, integral)``; for whole
    numbers ``ends`` are inclusive (``100-199``), otherwise the bucket is
    ``[start, end)``. Empty buckets are kept (``n_points == 0``).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    keep = np.isfinite(x)
    x, y = x[keep], y[keep]
    if x.size == 0:
        e = np.empty(0)
        return e, e, e, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), True
    integral = bool(np.all(x == np.round(x)))
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo + (1.0 if integral else 0.0)
    size = _nice_size(max(span / max_rows, 1.0 if integral else 1e-12))
    while True:
        first = math.floor(lo / size) * size
        count = int(math.floor((hi - first) / size)) + 1
        if count <= max_rows:
            break
        size = _nice_size(size * 1.0000001)
    idx = np.clip(np.floor((x - first) / size).astype(np.int64), 0, count - 1)
    fin = np.isfinite(y)
    n_points = np.bincount(idx, minlength=count)
    n_fin = np.bincount(idx[fin], minlength=count)
    # mean = Σ y/count: the terms never sum past the largest value (no overflow)
    means = np.bincount(idx[fin], weights=y[fin] / n_fin[idx[fin]], minlength=count)
    values = np.where(n_fin > 0, means, np.nan)
    starts = first + size * np.arange(count)
    ends = starts + size - (1.0 if integral else 0.0)
    return starts, ends, values, n_points, n_points - n_fin, integral


# ---------------------------------------------------------------- rich glue

Span = tuple  # (text, rich style string or None); a rendered line is a list of spans


class _Renderable:
    """Shared rich protocol: subclasses implement ``_lines(width, ascii) -> list[list[Span]]``
    and ``_natural_width(max_width, ascii) -> int``."""

    width: int | None = None
    _ascii_default = False

    def _lines(self, width: int, ascii: bool) -> list[list[Span]]:  # pragma: no cover
        raise NotImplementedError

    def _natural_width(self, max_width: int, ascii: bool) -> int:
        return max_width

    def _min_width(self) -> int:
        return MIN_WIDTH

    def to_text(self, width: int | None = None) -> str:
        """Plain text, no colour: each line right-stripped and ended by ``\\n``."""
        w = int(width or self.width or DEFAULT_WIDTH)
        lines = self._lines(w, self._ascii_default)
        return "".join("".join(t for t, _ in line).rstrip() + "\n" for line in lines)

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style

        ascii_mode = self._ascii_default or bool(options.ascii_only)
        w = self._natural_width(options.max_width if self.width is None else min(self.width, options.max_width), ascii_mode)
        cache: dict = {}
        for line in self._lines(max(1, w), ascii_mode):
            # no trailing blanks (containers such as tables and panels pad for themselves)
            while line and not line[-1][0].rstrip():
                line = line[:-1]
            if line and line[-1][1] is None:
                line = line[:-1] + [(line[-1][0].rstrip(), None)]
            for text, style in line:
                if style:
                    st = cache.get(style)
                    if st is None:
                        st = cache[style] = Style.parse(style)
                    yield Segment(text, st)
                else:
                    yield Segment(text)
            yield Segment.line()

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        mx = options.max_width if self.width is None else min(self.width, options.max_width)
        ascii_mode = self._ascii_default or bool(options.ascii_only)
        nat = self._natural_width(mx, ascii_mode)
        return Measurement(min(self._min_width(), nat), nat)


def _cut(text: str, cells: int) -> str:
    """The longest prefix of ``text`` that fits in ``cells`` terminal cells."""
    if cell_len(text) <= cells:
        return text
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > cells:
            break
        out.append(ch)
        used += w
    return "".join(out)


def _ljust(text: str, cells: int) -> str:
    return text + " " * max(0, cells - cell_len(text))


def _finish(line: list[Span], width: int) -> list[Span]:
    """Merge adjacent spans of one style and cut the line at ``width`` cells
    (wide characters such as CJK count two)."""
    out: list[Span] = []
    used = 0
    for text, style in line:
        if not text:
            continue
        if used + cell_len(text) > width:
            text = _cut(text, width - used)
        if not text:
            break
        used += cell_len(text)
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + text, style)
        else:
            out.append((text, style))
    return out


# ---------------------------------------------------------------- bar chart


class BarChart(_Renderable):
    """The tutorial's bar chart: one line per label, bars proportional to the value.

    ``BarChart(["Epoch 1", "Epoch 2"], [2.5, 1.8])`` renders::

        Epoch 1: Loss = 2.5  ████████████████████████████████████
        Epoch 2: Loss = 1.8  █████████████████████████▉

    Parameters
    ----------
    labels, values:
        One row each. Values are shown with :func:`format_value` (shortest faithful
        text). NaN and ±inf are shown as ``nan``/``inf`` with no bar.
    name:
        The metric's name in the label (``Loss``).
    label_fmt:
        Format of the label column, with ``{label}``, ``{name}``, ``{value}``.
        Labels are left-aligned and padded so that all bars start in one column,
        two spaces after the longest label.
    width:
        Total width in cells (None: the console's width; ``to_text`` default 80).
    scale:
        Cells per unit. None (default): the tutorial's 14.4 (2.5 → 36 cells), shrunk
        linearly when the longest bar would not fit, and grown when the longest bar
        would be shorter than ``MIN_LONGEST_BAR`` (20) cells.
    fractional:
        Bar ends in eighths of a cell (``▏▎▍▌▋▊▉``, nearest eighth). With False, bars
        are rounded to whole cells, which reproduces the tutorial's picture exactly.
        ASCII mode always uses whole ``#`` cells.
    notes:
        Optional short text per row, printed after the bar (``2 nan``).
    ascii, style:
        ASCII only; a rich style for the bars (colour only when the console has it).
    digits:
        At most this many significant digits in the value text (6; bucket means 4).

    Negative values get bars to the left of a ``│`` zero line (half-cell steps).
    """

    def __init__(
        self,
        labels: Sequence[str],
        values: Sequence[float],
        *,
        name: str = "Loss",
        label_fmt: str = "{label}: {name} = {value}",
        width: int | None = None,
        scale: float | None = None,
        fractional: bool = True,
        notes: Sequence[str] | None = None,
        ascii: bool = False,
        style: str | None = "cyan",
        digits: int = 6,
    ) -> None:
        self.labels = [str(x) for x in labels]
        self.values = np.asarray(values, dtype=np.float64).ravel()
        if len(self.labels) != self.values.size:
            raise ValueError(f"BarChart: {len(self.labels)} labels but {self.values.size} values")
        self.name = name
        self.label_fmt = label_fmt
        self.width = width
        self.scale = scale
        self.fractional = fractional
        self.notes = [str(n) if n else "" for n in notes] if notes is not None else None
        if self.notes is not None and len(self.notes) != len(self.labels):
            raise ValueError("BarChart: notes must have one entry per label")
        self._ascii_default = ascii
        self.style = style
        self.digits = digits

    @classmethod
    def from_points(
        cls,
        x,
        y,
        *,
        x_name: str = "Step",
        max_rows: int = 30,
        **kwargs,
    ) -> "BarChart":
        """A bar chart of a curve: one row per point when there are at most
        ``max_rows`` points (``Epoch 3: ...``, ``Step 500: ...``), else evenly spaced
        buckets (``Step 100-199: Loss = <mean>``, see :func:`bucket_points`)."""
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        keep = np.isfinite(x)
        x, y = x[keep], y[keep]
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        if x.size <= max_rows:
            texts = [format_value(v) for v in x]
            w = max((len(t) for t in texts), default=0)  # numbers: ASCII
            return cls([f"{x_name} {t:>{w}}" for t in texts], y, **kwargs)
        starts, ends, values, npts, nbad, integral = bucket_points(x, y, max_rows)
        rng = []
        for s, e in zip(starts, ends):
            a, b = format_value(s), format_value(e)
            rng.append(a if (integral and s == e) else f"{a}-{b}")
        w = max(len(r) for r in rng)
        labels = [f"{x_name} {r:>{w}}" for r in rng]
        notes = None
        if np.any(nbad > 0) or np.any(npts == 0):
            notes = []
            for n, b in zip(npts, nbad):
                if n == 0:
                    notes.append("no data")
                elif b > 0:
                    notes.append(f"{b} nan/inf")
                else:
                    notes.append("")
        kwargs.setdefault("digits", 4)
        return cls(labels, values, notes=notes, **kwargs)

    # -- layout

    def _label_texts(self) -> list[str]:
        texts = [
            self.label_fmt.format(label=lab, name=self.name, value=format_value(v, self.digits))
            for lab, v in zip(self.labels, self.values)
        ]
        w = max((cell_len(t) for t in texts), default=0)
        return [_ljust(t, w) for t in texts]

    def _geometry(self, width: int, ascii: bool):
        texts = self._label_texts()
        lw = cell_len(texts[0]) if texts else 0
        note_w = max((cell_len(n) for n in self.notes), default=0) if self.notes else 0
        avail = width - lw - 2 - (note_w + 1 if note_w else 0)
        fin = self.values[np.isfinite(self.values)]
        pos = float(fin.max()) if fin.size and fin.max() > 0 else 0.0
        neg = float(-fin.min()) if fin.size and fin.min() < 0 else 0.0
        if neg > 0:
            avail -= 1  # the zero line
        avail = max(avail, 1)
        # work with half values so that spans up to the float range do not overflow
        half = pos * 0.5 + neg * 0.5
        if half <= 0:
            longest = 0.0
        elif self.scale is not None:
            longest = min(float(self.scale) * 2.0 * half, avail)
        else:
            longest = min(TUTORIAL_SCALE * 2.0 * half, avail)
            want = min(MIN_LONGEST_BAR, avail)
            if longest < want:
                longest = want
        scale = (half, longest)
        neg_w = int(math.ceil(self._cells(-neg, scale) - 1e-9)) if neg > 0 else 0
        return texts, lw, scale, neg_w, note_w

    @staticmethod
    def _cells(v: float, scale: tuple[float, float]) -> float:
        """Cells for |v|: |v| / (pos + neg) × longest bar (cells per unit = longest / total)."""
        half, longest = scale
        return (abs(v) * 0.5 / half) * longest if half > 0 else 0.0

    def _bar(self, v: float, scale, ascii: bool) -> str:
        cells = self._cells(v, scale)
        if ascii or not self.fractional:
            return ("#" if ascii else FULL_BLOCK) * int(math.floor(cells + 0.5))
        n8 = int(math.floor(cells * 8 + 0.5))
        full, rem = divmod(n8, 8)
        return FULL_BLOCK * full + (EIGHTHS[rem] if rem else "")

    def _neg_bar(self, v: float, scale, ascii: bool) -> str:
        cells = self._cells(v, scale)
        if ascii or not self.fractional:
            return ("#" if ascii else FULL_BLOCK) * int(math.floor(cells + 0.5))
        n2 = int(math.floor(cells * 2 + 0.5))
        full, half = divmod(n2, 2)
        return ("▐" if half else "") + FULL_BLOCK * full

    def _natural_width(self, max_width: int, ascii: bool) -> int:
        lines = self._lines(max_width, ascii)
        return max((sum(cell_len(t) for t, _ in line) for line in lines), default=1) or 1

    def _min_width(self) -> int:
        texts = self._label_texts()
        return (cell_len(texts[0]) if texts else 0) + 3

    def _lines(self, width: int, ascii: bool) -> list[list[Span]]:
        texts, lw, scale, neg_w, note_w = self._geometry(width, ascii)
        out = []
        for i, (text, v) in enumerate(zip(texts, self.values)):
            line: list[Span] = [(text + "  ", None)]
            finite = math.isfinite(v)
            if neg_w:
                nb = self._neg_bar(v, scale, ascii) if finite and v < 0 else ""
                line.append((" " * (neg_w - len(nb)), None))
                line.append((nb, self.style))
                line.append(("|" if ascii else "│", None))
            bar = self._bar(v, scale, ascii) if finite and v > 0 else ""
            line.append((bar, self.style))
            if self.notes and self.notes[i]:
                line.append(("  " if bar or neg_w else "", None))
                line.append((self.notes[i], "yellow"))
            out.append(_finish(line, width))
        return out


# ---------------------------------------------------------------- sparkline


class Sparkline(_Renderable):
    """A one-line summary: ``Sparkline([2.5, 1.8, 1.2, 0.8, 0.5])`` → ``█▆▄▂▁``.

    One cell per value; with more values than ``width`` cells, each cell shows the
    mean of the finite values it covers. Levels are linear between the smallest and
    the largest finite value (a constant series sits in the middle). A cell with no
    finite value shows ``!``. ``width`` None: one cell per value, at most the
    available width. ASCII mode uses ``_.-:=+*#``.
    """

    def __init__(self, values, width: int | None = None, *, ascii: bool = False, style: str | None = "cyan") -> None:
        self.values = np.asarray(values, dtype=np.float64).ravel()
        self.width = width
        self._ascii_default = ascii
        self.style = style

    def _natural_width(self, max_width: int, ascii: bool) -> int:
        return max(1, min(self.values.size, max_width)) if self.values.size else 1

    def _min_width(self) -> int:
        return 1

    def to_text(self, width: int | None = None) -> str:
        w = int(width or self.width or max(1, self.values.size))
        return "".join(t for t, _ in self._lines(w, self._ascii_default)[0]).rstrip() + "\n"

    def text(self, width: int | None = None) -> str:
        """The sparkline characters alone (no newline)."""
        return self.to_text(width).rstrip("\n")

    def _lines(self, width: int, ascii: bool) -> list[list[Span]]:
        y = self.values
        n = y.size
        if n == 0:
            return [[]]
        w = max(1, min(width, n))
        fin = np.isfinite(y)
        if n > w:
            edges = (np.arange(w) * n) // w
            cnt = np.add.reduceat(fin.astype(np.int64), edges)
            # mean = Σ y/count: the terms never sum past the largest value (no overflow)
            per = np.repeat(np.maximum(cnt, 1), np.diff(np.r_[edges, n]))
            sums = np.add.reduceat(np.where(fin, y, 0.0) / per, edges)
            cols = np.where(cnt > 0, sums, np.nan)
        else:
            cols = np.where(fin, y, np.nan)
        levels = SPARK_LEVELS_ASCII if ascii else SPARK_LEVELS
        ok = np.isfinite(cols)
        chars = np.full(cols.size, GAP_MARK, dtype="<U1")
        if ok.any():
            lo, hi = float(cols[ok].min()), float(cols[ok].max())
            if hi > lo:
                idx = np.floor(_frac(cols[ok], lo, hi) * (len(levels) - 1) + 0.5).astype(int)
            else:
                idx = np.full(int(ok.sum()), len(levels) // 2 - 1)
            chars[ok] = np.array(list(levels))[idx]
        return [_finish([("".join(chars.tolist()), self.style)], width)]


# ---------------------------------------------------------------- line chart


@dataclass
class Series:
    """One curve of a :class:`LineChart`.

    ``x`` may be None (0, 1, 2, ...). ``style`` is a rich style (colour), None for
    the palette; ``marker`` the ASCII marker, None for the palette (``*``, ``o``,
    ``+``, ...); ``line`` ``"solid"`` or ``"dashed"`` (braille/block glyphs), None
    for solid for the first series and dashed for the second (the tutorial draws the
    eval curve ``- - - -``), then alternating.
    """

    x: object
    y: object
    name: str = ""
    style: str | None = None
    marker: str | None = None
    line: str | None = None


@dataclass
class _Layer:
    x: np.ndarray
    y: np.ndarray
    style: str | None
    marker: str
    line: str  # solid | dashed | raw
    name: str


class LineChart(_Renderable):
    """Curves on one chart with axes, nice ticks and a legend.

    ``LineChart([Series(steps, train, "train"), Series(steps, val, "eval")],
    width=80, height=15)``

    Parameters
    ----------
    series:
        :class:`Series` objects (or ``(x, y)`` / ``(x, y, name)`` tuples).
    width, height:
        The chart's exact size in cells, legend and labels included (None: the
        console's width / 15 lines). ``to_text(width)`` renders at that width.
    logy:
        None: log scale when every finite value is positive and max/min ≥ 100;
        True/False to force. On a log axis ticks are powers of ten (``1e-3``,
        ``1e-2``, ...), and values ≤ 0 are gaps.
    ascii, glyphs:
        ``glyphs`` is ``"braille"`` (2×4 dots per cell, default), ``"block"`` (2×2
        quadrants) or ``"ascii"`` (one marker per cell); ``ascii=True`` means
        ``glyphs="ascii"``. A console that cannot print Unicode gets ASCII.
    smooth:
        None, or a weight in [0, 1) (True means 0.6): TensorBoard's debiased EMA
        (:func:`tb_smooth`) drawn over the raw points, which stay faint (dim colour,
        or only each column's min and max as dots, or ``.`` in ASCII).
    x_label, y_label:
        ``x_label`` ends the tick-label line (``Step``), ``y_label`` is a line above
        the chart (``Loss``), as in the tutorial.

    Downsampling: each pixel column keeps its min and max (vectorised numpy), so a
    spike of one step in a million survives. NaN/inf are gaps, marked ``!`` under
    their column on the x axis.
    """

    def __init__(
        self,
        series: Sequence[Series | tuple],
        *,
        width: int | None = None,
        height: int | None = None,
        logy: bool | None = None,
        ascii: bool = False,
        glyphs: str = "braille",
        smooth: float | bool | None = None,
        x_label: str | None = None,
        y_label: str | None = None,
        legend: bool | None = None,
    ) -> None:
        if glyphs not in GLYPHS:
            raise ValueError(f"glyphs must be one of {', '.join(GLYPHS)}, got {glyphs!r}")
        self.series = [s if isinstance(s, Series) else Series(*s) for s in series]
        self.width = width
        self.height = height
        self.logy = logy
        self.glyphs = "ascii" if ascii else glyphs
        self._ascii_default = self.glyphs == "ascii"
        if smooth is True:
            smooth = DEFAULT_SMOOTHING
        if smooth is not None and smooth is not False and not (0.0 <= float(smooth) < 1.0):
            raise ValueError(f"smooth must be a weight in [0, 1), got {smooth}")
        self.smooth = None if smooth in (None, False) else float(smooth)
        self.x_label = x_label
        self.y_label = y_label
        self.legend = legend
        self._layers = self._build_layers()

    # -- data

    def _build_layers(self) -> list[_Layer]:
        layers: list[_Layer] = []
        raw: list[_Layer] = []
        for i, s in enumerate(self.series):
            y = np.asarray(s.y, dtype=np.float64).ravel()
            x = np.arange(y.size, dtype=np.float64) if s.x is None else np.asarray(s.x, dtype=np.float64).ravel()
            if x.size != y.size:
                raise ValueError(f"series {s.name or i}: {x.size} x values but {y.size} y values")
            keep = np.isfinite(x)
            if not keep.all():
                x, y = x[keep], y[keep]
            if x.size > 1 and np.any(x[1:] < x[:-1]):
                order = np.argsort(x, kind="stable")
                x, y = x[order], y[order]
            style = s.style or PALETTE[i % len(PALETTE)]
            marker = s.marker or ASCII_MARKERS[i % len(ASCII_MARKERS)]
            line = s.line or ("solid" if i % 2 == 0 else "dashed")
            if self.smooth is not None:
                raw.append(_Layer(x, y, f"dim {style}", RAW_MARKER, "raw", s.name))
                y = tb_smooth(y, self.smooth)
            layers.append(_Layer(x, y, style, marker, line, s.name))
        return raw + layers

    def _use_log(self) -> bool:
        if self.logy is not None:
            return bool(self.logy)
        lo, hi = math.inf, -math.inf
        for layer in self._layers:
            y = layer.y[np.isfinite(layer.y)]
            if y.size:
                lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
        return lo > 0 and math.isfinite(hi) and hi / lo >= LOGY_AUTO_RATIO

    # -- layout

    def _natural_width(self, max_width: int, ascii: bool) -> int:
        return max(max_width, 1)

    def _lines(self, width: int, ascii: bool) -> list[list[Span]]:
        width = max(int(width), 1)
        W = max(width, MIN_WIDTH)
        H = int(self.height or DEFAULT_HEIGHT)
        glyphs = "ascii" if ascii else self.glyphs
        asc = glyphs == "ascii"
        sx, sy = {"braille": (2, 4), "block": (2, 2), "ascii": (1, 1)}[glyphs]
        vline, ytick, corner, hline, xtick = ("|", "+", "+", "-", "+") if asc else ("│", "┤", "└", "─", "┬")

        logy = self._use_log()
        tf = [self._transform(layer.y, logy) for layer in self._layers]
        allf = [t[np.isfinite(t)] for t in tf]
        allf = [a for a in allf if a.size]
        if allf:
            ylo = min(float(a.min()) for a in allf)
            yhi = max(float(a.max()) for a in allf)
        else:  # nothing finite to draw: an empty 0..1 frame (1..10 on a log axis)
            ylo, yhi = 0.0, 1.0
        flat_y = None
        if yhi * 0.5 - ylo * 0.5 == 0:  # one value (or a span below float resolution)
            flat_y = ylo
            pad = 0.5 if logy else (abs(ylo) * 0.1 if abs(ylo) > 1e-290 else 1.0)
            big = np.finfo(np.float64).max
            ylo, yhi = max(ylo - pad, -big), min(yhi + pad, big)
        xs = [layer.x for layer in self._layers if layer.x.size]
        if xs:
            xlo = min(float(x.min()) for x in xs)
            xhi = max(float(x.max()) for x in xs)
        else:
            xlo, xhi = 0.0, 1.0
        single_x = xhi * 0.5 - xlo * 0.5 == 0
        if single_x:
            xlo, xhi = xlo - 1.0, xhi + 1.0

        has_legend = self.legend if self.legend is not None else any(layer.name for layer in self._layers)
        extra = 2 + (1 if self.y_label else 0) + (1 if has_legend else 0)
        ph = H - extra
        if ph < 2 and has_legend:
            has_legend, ph = False, ph + 1
        show_ylabel = bool(self.y_label)
        if ph < 2 and show_ylabel:
            show_ylabel, ph = False, ph + 1
        ph = max(ph, 1)
        Py = ph * sy

        def yrow(v: float) -> int:  # cell row from the top
            p = int(math.floor(_frac(v, ylo, yhi) * (Py - 1) + 0.5))
            p = min(max(p, 0), Py - 1)
            return ph - 1 - p // sy

        # y ticks: at least 2 rows apart, about one every 2.5 rows at most
        gap = 2
        if flat_y is not None:  # one value: a single tick at it
            yticks = [flat_y]
            # label the value itself (10**log10(v) can round past the largest float)
            raw = [layer.y[np.isfinite(t)] for layer, t in zip(self._layers, tf)]
            raw = [r for r in raw if r.size]
            ylabels = [format_value(float(raw[0][0]) if raw else flat_y)]
        else:
            yticks, ylabels = self._y_ticks(ylo, yhi, logy, ph, gap, yrow)
        lw = max((len(s) for s in ylabels), default=1)
        if lw > W // 2:  # labels never cut (a cut number lies): drop them on absurdly narrow charts
            yticks, ylabels, lw = [], [], 1
        pw = W - lw - 1
        Px = pw * sx

        # the grid
        bits = np.zeros((ph, pw), dtype=np.uint8)
        chars = np.full((ph, pw), " ", dtype="<U1")
        owner = np.full((ph, pw), -1, dtype=np.int64)
        gap_cols = np.zeros(pw, dtype=bool)
        for li, (layer, t) in enumerate(zip(self._layers, tf)):
            if layer.x.size == 0:
                continue
            pc = np.floor(_frac(layer.x, xlo, xhi) * (Px - 1) + 0.5).astype(np.int64)
            np.clip(pc, 0, Px - 1, out=pc)
            fin = np.isfinite(t)
            if not fin.all():
                gap_cols[np.unique(pc[~fin] // sx)] = True
            cols, rows = self._layer_pixels(pc, t, fin, ylo, yhi, Py, layer.line)
            if cols.size == 0:
                continue
            if layer.line == "dashed" and not asc:
                keep = (cols // sx) % 2 == 0  # one cell on, one off: "- - -"
                cols, rows = cols[keep], rows[keep]
            elif layer.line == "raw" and not asc:
                keep = cols % sx == 0  # faint: every other dot column only
                cols, rows = cols[keep], rows[keep]
            crow = ph - 1 - rows // sy
            ccol = cols // sx
            if asc:
                chars[crow, ccol] = layer.marker
            else:
                sub_r = sy - 1 - rows % sy
                sub_c = cols % sx
                if glyphs == "braille":
                    b = _BRAILLE_BITS[sub_r, sub_c]
                else:
                    b = (np.uint8(1) << (sub_r * 2 + sub_c).astype(np.uint8)).astype(np.uint8)
                np.bitwise_or.at(bits, (crow, ccol), b)
            owner[crow, ccol] = li

        if not asc:
            if glyphs == "braille":
                table = np.array([chr(0x2800 + i) for i in range(256)])
                table[0] = " "
            else:
                table = np.array(list(_QUADRANTS))
            chars = table[bits]

        styles = [layer.style for layer in self._layers]
        lines: list[list[Span]] = []
        if show_ylabel:
            lines.append(_finish([(self.y_label, None)], W))
        tick_at = {r: lab for r, lab in zip((yrow(v) for v in yticks), ylabels)}
        for r in range(ph):
            lab = tick_at.get(r)
            line: list[Span] = [((lab or "").rjust(lw), None), (ytick if lab is not None else vline, None)]
            row_chars = chars[r]
            row_owner = owner[r]
            c = 0
            while c < pw:
                o = row_owner[c]
                e = c + 1
                while e < pw and row_owner[e] == o:
                    e += 1
                line.append(("".join(row_chars[c:e].tolist()), styles[o] if o >= 0 else None))
                c = e
            lines.append(_finish(line, W))

        # x axis and its labels
        xt_cols, xt_labels = self._x_ticks(xlo, xhi, single_x, pw, sx, Px, lw)
        axis = [hline] * pw
        for c in xt_cols:
            axis[c] = xtick
        axis_line: list[Span] = [(" " * lw, None), (corner, None)]
        marks = np.flatnonzero(gap_cols)
        prev = 0
        for c in marks:
            axis_line.append(("".join(axis[prev:c]), None))
            axis_line.append((GAP_MARK, "bold red"))
            prev = c + 1
        axis_line.append(("".join(axis[prev:]), None))
        lines.append(_finish(axis_line, W))
        lines.append(_finish([(self._tick_label_line(xt_cols, xt_labels, lw, W), None)], W))

        if has_legend:
            legend = self._legend(asc, lw, bool(marks.size))
            if sum(cell_len(t) for t, _ in legend) > W:  # too many series: cut with an ellipsis
                more = "..." if asc else "…"
                legend = _finish(legend, W - len(more)) + [(more, None)]
            lines.append(_finish(legend, W))
        if W > width:  # narrower than MIN_WIDTH: cut, never overflow
            lines = [_finish(line, width) for line in lines]
        return lines

    @staticmethod
    def _transform(y: np.ndarray, logy: bool) -> np.ndarray:
        if not logy:
            return y
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)

    def _y_ticks(self, ylo, yhi, logy, ph, gap, yrow):
        def spaced(vals):
            rows = [yrow(v) for v in vals]
            return all(abs(a - b) >= gap for a, b in zip(rows, rows[1:])) and len(set(rows)) == len(rows)

        max_ticks = max(2, int(ph / 2.5) + 1)
        if logy:
            lo, hi = 10.0 ** max(ylo, -323.0), 10.0 ** min(yhi, 308.25)
            for mt in range(max_ticks, 0, -1):
                ticks = log_ticks(lo, hi, mt)
                if not ticks:
                    break
                pos = [math.log10(t) for t in ticks]
                if spaced(pos):
                    exp_form = any(t < 0.01 * (1 - 1e-9) or t >= 1e4 for t in ticks)
                    return pos, [_log_label(t, exp_form) for t in ticks]
            # fall through: linear ticks on the values (narrow forced log range)
            for mt in range(max_ticks, 0, -1):
                ticks = nice_ticks(lo, hi, mt)
                pos = [math.log10(t) for t in ticks if t > 0]
                if pos and spaced(pos):
                    return pos, [format_value(10.0**p) for p in pos]
            return [], []
        for mt in range(max_ticks, 0, -1):
            ticks = nice_ticks(ylo, yhi, mt)
            if ticks and spaced(ticks):
                step = ticks[1] - ticks[0] if len(ticks) > 1 else abs(ticks[0]) or 1.0
                if not (math.isfinite(step) and step > 0):
                    step = 1e300
                vmax = max(abs(ylo), abs(yhi))
                return ticks, [_fmt_linear_tick(t, step, vmax) for t in ticks]
        return [], []

    def _x_ticks(self, xlo, xhi, single_x, pw, sx, Px, lw):
        def col(v: float) -> int:
            p = int(math.floor(_frac(v, xlo, xhi) * (Px - 1) + 0.5))
            return min(max(p, 0), Px - 1) // sx

        if single_x:
            v = (xlo + xhi) / 2
            return [col(v)], [format_value(v)]
        vmax = max(abs(xlo), abs(xhi))
        W = lw + 1 + pw
        integral = all(np.all(layer.x == np.round(layer.x)) for layer in self._layers)
        for mt in range(max(2, pw // 4), 0, -1):
            ticks = nice_ticks(xlo, xhi, mt)
            if not ticks:
                continue
            step = ticks[1] - ticks[0] if len(ticks) > 1 else abs(ticks[0]) or 1.0
            if not (math.isfinite(step) and step > 0):
                step = 1e300
            if integral and step < 1:  # steps and epochs: whole-number ticks
                continue
            labels = [_fmt_x_tick(t, step, vmax) for t in ticks]
            cols = [col(t) for t in ticks]
            if len(set(cols)) != len(cols):
                continue
            spans = [self._label_span(c, lab, lw, W) for c, lab in zip(cols, labels)]
            if all(b[0] - a[1] >= 2 for a, b in zip(spans, spans[1:])):
                return cols, labels
        return [], []

    @staticmethod
    def _label_span(c: int, label: str, lw: int, W: int) -> tuple[int, int]:
        start = lw + 1 + c - (len(label) - 1) // 2
        start = min(max(start, 0), W - len(label))
        return start, start + len(label)

    def _tick_label_line(self, cols, labels, lw, W) -> str:
        buf = [" "] * W
        spans = [self._label_span(c, lab, lw, W) for c, lab in zip(cols, labels)]
        xl = self.x_label or ""
        xw = cell_len(xl)
        if xl and xw < W:
            # drop tick labels from the right until the axis name fits after them
            while spans and spans[-1][1] + 2 > W - xw:
                spans.pop()
                labels = labels[: len(spans)]
        else:
            xl, xw = "", 0
        for (a, b), lab in zip(spans, labels):
            buf[a:b] = list(lab)
        # the axis name (may hold wide characters) replaces the blank end of the line
        return "".join(buf[: W - xw]) + xl

    def _legend(self, asc: bool, lw: int, gaps: bool) -> list[Span]:
        parts: list[Span] = [(" " * (lw + 1), None)]
        first = True
        seen_raw = False
        for layer in self._layers:
            if layer.line == "raw":
                seen_raw = True
                continue
            if not layer.name and not asc:
                continue
            sample = layer.marker if asc else ("───" if layer.line == "solid" else "- -")
            if not first:
                parts.append(("   ", None))
            parts.append((sample, layer.style))
            parts.append((" " + (layer.name or "series"), None))
            first = False
        if self.smooth is not None:
            if not first:
                parts.append(("   ", None))
            parts.append((f"EMA {format_value(self.smooth)}", None))
            if seen_raw:
                parts.append((", raw " + (RAW_MARKER if asc else "faint"), "dim"))
            first = False
        if gaps:
            if not first:
                parts.append(("   ", None))
            parts.append((GAP_MARK, "bold red"))
            parts.append((" nan/inf", None))
        return parts

    @staticmethod
    def _layer_pixels(pc, t, fin, ylo, yhi, Py, line):
        """Pixels (col, row-from-bottom) of one layer: per pixel column the span from
        its min to its max (vectorised reduceat), joined to the next column by a line
        unless a non-finite value lies between them. ``raw`` layers get only each
        column's min and max."""
        if not fin.any():
            return np.empty(0, np.int64), np.empty(0, np.int64)
        run = np.cumsum(~fin)[fin]
        pcf = pc[fin]
        tf = t[fin]
        starts = np.flatnonzero(np.r_[True, pcf[1:] != pcf[:-1]])
        ends = np.r_[starts[1:], pcf.size] - 1
        mn = np.minimum.reduceat(tf, starts)
        mx = np.maximum.reduceat(tf, starts)
        def prow(v):
            return np.clip(np.floor(_frac(v, ylo, yhi) * (Py - 1) + 0.5), 0, Py - 1).astype(np.int64)

        cols = pcf[starts]
        rmin, rmax = prow(mn), prow(mx)
        if line == "raw":
            return np.r_[cols, cols], np.r_[rmin, rmax]
        rfirst, rlast = prow(tf[starts]), prow(tf[ends])
        out_c = [np.repeat(cols, rmax - rmin + 1)]
        # rows rmin..rmax for each column
        lens = rmax - rmin + 1
        offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        out_r = [np.repeat(rmin, lens) + offs]
        # join consecutive columns of one finite run (no NaN/inf between them)
        j = np.flatnonzero(run[ends[:-1]] == run[starts[1:]])
        c0, r0, c1, r1 = cols[j], rlast[j], cols[j + 1], rfirst[j + 1]
        need = (c1 - c0 > 1) | (np.abs(r1 - r0) > 1)
        if need.any():
            cc, rr = _segments(c0[need], r0[need], c1[need], r1[need])
            out_c.append(cc)
            out_r.append(rr)
        return np.concatenate(out_c), np.concatenate(out_r)


def _segments(c0, r0, c1, r1):
    """Pixels of the lines from (c0, r0) to (c1, r1) (arrays, c1 > c0), gap-free in
    both directions: each column gets the rows its line crosses within half a column
    either side. Vectorised over all segments."""
    n = c1 - c0 + 1
    seg = np.repeat(np.arange(c0.size), n)
    c = np.repeat(c0, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    d = (c1 - c0)[seg].astype(np.float64)
    a0 = c0[seg]
    ra, rb = r0[seg].astype(np.float64), r1[seg].astype(np.float64)
    ta = np.clip((c - 0.5 - a0) / d, 0.0, 1.0)
    tb = np.clip((c + 0.5 - a0) / d, 0.0, 1.0)
    ya = ra + (rb - ra) * ta
    yb = ra + (rb - ra) * tb
    lo = np.floor(np.minimum(ya, yb) + 0.5).astype(np.int64)
    hi = np.maximum(np.floor(np.maximum(ya, yb) + 0.5).astype(np.int64), lo)
    lens = hi - lo + 1
    offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    return np.repeat(c, lens), np.repeat(lo, lens) + offs
