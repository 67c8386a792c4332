"""Charts of parsed logs: what ``lossctl plot`` does, and the helper other commands
use to show a chart.

* :func:`plot_logs` reads logs as streams of records (:func:`read_curves`, the points
  of one metric in compact arrays; :func:`select_curves` does the same from a
  ``parse_log`` DataFrame), selects the splits, and returns the renderables (no printing);
* :func:`show` prints renderables with lossctl's console rules: ``plot``'s chart is
  its product and goes to stdout; a command whose product is data (``diagnose``)
  shows its chart on stderr (``show(chart, stderr=True)``) and keeps stdout for data.

Choices (documented in ``lossctl plot --help``):

* metric: ``--metric`` matches the canonical name (``loss``) or the name written in
  the log (``eval_loss``, ``val/box_loss``);
* splits: ``--split`` (comma-separated), default train and eval when present (else
  whatever the log has);
* runs: ``--run N`` keeps one; otherwise each run is its own series (``run 2 train``);
* x axis: the step; ``Epoch`` when the log has only epochs (step = epoch);
* default kind: ``bar`` when there is one series of at most ``BAR_MAX_POINTS`` (30)
  points, else ``line``. A bar chart of more points shows evenly spaced buckets of
  steps with the mean of each bucket.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lossctl import errors
from lossctl.charts import GLYPHS, BarChart, LineChart, Series, Sparkline, format_value

KINDS = ("auto", "bar", "line", "spark")
BAR_MAX_POINTS = 30
SPLIT_ORDER = ("train", "eval", "test")
_SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "eval": "eval", "val": "eval", "valid": "eval", "validation": "eval", "dev": "eval",
    "test": "test", "testing": "test",
}


@dataclass
class Curve:
    """One series to draw: its label, x (steps or epochs), y, and whether its
    points are whole epochs (for ``Epoch N`` bar labels)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    epochs: np.ndarray
    x_is_epoch: bool


def parse_splits(value: str | None) -> list[str] | None:
    """``"train,val"`` → ``["train", "eval"]``; None/empty → None (the default)."""
    if not value:
        return None
    out = []
    for part in value.split(","):
        p = part.strip().lower()
        if not p:
            continue
        canon = _SPLIT_ALIASES.get(p)
        if canon is None:
            raise errors.UsageError(f"unknown --split {part.strip()!r}", hint="choose among: train, eval, test")
        if canon not in out:
            out.append(canon)
    return out or None


