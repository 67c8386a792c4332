"""Output conventions shared by every command.

- Data goes to stdout, messages/warnings/progress to stderr.
- ``--format table|json|ndjson|csv|tsv``: the data format never depends on whether
  stdout is a terminal; only styling (colour) does.
- Colour is decided per stream: ``NO_COLOR`` (any non-empty value) wins, then
  ``FORCE_COLOR``, then ``TERM=dumb``, then whether that stream is a TTY.
- JSON: NaN and ±inf become ``null``; numpy scalars become Python numbers.

Only the standard library is imported at module level; rich is imported when a
console is asked for.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from typing import IO, Any, Iterable, Mapping, Sequence

FORMATS = ("table", "json", "ndjson", "csv", "tsv")


def color_enabled(stream: IO[str] | None) -> bool:
    """Whether to colour output written to ``stream`` (see module docstring)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def is_tty(stream: IO[str] | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def console(stderr: bool = False, width: int | None = None):
    """A rich Console for stdout (or stderr) with lossctl's colour rules.

    Rich markup and highlighting are off: log text such as ``[train]`` is data.
    """
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    color = color_enabled(stream)
    if width is None:
        cols = os.environ.get("COLUMNS")
        if cols and cols.isdigit():
            width = int(cols)
    return Console(
        file=stream,
        force_terminal=color,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        width=width,
        soft_wrap=False,
    )


# ---------------------------------------------------------------- messages (stderr)


def _emit(prefix: str, message: str, style: str | None) -> None:
    stream = sys.stderr
    if color_enabled(stream) and style:
        stream.write(f"\x1b[{style}mlossctl: {prefix}\x1b[0m {message}\n")
    else:
        stream.write(f"lossctl: {prefix} {message}\n")
    stream.flush()


def warn(message: str) -> None:
    """``lossctl: warning: ...`` on stderr."""
    _emit("warning:", message, "33")


def note(message: str) -> None:
    """``lossctl: note: ...`` on stderr (what was taken as what, counts of skipped lines)."""
    _emit("note:", message, "36")


def error_line(message: str, hint: str | None = None) -> None:
    """``lossctl: error: ...`` plus an optional ``hint:`` line, on stderr."""
    _emit("error:", message, "1;31")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
        sys.stderr.flush()


# ---------------------------------------------------------------- data (stdout)


def json_safe(obj: Any) -> Any:
    """Make ``obj`` JSON-serialisable: NaN/inf → None, numpy → Python, tuples → lists."""
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, int):
        return obj
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    # numpy scalars and arrays, without importing numpy here
    tolist = getattr(obj, "tolist", None)
    if tolist is not None:
        return json_safe(tolist())
    item = getattr(obj, "item", None)
    if item is not None:
        return json_safe(item())
    return str(obj)


def dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(json_safe(obj), indent=indent, ensure_ascii=False, allow_nan=False)


def write_json(obj: Any, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    out.write(dumps(obj, indent=2))
    out.write("\n")


def write_ndjson(rows: Iterable[Mapping[str, Any]], out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    for row in rows:
        out.write(dumps(row))
        out.write("\n")


def format_cell(value: Any) -> str:
    """A cell for CSV/TSV: NaN → ``nan``, None → empty, floats with repr precision."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)
    tolist = getattr(value, "tolist", None)
    if tolist is not None and not isinstance(value, (str, bytes)):
        return format_cell(tolist())
    return str(value)


def write_delimited(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    out: IO[str] | None = None,
    sep: str = ",",
) -> None:
    out = out or sys.stdout
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([format_cell(row.get(c)) for c in columns])


def write_rows(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str,
    out: IO[str] | None = None,
) -> None:
    """Write records in one of the machine formats (json, ndjson, csv, tsv)."""
    if fmt == "json":
        write_json([{c: r.get(c) for c in columns} for r in rows], out)
    elif fmt == "ndjson":
        write_ndjson(({c: r.get(c) for c in columns} for r in rows), out)
    elif fmt in ("csv", "tsv"):
        write_delimited(rows, columns, out, "," if fmt == "csv" else "\t")
    else:  # pragma: no cover - callers handle 'table'
        raise ValueError(fmt)


def format_number(value: Any, digits: int = 6) -> str:
    """A number for people: up to ``digits`` significant digits, ``nan``/``inf`` spelled out."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def render_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], out=None) -> None:
    """A rich table for people (``--format table``) on stdout."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold" if color_enabled(sys.stdout) else None)
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*[Text(c if isinstance(c, str) else format_number(c)) for c in row])
    (out or console()).print(table)


def string_io() -> io.StringIO:
    return io.StringIO()
