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

import io
import os
import select
import stat
import time
from pathlib import Path
from typing import Callable, Iterator

from lossctl._io import Prefixed
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
    arrive: ``tail -f train.log | lossctl parse - --follow --log-format NAME``. Ends
    when the stream does (a pipe cannot grow after its writer closed it)."""
    return line_records(iter(stream.readline, b""), module, ctx)


def line_records(raw_lines, module, ctx: ParseContext) -> Iterator[Record]:
    """Records of a line format from raw byte lines as they come (no look-back window)."""
    if getattr(module, "KIND", "lines") != "lines":
        raise InputError(f"--follow on a pipe needs a line format; {module.NAME} is read as a whole document",
                         hint="give the file name instead")

    def clean() -> Iterator[str]:
        for n, raw in enumerate(raw_lines, start=1):
            ctx.lineno = n  # type: ignore[attr-defined]
            if n == 1:
                reader.check_lfs(raw, ctx.source)
                if raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
            line = raw.rstrip(b"\n").decode("utf-8", errors="replace")
            if "\r" in line or "\x1b" in line or "\x08" in line:
                yield from reader.clean_segments(line)
            else:
                yield reader.strip_prefixes(line.strip())

    return tidy.postprocess(module.parse(clean(), ctx), ctx, window=0)


# ------------------------------------------------------------------ pipes

COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")


def is_pipe(path) -> bool:
    """A path that cannot grow after its end: a FIFO, ``/dev/fd/N`` of a pipe
    (``<(zcat x.log.gz)``), a socket or a character device. ``tail -f`` does not
    follow those either: they are read to their end once."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


class PipeHead:
    """The first bytes of a pipe, read as they arrive, for format detection.

    :meth:`more` reads until ``limit`` bytes are in, the writer closes the pipe, or
    (when ``pause`` is set and at least one complete line is in) the writer pauses for
    ``pause`` seconds: a live log (``tail -f x.log |``) may take hours to fill a
    detection sample. Afterwards :meth:`lines` gives every raw line, the head's first,
    then the rest of the pipe as lines arrive; :meth:`stream` gives the same bytes as
    a binary stream (for compressed or document logs, read to the end).
    """

    def __init__(self, stream, limit: int = reader.SAMPLE_BYTES, pause: float | None = 0.5) -> None:
        self.stream = stream  # a binary stream with readline (BufferedReader)
        self.limit = limit
        self.pause = pause
        self.data = bytearray()
        self.eof = False
        try:
            self.fd = stream.fileno()
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            self.fd = None  # an in-memory stream: read() returns at once anyway

    def _read(self, n: int, timeout: float | None) -> bytes | None:
        """Up to ``n`` bytes as soon as some are there; None when ``timeout`` passed first."""
        if self.fd is None:
            read1 = getattr(self.stream, "read1", None)
            return read1(n) if read1 is not None else self.stream.read(n)
        if timeout is not None:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return None
        return os.read(self.fd, n)

    def more(self) -> bool:
        """Read more of the head; False when there is nothing more to read into it."""
        if self.eof or len(self.data) >= self.limit:
            return False
        got = False
        while len(self.data) < self.limit:
            # block for the first bytes of each call; then stop at a pause once a line is in
            wait = self.pause if got and b"\n" in self.data else None
            chunk = self._read(self.limit - len(self.data), wait)
            if chunk is None:
                break  # the writer paused: try what is there
            if not chunk:
                self.eof = True
                break
            self.data += chunk
            got = True
        return True

    @property
    def compressed(self) -> bool:
        return bytes(self.data[:6]).startswith(COMPRESSED_MAGIC)

    @property
    def lfs_pointer(self) -> bool:
        return bytes(self.data[: len(reader.LFS_MAGIC)]) == reader.LFS_MAGIC

    def complete(self) -> bytes:
        """The head up to its last newline (all of it at the end of the pipe)."""
        if self.eof:
            return bytes(self.data)
        return bytes(self.data[: self.data.rfind(b"\n") + 1])

    def lines(self) -> Iterator[bytes]:
        head = bytes(self.data)
        self.data = bytearray()
        parts = head.split(b"\n")
        rest = parts.pop()
        for p in parts:
            yield p + b"\n"
        if self.eof:
            if rest:
                yield rest
            return
        for raw in iter(self.stream.readline, b""):
            if rest:
                raw, rest = rest + raw, b""
            yield raw
        if rest:
            yield rest

    def stream_all(self) -> io.BufferedReader:
        head = bytes(self.data)
        self.data = bytearray()
        return io.BufferedReader(Prefixed(head, None if self.eof else self.stream))


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
