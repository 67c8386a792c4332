"""The curves a command needs from a log, read as a stream into compact arrays.

``lossctl diagnose`` and ``lossctl plot`` need a few series (the losses, the learning
rate, the gradient norm), not a table of every record. :func:`load_curves` streams
the log's records (:func:`lossctl.logs.iter_records`: the same format detection,
step numbering, run splitting and de-duplication as :func:`lossctl.logs.parse_log`)
and keeps, for the series a ``group`` function asks for, only ``step``, ``epoch`` and
``value`` as ``array('d')`` (24 bytes a point), plus what is needed to rebuild
exactly what a whole DataFrame would give:

- per run: how many records it has (the row index of a record), whether any step /
  any epoch is finite (the x axis diagnose uses), and which (split, metric) pairs
  occur at all (which loss diagnose picks);
- per kept point whose step is not finite: the last finite step and epoch before it
  in file order and its row index (what a forward fill over the whole table gives);
- optionally (``ordered``) the row index of every point of a series, to merge
  several series in file order.

The result (:class:`CurveSet`) has the ``attrs`` of ``parse_log``'s frame (format,
hparams, summary, skipped lines, notes, source) and the series as numpy arrays.

De-duplication is exact as in ``parse_log``: a look-back window of records
(``WINDOW``); in the rare case of a duplicate further back than that (the window's
``late_duplicates``), the log is read again with a window 8 times longer, and if that
is still not enough, a last time without limit (holding every record, as
``parse_log`` does then). A log from stdin or
a pipe, which cannot be read twice, is copied to a temporary file (``TMPDIR``) as it
is read, for that second reading (deleted at the end).
"""

from __future__ import annotations

import io
import os
from array import array
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable

from lossctl.errors import InputError
from lossctl.logs import reader

__all__ = ["load_curves", "CurveSet", "SeriesData", "RunInfo"]

WINDOW = 50_000  # as lossctl.logs.PARSE_LOG_WINDOW

Group = Callable[[str, str, str], Hashable]


class SeriesData:
    """One series (a run and a label chosen by ``group``): points in file order."""

    __slots__ = ("run", "label", "step", "epoch", "value", "seq", "nf_pos", "nf_step", "nf_epoch", "nf_seq")

    def __init__(self, run: int, label: Hashable, ordered: bool) -> None:
        self.run = run
        self.label = label
        self.step = array("d")
        self.epoch = array("d")
        self.value = array("d")
        self.seq = array("q") if ordered else None
        # points whose step is not finite (NaN, inf, none): position in this series,
        # the last finite step / epoch of the run so far (0.0 when none), row index
        self.nf_pos = array("q")
        self.nf_step = array("d")
        self.nf_epoch = array("d")
        self.nf_seq = array("q")

    def __len__(self) -> int:
        return len(self.value)

    def arrays(self):
        """``(step, epoch, value)`` as float64 numpy arrays (views, no copy)."""
        return _np(self.step), _np(self.epoch), _np(self.value)

    def rows(self, first_seq: int):
        """Row index of every point within its run (needs ``ordered``)."""
        import numpy as np

        if self.seq is None:
            raise ValueError("series was read without its row order (ordered=False)")
        return np.frombuffer(self.seq, dtype=np.int64) - first_seq if len(self.seq) else np.zeros(0, np.int64)


class RunInfo:
    """What is known about one run: its rows, finite coordinates, (split, metric) pairs."""

    __slots__ = ("run", "first_seq", "rows", "any_step", "any_epoch", "present")

    def __init__(self, run: int, first_seq: int) -> None:
        self.run = run
        self.first_seq = first_seq
        self.rows = 0
        self.any_step = False
        self.any_epoch = False
        self.present: dict[tuple[str, str], None] = {}

    def axis(self) -> str:
        """``step`` when any step is finite, else ``epoch`` when any epoch is, else ``index``."""
        return "step" if self.any_step else "epoch" if self.any_epoch else "index"


