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


_CONSOLE_CLASS = None


def _console_class():
    """rich's Console, except that a broken pipe raises BrokenPipeError.

    rich's own ``on_broken_pipe`` raises ``SystemExit(1)``; lossctl's ``main()`` turns a
    broken pipe into a quiet exit 0 (``lossctl diagnose x.log | head -1``).
    """
    global _CONSOLE_CLASS
    if _CONSOLE_CLASS is None:
        from rich.console import Console

        class _Console(Console):
            def on_broken_pipe(self) -> None:
                self.quiet = True
                raise BrokenPipeError(32, "Broken pipe")

        _CONSOLE_CLASS = _Console
    return _CONSOLE_CLASS


def console(stderr: bool = False, width: int | None = None):
    """A rich Console for stdout (or stderr) with lossctl's colour rules.

    Rich markup and highlighting are off: log text such as ``[train]`` is data.
    """
    stream = sys.stderr if stderr else sys.stdout
    color = color_enabled(stream)
    if width is None:
        cols = os.environ.get("COLUMNS")
        if cols and cols.isdigit():
            width = int(cols)
    return _console_class()(
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
    if _active_progress is not None:
        _active_progress.clear()  # a message never lands in the middle of the progress line
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


# ---------------------------------------------------------------- progress (stderr)

_active_progress: "FileProgress | None" = None


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


class FileProgress:
    """How far lossctl has read a big input file, as one line on a terminal's stderr.

    Works for every command without their cooperation: a daemon thread looks up the
    file's descriptor in ``/proc/self/fd`` and its offset in ``/proc/self/fdinfo`` (Linux),
    so it also follows files read by pandas, pyarrow or gzip. It draws only when stderr is
    a terminal, after ``delay`` seconds, and clears its line when the file is closed.
    """

    MIN_BYTES = 32 * 1000 * 1000

    def __init__(self, paths: dict[str, int], stream=None, delay: float = 1.0, period: float = 0.2) -> None:
        import threading

        self.paths = paths  # real path -> size in bytes
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.period = period
        self._lock = threading.Lock()
        self._drawn = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lossctl-progress", daemon=True)

    @classmethod
    def for_args(cls, args: Sequence[str], stream=None, min_bytes: int | None = None) -> "FileProgress | None":
        """A progress line for the big files among ``args``, or None (no terminal, no /proc, small files)."""
        stream = stream if stream is not None else sys.stderr
        if not is_tty(stream) or not os.path.isdir("/proc/self/fdinfo"):
            return None
        paths = {}
        for a in args:
            if a.startswith("-"):
                continue
            try:
                st = os.stat(a)
            except (OSError, ValueError):
                continue
            if os.path.isfile(a) and st.st_size >= (cls.MIN_BYTES if min_bytes is None else min_bytes):
                paths[os.path.realpath(a)] = st.st_size
        return cls(paths, stream) if paths else None

    def start(self) -> "FileProgress":
        global _active_progress
        _active_progress = self
        self._thread.start()
        return self

    def stop(self) -> None:
        global _active_progress
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        self.clear()
        if _active_progress is self:
            _active_progress = None

    def _offsets(self, pid: str) -> list[tuple[str, str, int]]:
        out = []
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return out
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target not in self.paths:
                continue
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    out.append((fd, target, int(f.readline().split()[1])))
            except (OSError, ValueError, IndexError):
                continue
        return out

    def _children(self) -> list[str]:
        kids = []
        try:
            for tid in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{tid}/children") as f:
                    kids += f.read().split()
        except OSError:
            pass
        return kids

    def position(self) -> tuple[str, int, int] | None:
        """(path, bytes read, size) of the furthest-read watched file open in this process.

        A forked helper reading a later part of the same file (parse's fast path) adds
        the bytes it read since it was first seen.
        """
        if not hasattr(self, "_first"):
            self._first: dict[tuple[str, str], int] = {}
        best = None
        for fd, target, pos in self._offsets("self"):
            if best is None or pos > best[1]:
                best = (target, pos, self.paths[target])
        if best is None:
            return None
        for pid in self._children():
            for fd, target, pos in self._offsets(pid):
                if target == best[0]:
                    start = self._first.setdefault((pid, fd), pos)
                    best = (target, best[1] + max(0, pos - start), best[2])
        return best[0], min(best[1], best[2]), best[2]

    def line(self, path: str, pos: int, size: int, elapsed: float) -> str:
        frac = pos / size if size else 1.0
        width = 24
        filled = int(frac * width)
        bar = "#" * filled + "-" * (width - filled)
        rate = pos / elapsed if elapsed > 0 else 0.0
        left = f", {((size - pos) / rate):.0f} s left" if rate > 0 and pos < size else ""
        return (f"lossctl: reading {os.path.basename(path)} [{bar}] {frac * 100:3.0f}% "
                f"{_human(pos)} / {_human(size)}{left}")

    def clear(self) -> None:
        with self._lock:
            if self._drawn:
                try:
                    self.stream.write("\r\x1b[K")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass
                self._drawn = False

    def _run(self) -> None:
        import time

        t0 = time.monotonic()
        if self._stop.wait(self.delay):
            return
        seen = False
        while not self._stop.is_set():
            where = self.position()
            if where is None:
                if seen:  # the file was read and closed: done
                    self.clear()
                    return
            else:
                seen = True
                text = self.line(*where, time.monotonic() - t0)
                with self._lock:
                    try:
                        self.stream.write("\r\x1b[K" + text)
                        self.stream.flush()
                        self._drawn = True
                    except (OSError, ValueError):
                        return
            self._stop.wait(self.period)


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
    special = plain_number(v)
    return special if special is not None else f"{v:.{digits}g}"


def plain_number(v: float) -> str | None:
    """``nan``, ``inf``/``-inf``, or a whole number written as an integer (``100``);
    None for any other value (the caller formats it)."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return None


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
