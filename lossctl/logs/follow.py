"""``lossctl parse --follow``: print new records as a log grows, like ``tail -f``.

- Only complete lines are parsed: a partial last line waits for its newline.
- Truncation (the file got shorter) and rotation (a new file under the same name)
  are noticed: reading starts again from the beginning of the (new) file, and a note
  says so.
- Line formats stream their lines to the parser as they arrive; document formats
  (CSV tables, trainer_state.json) are re-read when the file changes and only the
  records not yet printed are given.
- Records are given at once: there is no look-back window, so a step logged twice is
  printed twice (the note at the end counts them).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Iterator

from lossctl.errors import InputError
from lossctl.logs import reader, tidy
from lossctl.logs.base import ParseContext, Record


class _Tail:
    """Complete lines of a growing file; restarts on truncation or rotation."""

    def __init__(self, path: Path, ctx: ParseContext, stop: Callable[[], bool], poll: float,
                 on_reset: Callable[[str], None]) -> None:
        self.path = path
        self.ctx = ctx
        self.stop = stop
        self.poll = poll
        self.on_reset = on_reset
        self.fh = None
        self.ino = None
        self.pos = 0
        self.lineno = 0
        self.partial = b""

    def _open(self) -> bool:
        try:
            self.fh = open(self.path, "rb")
        except FileNotFoundError:
            return False
        st = os.fstat(self.fh.fileno())
        self.ino = (st.st_dev, st.st_ino)
        self.pos = 0
        self.lineno = 0
        self.partial = b""
        return True

    def _changed(self) -> str | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        if (st.st_dev, st.st_ino) != self.ino:
            return "rotated"
        if st.st_size < self.pos:
            return "truncated"
        return None

    def lines(self) -> Iterator[str]:
        """Raw complete lines (decoded, without the newline); sets ``ctx.lineno``."""
        while self.fh is None:
            if self._open():
                break
            if self.stop():
                return
            time.sleep(self.poll)
        while True:
            data = self.fh.read(1 << 20)
            if data:
                self.pos += len(data)
                if self.lineno == 0 and not self.partial:
                    reader.check_lfs(data, str(self.path))
                    if data.startswith(b"\xef\xbb\xbf"):
                        data = data[3:]
                buf = self.partial + data
                cut = buf.rfind(b"\n") + 1
                self.partial = buf[cut:]
                for raw in buf[:cut].split(b"\n")[:-1]:
                    self.lineno += 1
                    self.ctx.lineno = self.lineno  # type: ignore[attr-defined]
                    try:
                        yield raw.decode("utf-8")
                    except UnicodeDecodeError:
                        yield raw.decode("latin-1")
                continue
            what = self._changed()
            if what is not None:
                self.fh.close()
                self.fh = None
                self.on_reset(what)
                while not self._open():
                    if self.stop():
                        return
                    time.sleep(self.poll)
                continue
            if self.stop():
                return
            time.sleep(self.poll)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def stream_records(stream, module, ctx: ParseContext) -> Iterator[Record]:
    """Records of a line format read from a byte stream (a pipe) line by line, as lines
    arrive: ``tail -f train.log | lossctl parse - --follow --log-format NAME``."""
    if getattr(module, "KIND", "lines") != "lines":
        raise InputError(f"--follow on stdin needs a line format; {module.NAME} is read as a whole document",
                         hint="give the file name instead of -")

    def clean() -> Iterator[str]:
        for n, raw in enumerate(iter(stream.readline, b""), start=1):
            ctx.lineno = n  # type: ignore[attr-defined]
            if n == 1:
                reader.check_lfs(raw, ctx.source)
            line = raw.rstrip(b"\n").decode("utf-8", errors="replace")
            if "\r" in line or "\x1b" in line or "\x08" in line:
                yield from reader.clean_segments(line)
            else:
                yield reader.strip_prefixes(line.strip())

    yield from tidy.postprocess(module.parse(clean(), ctx), ctx, window=0)


def follow_records(path, module, ctx: ParseContext, *, stop: Callable[[], bool] = lambda: False,
                   poll: float = 0.25, on_reset: Callable[[str], None] | None = None) -> Iterator[Record]:
    """Records of ``path`` read with format ``module``, as the file grows (until ``stop()``)."""
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory, not a log file", source=str(path))
    resets: list[str] = []

    def reset(what: str) -> None:
        resets.append(what)
        ctx.note(f"the file was {what}: reading it again from the start")
        if on_reset is not None:
            on_reset(what)

    kind = getattr(module, "KIND", "lines")
    if kind == "lines":
        tail = _Tail(path, ctx, stop, poll, reset)

        def clean() -> Iterator[str]:
            for line in tail.lines():
                if "\r" in line or "\x1b" in line or "\x08" in line:
                    yield from reader.clean_segments(line)
                else:
                    yield reader.strip_prefixes(line.strip())

        try:
            yield from tidy.postprocess(module.parse(clean(), ctx), ctx, window=0)
        finally:
            tail.close()
        return
    # document / binary formats: re-read on change, give the records not yet given
    given = 0
    last_sig = None
    while True:
        try:
            st = os.stat(path)
            sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            sig = None
        if sig is not None and sig != last_sig:
            last_sig = sig
            sub = ParseContext(source=ctx.source)
            try:
                src = reader.open_source(path)
                if kind == "document":
                    text = reader.read_text(src)
                    # an incomplete last line is not read yet
                    if text and not text.endswith("\n") and not text.rstrip().endswith(("}", "]")):
                        text = text[: text.rfind("\n") + 1]
                    recs = list(tidy.postprocess(module.parse(text, sub), sub, window=None))
                else:
                    recs = list(tidy.postprocess(module.parse(src, sub), sub, window=None))
            except InputError:
                recs = None  # e.g. a JSON file caught half-written: try again at the next change
            if recs is not None:
                if len(recs) < given:
                    reset("truncated")
                    given = 0
                yield from recs[given:]
                given = len(recs)
                ctx.hparams.update(sub.hparams)
        if stop():
            return
        time.sleep(poll)