class CurveSet:
    """The series kept from one log (see the module docstring)."""

    def __init__(self) -> None:
        self.attrs: dict[str, Any] = {}
        self.n_records = 0
        self.metrics: dict[str, None] = {}  # every canonical metric, first-seen order
        self.runs: dict[int, RunInfo] = {}
        self.series: dict[tuple[int, Hashable], SeriesData] = {}

    # convenient views of attrs
    @property
    def format(self) -> str | None:
        return self.attrs.get("format")

    @property
    def hparams(self) -> dict[str, Any]:
        return self.attrs.get("hparams", {})

    @property
    def skipped(self) -> int:
        return int(self.attrs.get("skipped") or 0)

    @property
    def notes(self) -> list[str]:
        return self.attrs.get("notes", [])

    def run_ids(self) -> list[int]:
        return sorted(self.runs)

    def get(self, run: int, label: Hashable) -> SeriesData | None:
        return self.series.get((run, label))

    def x(self, s: SeriesData, axis: str | None = None):
        """The x of every point of ``s`` as diagnose places it (``curves_from_frame``):
        on the run's axis, with a point that has no finite position put at the last
        finite one before it in file order (0.0 when there is none). May be a view of
        the series' own step array (do not write to it)."""
        import numpy as np

        info = self.runs[s.run]
        axis = axis or info.axis()
        step, epoch, _ = s.arrays()
        pos = np.frombuffer(s.nf_pos, dtype=np.int64) if len(s.nf_pos) else np.zeros(0, np.int64)
        if axis == "step":
            if not pos.size:
                return step  # a view: no copy
            x = step.copy()
            x[pos] = _np(s.nf_step)
            return x
        # no finite step in the run: every point is in the nf_* arrays, in order
        if axis == "epoch":
            return _np(s.nf_epoch).copy()
        return (np.frombuffer(s.nf_seq, dtype=np.int64) - info.first_seq).astype(np.float64) if len(s.nf_seq) \
            else np.zeros(0)

    # -- reading -----------------------------------------------------------
    def _consume(self, stream: Iterable, group: Group, ordered: Callable[[Hashable], bool]) -> None:
        nan = float("nan")
        series = self.series
        runs = self.runs
        metrics = self.metrics
        labels: dict[tuple[str, str, str], Hashable] = {}
        slots: dict[tuple, tuple | None] = {}
        saved: dict[int, tuple] = {}  # last finite step/epoch of runs left
        start = 0
        seq = 0
        cur_run: object = object()
        info: RunInfo | None = None
        last_step = last_epoch = None
        for r in stream:
            run = r.run
            if run != cur_run:
                if info is not None:
                    info.rows += seq - start
                    info.any_step = info.any_step or last_step is not None
                    info.any_epoch = info.any_epoch or last_epoch is not None
                    saved[info.run] = (last_step, last_epoch)
                info = runs.get(run)
                if info is None:
                    info = runs[run] = RunInfo(run, seq)
                    last_step = last_epoch = None
                else:  # a run seen before (runs are contiguous in practice)
                    last_step, last_epoch = saved.get(run, (None, None))
                start = seq
                cur_run = run
            step = r.step
            fin = step is not None and step - step == 0.0  # not None, NaN or ±inf
            if fin:
                last_step = step
            ep = r.epoch
            if ep is not None and ep - ep == 0.0:
                last_epoch = ep
            key = (run, r.split, r.metric, r.name)
            slot = slots.get(key, _MISSING)
            if slot is _MISSING:
                tri = (r.split, r.metric, r.name)
                metrics.setdefault(r.metric, None)
                info.present.setdefault((r.split, r.metric), None)
                label = labels[tri] if tri in labels else labels.setdefault(tri, group(*tri))
                if label is None:
                    slot = None
                else:
                    s = series.get((run, label))
                    if s is None:
                        s = series[(run, label)] = SeriesData(run, label, bool(ordered(label)))
                    slot = (s.step.append, s.epoch.append, s.value.append,
                            s.seq.append if s.seq is not None else None, s)
                slots[key] = slot
            if slot is not None:
                sa, ea, va, qa, s = slot
                if not fin:
                    s.nf_pos.append(len(s.value))
                    s.nf_step.append(0.0 if last_step is None else last_step)
                    s.nf_epoch.append(0.0 if last_epoch is None else last_epoch)
                    s.nf_seq.append(seq)
                sa(nan if step is None else step)
                ea(nan if ep is None else ep)
                va(r.value)
                if qa is not None:
                    qa(seq)
            seq += 1
        if info is not None:
            info.rows += seq - start
            info.any_step = info.any_step or last_step is not None
            info.any_epoch = info.any_epoch or last_epoch is not None
        self.n_records = seq


