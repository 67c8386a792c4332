"""Writing parsed records: long CSV/TSV/JSON/NDJSON, the per-series summary, wide rows.

Only the standard library is used on the streaming paths (no pandas): records are
written as they come, so ``lossctl parse huge.log --format csv`` keeps memory bounded.

``--format json`` is one object (:func:`write_document`): ``source`` and ``format``, then
``records`` written one by one, then what is known once the log is read: ``skipped_lines``,
``skipped`` (the first few, with line and reason), ``notes``, ``hparams``, ``summary``.
``--format ndjson`` is the bare record stream (one object per line, for pipelines).

Number formatting (the same in every output): steps as integers when whole,
floats with Python's shortest round-trip ``repr`` (``2.157``, ``4.8e-05``), NaN as
``nan`` and ±inf as ``inf``/``-inf`` in CSV/TSV; ``null`` for NaN/inf in JSON (JSON
has no NaN).
"""

from __future__ import annotations

import csv
import json
import math
from typing import IO, Any, Callable, Iterable, Iterator

from lossctl.logs.base import Record
from lossctl.logs.tidy import step_value

LONG_COLUMNS = ("run", "step", "epoch", "split", "metric", "value")


def fmt_float(v: float | None) -> str:
    if v is None:
        return ""
    if v != v:
        return "nan"
    return repr(v) if not isinstance(v, int) else str(v)


def fmt_step(v: float | None) -> str:
    if v is None:
        return ""
    if v == v and v not in (math.inf, -math.inf) and v == int(v):
        return str(int(v))
    return fmt_float(v)


def _quote(s: str, sep: str) -> str:
    if sep in s or '"' in s or "\n" in s or "\r" in s:
        return '"' + s.replace('"', '""') + '"'
    return s


def write_long_delimited(records: Iterable[Record], out: IO[str], sep: str = ",",
                         flush_every: int = 0) -> int:
    """Long records as CSV/TSV; returns the number of rows written."""
    out.write(sep.join(LONG_COLUMNS) + "\n")
    n = 0
    buf: list[str] = []
    names: dict[tuple[str, str], str] = {}
    for r in records:
        key = (r.split, r.metric)
        mid = names.get(key)
        if mid is None:
            mid = names[key] = f"{_quote(r.split, sep)}{sep}{_quote(r.metric, sep)}"
        buf.append(f"{r.run}{sep}{fmt_step(r.step)}{sep}{fmt_float(r.epoch)}{sep}{mid}{sep}{fmt_float(r.value)}\n")
        n += 1
        if len(buf) >= 4096 or flush_every:
            out.write("".join(buf))
            buf.clear()
            if flush_every:
                out.flush()
    if buf:
        out.write("".join(buf))
    return n


def _json_num(v: float | None):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return v


def record_obj(r: Record) -> dict[str, Any]:
    return {"run": r.run, "step": step_value(r.step) if r.step is None or math.isfinite(r.step) else None,
            "epoch": _json_num(r.epoch), "split": r.split, "metric": r.metric, "value": _json_num(r.value)}


def write_long_ndjson(records: Iterable[Record], out: IO[str], flush_every: int = 0) -> int:
    n = 0
    for r in records:
        out.write(json.dumps(record_obj(r), ensure_ascii=False))
        out.write("\n")
        n += 1
        if flush_every:
            out.flush()
    return n


def _dumps(obj: Any) -> str:
    from lossctl.output import dumps

    return dumps(obj)


def write_document(head: dict[str, Any], rows: Iterable[dict[str, Any]], tail: Callable[[], dict[str, Any]],
                   out: IO[str]) -> int:
    """One JSON object: the keys of ``head``, then ``"records"`` (a list written row by row,
    one per line, so memory stays bounded whatever the size of the log), then the keys
    ``tail()`` returns (called once the rows are written: skipped lines, notes, ...).
    NaN and ±inf are ``null``. Returns the number of rows."""
    out.write("{\n")
    for k, v in head.items():
        out.write(f"  {json.dumps(k)}: {_dumps(v)},\n")
    out.write('  "records": [')
    n = 0
    for row in rows:
        out.write(",\n    " if n else "\n    ")
        out.write(json.dumps(row, ensure_ascii=False))
        n += 1
    out.write("\n  ]" if n else "]")
    for k, v in tail().items():
        out.write(f",\n  {json.dumps(k)}: {_dumps(v)}")
    out.write("\n}\n")
    return n


def write_long_json(records: Iterable[Record], out: IO[str], head: dict[str, Any] | None = None,
                    tail: Callable[[], dict[str, Any]] | None = None) -> int:
    """``{...head, "records": [record, ...], ...tail()}`` (see :func:`write_document`)."""
    return write_document(head or {}, (record_obj(r) for r in records), tail or dict, out)


def write_long(records: Iterable[Record], fmt: str, out: IO[str], flush_every: int = 0,
               head: dict[str, Any] | None = None, tail: Callable[[], dict[str, Any]] | None = None) -> int:
    """Long records in ``fmt``; ``head``/``tail`` are the keys around ``"records"`` in JSON."""
    if fmt == "csv":
        return write_long_delimited(records, out, ",", flush_every)
    if fmt == "tsv":
        return write_long_delimited(records, out, "\t", flush_every)
    if fmt == "ndjson":
        return write_long_ndjson(records, out, flush_every)
    if fmt == "json":
        return write_long_json(records, out, head, tail)
    raise ValueError(fmt)


