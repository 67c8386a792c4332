"""Training logs of any common framework → one tidy table.

Python API::

    from lossctl.logs import parse_log, iter_records, detect_format, list_formats

    df = parse_log("train.log")            # pandas DataFrame, columns base.COLUMNS
    df.attrs["format"], df.attrs["hparams"], df.attrs["notes"], df.attrs["skipped"]

    stream = iter_records("huge.log.gz")    # lazy: memory bounded, no pandas
    for rec in stream: ...                 # base.Record objects (run, step, split, ...)
    stream.format, stream.ctx.notes        # known once iteration started / ended

How a file is read (see ``base.py`` for the format-module contract):

- the source is opened by :mod:`lossctl.logs.reader` (gz/bz2/xz, encodings, stdin,
  Git LFS pointers);
- the format is detected from a cleaned sample of the *content* (first ~64 KiB,
  progress-bar frames left out) by every registered module's ``detect()``, or forced
  with ``log_format``;
- a ``KIND = "lines"`` module's ``parse(lines, ctx)`` gets cleaned logical lines
  (``str``) lazily; while it handles one, ``ctx.lineno`` is that line's 1-based
  physical line number. A ``"document"`` module gets the whole text. A ``"binary"``
  module (TensorBoard) gets the :class:`~lossctl.logs.reader.LogSource`;
- records then go through :func:`lossctl.logs.tidy.postprocess` (step numbering,
  runs, duplicates).

A log with no loss at all is an :class:`~lossctl.errors.InputError` (exit 2) that
lists the metrics that were found.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Iterator

from lossctl.errors import InputError, UsageError
from lossctl.logs import reader, registry, tidy
from lossctl.logs.base import COLUMNS, ParseContext, Record

__all__ = [
    "parse_log", "iter_records", "detect_format", "list_formats", "records_to_rows",
    "summarize", "RecordStream", "COLUMNS", "LONG_COLUMNS",
]

# the columns of `lossctl parse` long output
LONG_COLUMNS = ("run", "step", "epoch", "split", "metric", "value")
MIN_SCORE = 0.2
PARSE_LOG_WINDOW = 50_000  # records parse_log looks back over for duplicates before a second pass

_modules: list[ModuleType] | None = None


def format_modules() -> list[ModuleType]:
    """The registered format modules that exist (registry order)."""
    global _modules
    if _modules is None:
        try:
            _modules = registry.modules()
        except ModuleNotFoundError:
            # a module listed in the registry is not written yet: load the others
            mods = []
            for name in registry.FORMAT_MODULES:
                try:
                    mods.append(importlib.import_module(f"lossctl.logs.{name}"))
                except ModuleNotFoundError as e:
                    if e.name != f"lossctl.logs.{name}":
                        raise
            _modules = mods
    return _modules


def _by_name() -> dict[str, ModuleType]:
    return {m.NAME: m for m in format_modules()}


def list_formats() -> list[dict[str, str]]:
    """name, description, example line and kind of every format, registry order."""
    return [
        {"name": m.NAME, "description": m.DESCRIPTION, "example": m.EXAMPLE, "kind": m.KIND}
        for m in format_modules()
    ]


def detect_format(sample: str) -> tuple[str | None, float]:
    """``(name, score)`` of the format whose ``detect()`` scores ``sample`` highest.

    Ties go to the module listed first in the registry. ``(None, 0.0)`` when nothing
    scores at least ``MIN_SCORE``.
    """
    best, best_score = None, 0.0
    for mod in format_modules():
        try:
            score = float(mod.detect(sample))
        except Exception:  # a detector must never break detection of the others
            score = 0.0
        if score > best_score:
            best, best_score = mod.NAME, score
    if best_score < MIN_SCORE:
        return None, best_score
    return best, best_score


def get_format(name: str) -> ModuleType:
    by = _by_name()
    key = name.strip().lower().replace("_", "-")
    for n, m in by.items():
        if n.lower().replace("_", "-") == key:
            return m
    raise UsageError(
        f"unknown --log-format {name!r}",
        hint="choose one of: " + ", ".join(by) + " (see lossctl parse --list-formats)",
    )


class RecordStream:
    """Iterable of tidy :class:`Record` objects from one log, plus what was learnt.

    A "loss" is any metric :func:`lossctl.logs.tidy.is_loss` accepts (``loss``,
    ``box_loss``, ``nll_loss``, ...). Attributes: ``source`` (display name), ``format`` (module NAME), ``score``
    (detection score, 1.0 when forced), ``ctx`` (:class:`ParseContext`: skipped lines,
    hparams, notes). Iterate once. Raises :class:`InputError` at the end when no loss
    was found (records of other metrics are held back until the first loss appears,
    up to ``window`` of them, so output rarely starts before that error).
    """

    def __init__(self, source, *, log_format: str | None = None, run: int | None = None,
                 window: int | None = 50_000, require_loss: bool = True) -> None:
        self.src = reader.open_source(source)
        self.source = self.src.name
        self.ctx = ParseContext(source=self.source)
        self.ctx.lineno = 0  # type: ignore[attr-defined]
        self.run = run
        self.window = window
        self.require_loss = require_loss
        self.metrics_seen: dict[str, None] = {}
        self.loss_seen = False
        self.count = 0
        if log_format:
            self.module = get_format(log_format)
            self.score = 1.0
        else:
            self.module, self.score = self._detect()
        self.format = self.module.NAME

    def _detect(self) -> tuple[ModuleType, float]:
        sample = reader.sample_text(self.src)
        name, score = detect_format(sample)
        if name is None:
            if self.src.path is not None and "tfevents" in self.src.path.name and self.src.path.is_file():
                self._bad_event_file()
            if not sample.strip():
                if self.src.truncated is not None:
                    raise InputError(f"the {self.src.truncated[0]} stream ended unexpectedly, before the first "
                                     "complete line (truncated or corrupt file?)", source=self.source,
                                     hint="check it with '{} -t FILE'".format(
                                         {"bz2": "bzip2"}.get(self.src.truncated[0], self.src.truncated[0])))
                raise InputError("the log is empty", source=self.source)
            raise InputError(
                f"no loss values found in {self.source}; found metrics: none "
                "(no known training-log format was recognised)",
                hint="see `lossctl parse --list-formats`; force one with --log-format NAME",
            )
        return _by_name()[name], score

    def _bad_event_file(self) -> None:
        """A file named events.out.tfevents.* that is not one: say what is wrong with it."""
        from lossctl.logs import tensorboard

        try:
            with open(self.src.path, "rb") as fh:
                head = fh.read(1 << 16)
                size = fh.seek(0, 2)
        except OSError:
            return
        if size == 0:
            return  # "the log is empty"
        raise InputError(f"not a readable TensorBoard event file ({tensorboard.damage(head, size)})",
                         source=self.source,
                         hint="TensorBoard writes events.out.tfevents.* files; copy it again from the run's log directory")

    def raw_records(self) -> Iterator[Record]:
        mod, ctx = self.module, self.ctx
        kind = getattr(mod, "KIND", "lines")
        if kind == "document":
            return iter(mod.parse(reader.read_text(self.src), ctx))
        if kind == "binary":
            return iter(mod.parse(self.src, ctx))
        return iter(mod.parse(reader.iter_clean_lines(self.src, ctx), ctx))

    def __iter__(self) -> Iterator[Record]:
        stream = tidy.postprocess(self.raw_records(), self.ctx, run=self.run, window=self.window)
        held: list[Record] = []
        hold = self.require_loss
        limit = self.window or 50_000
        for rec in stream:
            self.count += 1
            if not self.loss_seen and tidy.is_loss(rec.metric):
                self.loss_seen = True
            elif not self.loss_seen and rec.name not in self.metrics_seen and len(self.metrics_seen) < 200:
                self.metrics_seen[rec.name] = None
            if hold:
                held.append(rec)
                if self.loss_seen or len(held) >= limit:
                    hold = False
                    yield from held
                    held = []
                continue
            yield rec
        cut = self.src.truncation_note()
        if cut:
            self.ctx.note(cut)
        if self.require_loss and not self.loss_seen:
            self._no_loss()
        yield from held

    def _no_loss(self) -> None:
        found = list(self.metrics_seen)
        if self.run is not None and self.count == 0:
            raise InputError(f"there is no run {self.run} in this log", source=self.source)
        what = ", ".join(found[:20]) + (f", ... ({len(found)} in all)" if len(found) > 20 else "")
        msg = f"no loss values found in {self.source}; found metrics: {what}" if found else (
            f"no loss values found in {self.source}; found no metrics either"
            f" (read as {self.format})"
        )
        hint = "check the file is a training log; force a format with --log-format NAME"
        if self.src.truncated is not None:
            hint = f"the {self.src.truncated[0]} stream ends early (truncated file?); " + hint
        raise InputError(msg, hint=hint)


def iter_records(source, *, log_format: str | None = None, run: int | None = None,
                 window: int | None = 50_000, require_loss: bool = True) -> RecordStream:
    """A lazy :class:`RecordStream` (memory bounded; used by ``lossctl parse``)."""
    return RecordStream(source, log_format=log_format, run=run, window=window, require_loss=require_loss)


def record_dict(rec: Record) -> dict[str, Any]:
    return {
        "run": rec.run,
        "step": tidy.step_value(rec.step),
        "epoch": rec.epoch,
        "split": rec.split,
        "metric": rec.metric,
        "value": rec.value,
        "name": rec.name,
        "time": rec.time,
        "line": rec.line,
    }


def records_to_rows(records) -> Iterator[dict[str, Any]]:
    for rec in records:
        yield record_dict(rec)


def parse_log(source, *, log_format: str | None = None, run: int | None = None):
    """Parse a training log into a pandas DataFrame (one row per observation).

    ``source``: a path, ``"-"`` (stdin), a file object or the raw text of a log.
    Columns: ``run, step, epoch, split, metric, value, name, time, line``.
    ``df.attrs``: ``format``, ``hparams`` (logging_steps, train_batch_size, ...),
    ``summary`` (run-level values such as HF's final mean ``train_loss``),
    ``skipped`` (count of unreadable lines), ``notes``, ``source``.
    Duplicates are resolved exactly (the last record of a step wins, at the place of
    the first).

    Memory: records are packed into typed arrays as they are read (about 60 bytes a
    record); de-duplication looks back over a window of records, and in the rare case
    of a duplicate further back than that, the file is read a second time with an
    unbounded window.
    """
    src = reader.open_source(source)
    rereadable = src.path is not None or src._data is not None
    stream = RecordStream(src, log_format=log_format, run=run, window=PARSE_LOG_WINDOW if rereadable else None)
    cols = _Columns()
    cols.extend(stream)
    if stream.ctx.__dict__.get("late_duplicates"):
        src = reader.open_source(source)
        stream = RecordStream(src, log_format=log_format, run=run, window=None)
        cols = _Columns()
        cols.extend(stream)
    df = cols.frame()
    df.attrs.update(stream_attrs(stream))
    return df


class _Columns:
    """Records packed column by column (typed arrays, string codes)."""

    def __init__(self) -> None:
        from array import array

        self.run = array("q")
        self.step = array("d")
        self.epoch = array("d")
        self.value = array("d")
        self.time = array("d")
        self.line = array("q")
        self.codes = {k: array("i") for k in ("split", "metric", "name")}
        self.cats: dict[str, dict[str, int]] = {k: {} for k in ("split", "metric", "name")}

    def extend(self, records) -> None:
        nan = float("nan")
        run, step, epoch, value, time_, line = self.run, self.step, self.epoch, self.value, self.time, self.line
        cs, cm, cn = self.codes["split"], self.codes["metric"], self.codes["name"]
        ks, km, kn = self.cats["split"], self.cats["metric"], self.cats["name"]
        for r in records:
            run.append(r.run)
            step.append(nan if r.step is None else r.step)
            epoch.append(nan if r.epoch is None else r.epoch)
            value.append(r.value)
            time_.append(nan if r.time is None else r.time)
            line.append(-1 if r.line is None else r.line)
            c = ks.get(r.split)
            if c is None:
                c = ks[r.split] = len(ks)
            cs.append(c)
            c = km.get(r.metric)
            if c is None:
                c = km[r.metric] = len(km)
            cm.append(c)
            c = kn.get(r.name)
            if c is None:
                c = kn[r.name] = len(kn)
            cn.append(c)

    def frame(self):
        import numpy as np
        import pandas as pd

        def strings(key: str):
            cats = list(self.cats[key])
            codes = np.frombuffer(self.codes[key], dtype=np.int32) if len(self.codes[key]) else np.zeros(0, np.int32)
            return pd.Categorical.from_codes(codes, categories=cats if cats else []).astype(str) if cats else \
                pd.array([], dtype=str)

        def floats(arr):
            return np.frombuffer(arr, dtype=np.float64).copy() if len(arr) else np.zeros(0)

        step = floats(self.step)
        if len(step) and not np.isnan(step).any() and np.all(step == np.floor(step)) and np.all(np.abs(step) < 2**62):
            step = step.astype(np.int64)
        line = np.frombuffer(self.line, dtype=np.int64) if len(self.line) else np.zeros(0, np.int64)
        data = {
            "run": (np.frombuffer(self.run, dtype=np.int64).copy() if len(self.run) else np.zeros(0, np.int64)),
            "step": step,
            "epoch": floats(self.epoch),
            "split": strings("split"),
            "metric": strings("metric"),
            "value": floats(self.value),
            "name": strings("name"),
            "time": floats(self.time),
            "line": pd.array(np.where(line < 0, 0, line), dtype="Int64"),
        }
        if len(line):
            data["line"][line < 0] = pd.NA
        return pd.DataFrame(data, columns=list(COLUMNS))


def stream_attrs(stream: RecordStream) -> dict[str, Any]:
    ctx = stream.ctx
    return {
        "format": stream.format,
        "hparams": dict(ctx.hparams),
        "summary": dict(ctx.__dict__.get("summary", {})),
        "skipped": ctx.skipped,
        "skipped_examples": list(ctx.skipped_examples),  # the first few (line, reason)
        "notes": list(ctx.notes),
        "source": stream.source,
    }


def summarize(records) -> list[dict[str, Any]]:
    """Per series (run, split, metric): points, first, last, min (and its step), NaN count."""
    import math

    series: dict[tuple, dict[str, Any]] = {}
    for rec in records:
        key = (rec.run, rec.split, rec.metric)
        s = series.get(key)
        v = rec.value
        if s is None:
            s = series[key] = {
                "run": rec.run, "split": rec.split, "metric": rec.metric, "points": 0,
                "first": v, "last": v, "min": None, "min_step": None, "nan": 0,
            }
        s["points"] += 1
        s["last"] = v
        if math.isnan(v):
            s["nan"] += 1
        elif s["min"] is None or v < s["min"]:
            s["min"] = v
            s["min_step"] = tidy.step_value(rec.step)
    return list(series.values())