_MISSING = object()


def _np(arr):
    import numpy as np

    return np.frombuffer(arr, dtype=np.float64) if len(arr) else np.zeros(0)


def _keep_all(split: str, metric: str, name: str) -> Hashable:
    return (split, metric)


def _never(label: Hashable) -> bool:
    return False


def load_curves(source, *, group: Group | None = None, ordered: Callable[[Hashable], bool] | None = None,
                log_format: str | None = None, run: int | None = None, by_name: bool = True) -> CurveSet:
    """Read ``source`` (a path, ``"-"``, a file object or log text, as :func:`parse_log`)
    into a :class:`CurveSet`.

    ``group(split, metric, name)`` says which series a record goes to: a label
    (any hashable) or None to keep only its count and coordinates; it is called once
    per distinct triple. Default: one series per (split, metric). ``ordered(label)``:
    keep the row index of every point of that series (to merge series in file order).
    ``run``: only that run (as ``parse_log(run=)``). ``by_name=False`` says that ``group``
    does not look at the original name: a big Hugging Face console log is then read
    through the fast CSV path (:class:`_FastSink`), which has only the canonical names.
    """
    from lossctl.logs import RecordStream, stream_attrs

    group = group or _keep_all
    ordered = ordered or _never
    src = reader.open_source(source)
    copy = None
    try:
        if src.path is None and src._data is None:
            src, copy = _teed(src)
        for window in (WINDOW, WINDOW * 8, None):
            cs = CurveSet()
            stream = RecordStream(src, log_format=log_format, run=run, window=window)
            if not by_name and copy is None and window == WINDOW:
                fast = _fast_curves(stream, group, ordered, run)
                if fast is not None:
                    return fast
            cs._consume(stream, group, ordered)
            if not stream.ctx.__dict__.get("late_duplicates"):
                break  # no step came back after it left the window: exact
            # a step logged again further back than the window: read again with a
            # longer one (then without limit, holding every record, as parse_log does)
            if copy is not None:
                src = reader.LogSource(src.name, path=copy.complete(src.name))
            else:
                src = reader.LogSource(src.name, path=src.path, data=src._data)
        cs.attrs = stream_attrs(stream)
        return cs
    finally:
        if copy is not None:
            copy.close()
            try:
                os.unlink(copy.name)
            except OSError:
                pass


class _Tee(io.RawIOBase):
    """Reads a stream and writes what it read to ``copy`` (a temporary file)."""

    def __init__(self, stream, copy, owned: bool) -> None:
        self._s = stream
        self._copy = copy
        self._owned = owned
        self._failed: OSError | None = None

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._owned and not self.closed:
            self._s.close()  # a FIFO lossctl opened itself (stdin stays open)
        super().close()

    def readinto(self, b) -> int:
        data = self._s.read(len(b))
        if not data:
            return 0
        if self._failed is None:
            try:
                self._copy.write(data)
            except OSError as e:  # the temporary directory is full: said if the copy is needed
                self._failed = e
        n = len(data)
        b[:n] = data
        return n


def _teed(src: reader.LogSource):
    """A stream (stdin, a pipe) that cannot be read twice: read it through a copy to a
    temporary file (``TMPDIR``), bytes as they come (still compressed), only as far as
    the reader goes, so that a second, exact reading is possible. The source keeps its
    name (``<stdin>``)."""
    import tempfile

    copy = tempfile.NamedTemporaryFile(prefix="lossctl-", suffix=".log", delete=False)
    tee = _Tee(src._stream, copy, src._owns)
    return reader.LogSource(src.name, stream=io.BufferedReader(tee), owns_stream=True), _Copy(copy, tee)


class _Copy:
    """The temporary copy of a stream: its path, closing, and whether it is complete."""

    def __init__(self, fh, tee: _Tee) -> None:
        self.fh = fh
        self.tee = tee
        self.name = fh.name

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()

    def complete(self, source: str) -> Path:
        """The copy's path, once the stream was read to its end (InputError when it
        could not be written)."""
        self.close()
        e = self.tee._failed
        if e is not None:
            raise InputError(f"cannot keep a copy of the log in {os.path.dirname(self.name)}: {e.strerror or e}",
                             source=source, hint="give the log as a file, or set TMPDIR to a directory with room")
        return Path(self.name)