def filter_records(records: Iterable[Record], metrics: list[str] | None, splits: list[str] | None) -> Iterator[Record]:
    """Keep records whose canonical metric or original name is in ``metrics`` and split in ``splits``."""
    if not metrics and not splits:
        yield from records
        return
    mset = set(metrics or ())
    sset = set(splits or ())
    for r in records:
        if sset and r.split not in sset:
            continue
        if mset and r.metric not in mset and r.name not in mset:
            continue
        yield r


class SeriesSummary:
    """Per series (run, split, metric): points, NaN count, first, last, min and max with
    their steps, and the best (the max for metrics where higher is better, see
    :func:`lossctl.logs.tidy.higher_is_better`; the min otherwise) with its step.
    Memory: one small dict per series."""

    def __init__(self) -> None:
        self.series: dict[tuple, dict[str, Any]] = {}

    def add(self, run: int, split: str, metric: str, step, v: float) -> None:
        key = (run, split, metric)
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = {"run": int(run), "split": split, "metric": metric, "points": 0, "nan": 0,
                                    "first": v, "last": v, "min": None, "min_step": None,
                                    "max": None, "max_step": None}
        s["points"] += 1
        s["last"] = v
        if v != v:
            s["nan"] += 1
            return
        if s["min"] is None or v < s["min"]:
            s["min"] = v
            s["min_step"] = step
        if s["max"] is None or v > s["max"]:
            s["max"] = v
            s["max_step"] = step

    def rows(self) -> list[dict[str, Any]]:
        from lossctl.logs.tidy import higher_is_better

        out = []
        for s in self.series.values():
            by = "max" if higher_is_better(s["metric"]) else "min"
            out.append({**s, "best": s[by], "best_step": s[f"{by}_step"], "best_is": by})
        return out


def summarize_records(records: Iterable[Record]) -> list[dict[str, Any]]:
    """:class:`SeriesSummary` rows of ``records`` (first-seen order)."""
    summary = SeriesSummary()
    add = summary.add
    for r in records:
        add(r.run, r.split, r.metric, step_value(r.step), r.value)
    return summary.rows()


class SummarySink:
    """A text sink for long CSV rows (``run,step,epoch,split,metric,value``) that keeps
    only the per-series summary: used to summarise big logs from the fast CSV path."""

    def __init__(self, sep: str = ",") -> None:
        self.sep = sep
        self.summary = SeriesSummary()
        self.header = True
        self.rest = ""

    def write(self, text: str) -> int:
        data = self.rest + text
        cut = data.rfind("\n") + 1
        self.rest = data[cut:]
        lines = data[:cut].split("\n")
        lines.pop()
        if self.header and lines:
            lines = lines[1:]
            self.header = False
        rows = csv.reader(lines, delimiter=self.sep) if '"' in data else (ln.split(self.sep) for ln in lines)
        add = self.summary.add
        for run, step, _epoch, split, metric, value in rows:
            add(int(run), split, metric,
                int(step) if step.lstrip("-").isdigit() else (float(step) if step else None), float(value))
        return len(text)

    def flush(self) -> None:
        pass

    def rows(self) -> list[dict[str, Any]]:
        return self.summary.rows()


SUMMARY_COLUMNS = ("run", "split", "metric", "points", "nan", "first", "last", "best", "best_step")


def wide_rows(df) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per (run, step) with a column per ``split/metric`` (first-seen order).

    A cell is empty when that series has no record at that step, and ``nan`` when the
    log says NaN. Rows are sorted by run, then step.
    """
    order: dict[str, None] = {}
    table: dict[tuple, dict[str, Any]] = {}
    for run, step, epoch, split, metric, value in zip(df["run"], df["step"], df["epoch"], df["split"],
                                                       df["metric"], df["value"]):
        col = f"{split}/{metric}"
        order.setdefault(col, None)
        step_v = None if step != step else float(step)
        key = (int(run), step_v)
        row = table.get(key)
        if row is None:
            row = table[key] = {"run": int(run), "step": step_value(step_v), "epoch": None}
        if epoch == epoch and epoch is not None and row["epoch"] is None:
            row["epoch"] = float(epoch)
        row[col] = float(value)
    keys = sorted(table, key=lambda k: (k[0], math.inf if k[1] is None else k[1]))
    return ["run", "step", "epoch"] + list(order), [table[k] for k in keys]


def write_wide(cols: list[str], rows: list[dict[str, Any]], fmt: str, out: IO[str],
               head: dict[str, Any] | None = None, tail: Callable[[], dict[str, Any]] | None = None) -> None:
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        out.write(sep.join(_quote(c, sep) for c in cols) + "\n")
        for row in rows:
            cells = []
            for c in cols:
                v = row.get(c)
                if c == "step":
                    cells.append(fmt_step(v))
                elif isinstance(v, float):
                    cells.append(fmt_float(v))
                else:
                    cells.append("" if v is None else str(v))
            out.write(sep.join(cells) + "\n")
        return
    safe = ({c: (_json_num(row.get(c)) if isinstance(row.get(c), float) else row.get(c)) for c in cols}
            for row in rows)
    if fmt == "ndjson":
        for obj in safe:
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    else:
        write_document(head or {}, safe, tail or dict, out)