def parse_smooth(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        w = float(value)
    except ValueError:
        raise errors.UsageError(
            f"--smooth takes a weight between 0 and 1, got {value!r}",
            hint="e.g. --smooth 0.6 (TensorBoard's default); 0 turns smoothing off",
        ) from None
    if not (0.0 <= w < 1.0) or math.isnan(w):
        raise errors.UsageError(
            f"--smooth weight must be in [0, 1), got {value}",
            hint="e.g. --smooth 0.6 (TensorBoard's default); 0 turns smoothing off",
        )
    return w or None


def _label_for(path: str) -> str:
    return "stdin" if path == "-" else os.path.basename(path.rstrip("/")) or path


def _unique_labels(paths: Sequence[str]) -> list[str]:
    labels = [_label_for(p) for p in paths]
    if len(set(labels)) != len(labels):
        labels = [p if p != "-" else "stdin" for p in paths]
    return labels


#: a log with more runs than this draws only its longest run (the others: --run N)
MAX_RUNS_DRAWN = 4


def select_curves(df, *, source: str, metric: str, splits: list[str] | None, file_label: str | None) -> list[Curve]:
    """The curves of ``metric`` in one parsed log (a DataFrame from ``parse_log``)."""
    if len(df) == 0:
        raise errors.InputError("no records in the log", source=source)
    mask = (df["metric"] == metric) | (df["name"] == metric)
    if not mask.any():
        _no_metric(metric, set(df["metric"].astype(str)), source)
    sub = df[mask]
    chosen = _splits_to_draw(metric, set(sub["split"]), splits, source)
    runs = _runs_to_draw(source, {int(r): int(n) for r, n in sub.groupby("run").size().items()})
    curves = []
    for run in runs:
        for split in chosen:
            part = sub[(sub["run"] == run) & (sub["split"] == split)]
            if not len(part):
                continue
            step = part["step"].to_numpy(dtype=np.float64, na_value=np.nan)
            epoch = part["epoch"].to_numpy(dtype=np.float64, na_value=np.nan)
            value = part["value"].to_numpy(dtype=np.float64, na_value=np.nan)
            curves.append(_curve(step, epoch, value, file_label, run if len(runs) > 1 else None, split))
    return curves


def _no_metric(metric: str, found: set, source: str):
    found = sorted(found)
    raise errors.InputError(
        f"no metric {metric!r} in the log",
        source=source,
        hint="metrics found: " + ", ".join(found[:12]) + (" ..." if len(found) > 12 else "")
        + "; choose one with --metric",
    )


def _splits_to_draw(metric: str, have: set, splits: list[str] | None, source: str) -> list[str]:
    """The splits of ``metric`` to draw: those asked for (an error when none is in the log),
    else train and eval (else whatever the log has)."""
    present = [s for s in SPLIT_ORDER if s in have]
    if splits is None:
        return [s for s in ("train", "eval") if s in present] or present
    chosen = [s for s in splits if s in present]
    if not chosen:
        raise errors.InputError(
            f"no {'/'.join(splits)} values of {metric!r} in the log",
            source=source,
            hint="splits found: " + ", ".join(present),
        )
    return chosen


def _runs_to_draw(source: str, counts: dict[int, int]) -> list[int]:
    """The runs to draw, given each run's number of points: all of them, or only the longest
    when there are more than a terminal chart can keep apart (as diagnose picks), with a note."""
    from lossctl.output import note

    runs = sorted(counts)
    if len(runs) > MAX_RUNS_DRAWN:
        most = max(counts.values())
        longest = min(r for r, n in counts.items() if n == most)
        note(f"{source}: {len(runs)} runs (the step counter restarts); drawing run {longest}, the longest — "
             "--run N draws another")
        return [longest]
    if len(runs) > 1:
        note(f"{source}: {len(runs)} runs (the step counter restarts); each is drawn as a series, "
             "--run N draws one")
    return runs


def _curve(step, epoch, value, file_label: str | None, run: int | None, split: str) -> Curve:
    """One plotted series: on the epoch axis when the steps say nothing more (none finite,
    or equal to the epochs), else on the step axis; sorted by x (stable)."""
    import numpy as np

    use_epoch = not np.isfinite(step).any() or (np.isfinite(epoch).all() and np.array_equal(step, epoch))
    x = epoch if use_epoch else step
    order = np.argsort(x, kind="stable")
    label = " ".join(b for b in (file_label, f"run {run}" if run is not None else None, split) if b)
    return Curve(label, x[order], value[order], epoch[order], bool(use_epoch))


def read_curves(path: str, *, metric: str, splits: list[str] | None, file_label: str | None,
                run: int | None = None, log_format: str | None = None) -> list[Curve]:
    """:func:`select_curves` of one log read as a stream: only the points of ``metric``
    are kept (compact arrays, bounded memory), not a table of every record. Same
    curves, notes and errors as ``select_curves(parse_log(path, run=run), ...)``."""
    from lossctl.logs.curveset import load_curves

    source = _label_for(path) if path == "-" else path

    def group(split: str, m: str, name: str):
        return split if (m == metric or name == metric) else None

    from lossctl.logs.tidy import canonical

    # a record named like ``metric`` has it as its canonical metric too: the names are not needed
    by_name = canonical(metric)[1] != metric
    cs = load_curves(path, group=group, log_format=log_format, run=run, by_name=by_name)
    if cs.n_records == 0:
        raise errors.InputError("no records in the log", source=source)
    if not cs.series:
        _no_metric(metric, set(cs.metrics), source)
    chosen = _splits_to_draw(metric, {split for (_, split) in cs.series}, splits, source)
    counts: dict[int, int] = {}
    for (r, _), s in cs.series.items():
        counts[r] = counts.get(r, 0) + len(s)
    runs = _runs_to_draw(source, counts)
    curves = []
    for r in runs:
        for split in chosen:
            s = cs.get(r, split)
            if s is None or not len(s):
                continue
            step, epoch, value = s.arrays()
            curves.append(_curve(step, epoch, value, file_label, r if len(runs) > 1 else None, split))
    return curves


def _whole_epochs(c: Curve) -> bool:
    e = c.epochs
    return bool(e.size and np.isfinite(e).all() and np.all(e == np.round(e)) and np.all(np.diff(e) > 0))


def _title(metric: str) -> str:
    return metric[:1].upper() + metric[1:]


def build_charts(
    curves: list[Curve],
    *,
    metric: str,
    kind: str = "auto",
    width: int | None = None,
    height: int | None = None,
    smooth: float | None = None,
    logy: bool | None = None,
    glyphs: str = "braille",
) -> list:
    """Renderables for ``curves``: one line chart, or one bar chart / sparkline row
    per curve (with the curve's name above each bar chart when there are several)."""
    if kind not in KINDS:
        raise errors.UsageError(f"unknown --kind {kind!r}", hint="choose one of: " + ", ".join(KINDS))
    if glyphs not in GLYPHS:
        raise errors.UsageError(f"unknown --glyphs {glyphs!r}", hint="choose one of: " + ", ".join(GLYPHS))
    if kind == "auto":
        kind = "bar" if len(curves) == 1 and curves[0].y.size <= BAR_MAX_POINTS else "line"
    ascii = glyphs == "ascii"
    name = _title(metric)
    if kind == "line":
        x_label = "Epoch" if all(c.x_is_epoch for c in curves) else "Step"
        series = [Series(c.x, c.y, c.label) for c in curves]
        return [LineChart(series, width=width, height=height, logy=logy, glyphs=glyphs, smooth=smooth,
                          x_label=x_label, y_label=name)]
    if kind == "bar":
        from rich.text import Text

        out = []
        for i, c in enumerate(curves):
            if len(curves) > 1:
                out.append(Text(("\n" if i else "") + c.label, style="bold"))
            if _whole_epochs(c):
                chart = BarChart.from_points(c.epochs, c.y, x_name="Epoch", max_rows=height or BAR_MAX_POINTS,
                                             name=name, width=width, ascii=ascii)
            else:
                chart = BarChart.from_points(c.x, c.y, x_name="Epoch" if c.x_is_epoch else "Step",
                                             max_rows=height or BAR_MAX_POINTS, name=name, width=width, ascii=ascii)
            out.append(chart)
        return out
    return [SparkRows(curves, width=width, ascii=ascii)]


class SparkRows:
    """One line per curve: ``name  ▇▅▃▂▁  first → last (min m)`` (a rich renderable)."""

    def __init__(self, curves: list[Curve], width: int | None = None, ascii: bool = False) -> None:
        self.curves = curves
        self.width = width
        self.ascii = ascii

    def _summary(self, c: Curve, ascii: bool) -> str:
        fin = c.y[np.isfinite(c.y)]
        if not fin.size:
            return "no finite value"
        arrow = "->" if ascii else "→"
        s = f"{format_value(fin[0], 4)} {arrow} {format_value(fin[-1], 4)}  min {format_value(fin.min(), 4)}"
        bad = c.y.size - fin.size
        return s + (f"  {bad} nan/inf" if bad else "")

    def rows(self, width: int, ascii: bool | None = None) -> list[str]:
        ascii = self.ascii if ascii is None else ascii
        names = [c.label for c in self.curves]
        sums = [self._summary(c, ascii) for c in self.curves]
        from rich.cells import cell_len

        nw = max(cell_len(n) for n in names)
        sw = max(len(s) for s in sums)
        room = max(1, width - nw - sw - 4)
        sparks = [Sparkline(c.y, width=min(room, max(1, c.y.size)), ascii=ascii, style=None).text()
                  for c in self.curves]
        kw = max(len(k) for k in sparks)
        rows = []
        for n, k, s in zip(names, sparks, sums):
            row = n + " " * (nw - cell_len(n)) + "  " + k.ljust(kw) + "  " + s
            while cell_len(row) > width:
                row = row[:-1]
            rows.append(row.rstrip())
        return rows

    def to_text(self, width: int | None = None) -> str:
        return "".join(r + "\n" for r in self.rows(width or self.width or 80))

    def __rich_console__(self, console, options):
        from rich.text import Text

        w = options.max_width if self.width is None else min(self.width, options.max_width)
        for r in self.rows(w, self.ascii or bool(options.ascii_only)):
            yield Text(r, no_wrap=True, overflow="crop")


def show(renderables, *, stderr: bool = False, width: int | None = None) -> None:
    """Print charts with lossctl's colour and width rules (stdout, or stderr when the
    command's product is data on stdout)."""
    from lossctl.output import console

    con = console(stderr=stderr, width=width)
    for r in renderables:
        con.print(r, soft_wrap=False, overflow="crop", crop=True)


def plot_logs(
    files: Sequence[str],
    *,
    metric: str = "loss",
    splits: list[str] | None = None,
    kind: str = "auto",
    width: int | None = None,
    height: int | None = None,
    smooth: float | None = None,
    logy: bool | None = None,
    glyphs: str = "braille",
    run: int | None = None,
    log_format: str | None = None,
) -> list:
    """Read every file and return the renderables ``lossctl plot`` prints (only the
    points of ``metric`` are kept in memory: :func:`read_curves`)."""
    if not files:
        raise errors.UsageError("which log? give one or more FILEs, or - for stdin",
                                hint="run 'lossctl plot --help' for examples")
    if list(files).count("-") > 1:
        raise errors.UsageError("'-' (stdin) can be given only once")
    labels = _unique_labels(files) if len(files) > 1 else [None]
    curves: list[Curve] = []
    for path, label in zip(files, labels):
        curves.extend(read_curves(path, metric=metric, splits=splits, file_label=label, run=run,
                                  log_format=log_format))
    if not curves:  # pragma: no cover - select_curves raises first
        raise errors.InputError(f"nothing to plot for {metric!r}")
    from lossctl.output import warn

    for c in curves:
        bad = int(np.sum(~np.isfinite(c.y)))
        if bad:
            warn(f"{c.label} {metric}: {bad} NaN/inf value{'s are' if bad > 1 else ' is'} not drawn "
                 "(a gap marked ! on a line chart, 'nan' on a bar chart)")
        if logy and np.any(c.y[np.isfinite(c.y)] <= 0):
            n = int(np.sum(c.y[np.isfinite(c.y)] <= 0))
            warn(f"{c.label} {metric}: {n} value{'s' if n > 1 else ''} <= 0 cannot be drawn on a log axis")
    return build_charts(curves, metric=metric, kind=kind, width=width, height=height, smooth=smooth,
                        logy=logy, glyphs=glyphs)