# ---------------------------------------------------------------- big Hugging Face logs

FAST_PARSE_CHARS = 8 << 20  # CSV text parsed into the arrays this many characters at a time


class _FastSink:
    """Receives the long CSV that :mod:`lossctl.logs.fastpath` writes for a Hugging Face
    console log (the same rows, in the same order, as the record path: tests hold the two
    equal) and fills a :class:`CurveSet` from it, a few MB of text at a time, with pandas'
    CSV parser: some ten times faster than a Record per value on a 1,000,000-step log.
    Every step there is finite (the fast path numbers the dicts itself)."""

    def __init__(self, cs: CurveSet, group: Group, ordered: Callable[[Hashable], bool]) -> None:
        self.cs, self.group, self.ordered = cs, group, ordered
        self.parts: list[str] = []
        self.size = 0
        self.header = True
        self.tail = ""
        self.labels: dict[tuple[str, str], Hashable] = {}

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= FAST_PARSE_CHARS:
            self._parse(final=False)
        return len(text)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._parse(final=True)

    def _parse(self, final: bool) -> None:
        text = self.tail + "".join(self.parts)
        self.parts, self.size = [], 0
        cut = len(text) if final else text.rfind("\n") + 1
        text, self.tail = text[:cut], text[cut:]
        if self.header:
            nl = text.find("\n")
            if nl < 0:
                self.tail = text + self.tail
                return
            text, self.header = text[nl + 1:], False
        if text.strip():
            self._rows(text)

    def _rows(self, text: str) -> None:
        import numpy as np
        import pandas as pd

        df = pd.read_csv(io.StringIO(text), header=None, names=["run", "step", "epoch", "split", "metric", "value"],
                         dtype={"run": np.int64, "step": np.float64, "epoch": np.float64, "split": str,
                                "metric": str, "value": np.float64},
                         keep_default_na=False, na_values={"epoch": ["", "nan"], "value": ["nan"]})
        cs = self.cs
        seq0 = cs.n_records
        runs = df["run"].to_numpy()  # numbered from 1, as the records
        epoch = df["epoch"].to_numpy()
        for run in pd.unique(runs):
            at = np.flatnonzero(runs == run)
            info = cs.runs.get(int(run))
            if info is None:
                info = cs.runs[int(run)] = RunInfo(int(run), seq0 + int(at[0]))
            info.rows += len(at)
            info.any_step = True
            info.any_epoch = info.any_epoch or bool(np.isfinite(epoch[at]).any())
        groups = df.groupby(["run", "split", "metric"], sort=False).indices
        for (run1, split, metric), idx in groups.items():
            run = int(run1)
            cs.metrics.setdefault(metric, None)
            cs.runs[run].present.setdefault((split, metric), None)
            key = (split, metric)
            label = self.labels[key] if key in self.labels else self.labels.setdefault(key, self.group(split, metric, metric))
            if label is None:
                continue
            s = cs.series.get((run, label))
            if s is None:
                s = cs.series[(run, label)] = SeriesData(run, label, bool(self.ordered(label)))
            s.step.frombytes(df["step"].to_numpy()[idx].tobytes())
            s.epoch.frombytes(epoch[idx].tobytes())
            s.value.frombytes(df["value"].to_numpy()[idx].tobytes())
            if s.seq is not None:
                s.seq.frombytes((idx.astype(np.int64) + seq0).tobytes())
        cs.n_records += len(df)


def _fast_curves(stream, group: Group, ordered: Callable[[Hashable], bool], run: int | None) -> CurveSet | None:
    """The CurveSet of a Hugging Face console log through the fast CSV path, or None when
    that path does not apply (the stream is then untouched)."""
    from lossctl.logs import fastpath, stream_attrs

    cs = CurveSet()
    sink = _FastSink(cs, group, ordered)
    if fastpath.run(stream, sink, run=run) is None:
        return None
    sink.close()
    cut = stream.src.truncation_note()
    if cut:
        stream.ctx.note(cut)
    cs.attrs = stream_attrs(stream)
    return cs
