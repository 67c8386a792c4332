"""Opening log sources and cleaning their lines.

A *source* is a path (``str`` or :class:`~pathlib.Path`), ``"-"`` for stdin, an open
file object (text or binary), or the raw text of a log (a ``str`` that contains a
newline or starts with ``{`` / ``[``).

- A path that is not a regular file (a FIFO, ``/dev/fd/N`` from ``<(zcat x.log.gz)``,
  a character device) is opened once and read as a stream, like stdin.
- Compression is recognised by magic bytes, not by the file name: gzip, bz2, xz.
- Encodings: UTF-8 (with or without BOM), UTF-16 and UTF-32 by BOM, Latin-1 as the fallback
  when the start of the file is not valid UTF-8.
- A Git LFS pointer file (the small text file git keeps instead of the real log
  when ``git lfs pull`` was not run) is an :class:`~lossctl.errors.InputError`.
- Files are read in chunks and lines are produced lazily, so memory stays bounded
  whatever the size of the log.

Cleaning (:func:`clean_segments`) turns one physical line into the "logical" lines
a format parser sees:

- tqdm frames joined by ``\\r`` are split (a dict glued to the end of a progress
  bar stays on the bar's segment: parsers search, they do not anchor);
- ANSI escape sequences and backspaces are removed;
- markdown quotes (``> ``), rank prefixes (``[default7]:``, ``[rank0]:``,
  ``[1,0]<stdout>:``) and leading timestamps (``2024-05-01 12:00:00,123``,
  ``[2024-05-01 12:00:00]``, ``05/01/2024 12:00:00``) are stripped, repeatedly;
- surrounding whitespace is stripped.

Every logical line keeps the 1-based number of the physical line it came from
(``ctx.lineno`` while a parser handles it), so messages can point at the file.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
import sys
from pathlib import Path
from typing import IO, Iterator

from lossctl.errors import InputError

CHUNK = 1 << 22  # 4 MiB of bytes per read
SAMPLE_BYTES = 64 * 1024
#: a "line" longer than this without a newline is cut (bounded memory on binary junk)
MAX_LINE_CHARS = 32 * 1024 * 1024

LFS_MAGIC = b"version https://git-lfs.github.com/spec/"
_GZ = b"\x1f\x8b"
_BZ2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"


class LogSource:
    """An opened log: a display name plus a way to (re)open its decompressed bytes."""

    def __init__(self, name: str, path: Path | None = None, data: bytes | None = None,
                 stream: IO | None = None, owns_stream: bool = False) -> None:
        self.name = name
        self._owns = owns_stream  # a FIFO lossctl opened: closed after the second reader
        self.path = path
        self._data = data
        self._stream = stream
        self._recorder: _Recorder | None = None
        self.encoding: str | None = None
        # set when a compressed stream ends early: (compression, complete lines read)
        self.truncated: tuple[str, int] | None = None

    def truncation_note(self) -> str | None:
        """The message for a compressed log cut short (None when it was not)."""
        if self.truncated is None:
            return None
        kind, lines = self.truncated
        return (f"{self.name}: the {kind} stream ends early (truncated file?): read up to line {lines:,}; "
                "the partial line at the cut was left out")

    # -- bytes -------------------------------------------------------------
    def _raw(self) -> IO[bytes]:
        if self.path is not None:
            try:
                return open(self.path, "rb")
            except IsADirectoryError:
                events = sorted(p.name for p in self.path.glob("events.out.tfevents.*"))
                hint = (f"TensorBoard writes one file per run: give it, e.g. {self.path / events[0]}"
                        if events else "give the path of the log file itself")
                raise InputError("is a directory, not a log file", source=self.name, hint=hint) from None
            except FileNotFoundError:
                raise InputError("no such file", source=self.name) from None
            except PermissionError:
                raise InputError("permission denied", source=self.name) from None
        if self._stream is not None:
            # stdin / a file object can be read once: the first reader (format
            # detection) records what it reads; the second gets that replayed
            # followed by the rest of the stream. Memory: the detection sample only.
            if self._recorder is None:
                self._recorder = _Recorder(self._stream)
                return io.BufferedReader(self._recorder)
            rec, self._recorder = self._recorder, None
            rec.recording = False
            self._stream = None  # a third reader would find nothing: streams are read twice at most
            return io.BufferedReader(_Chain(bytes(rec.recorded), rec, rec._s if self._owns else None))
        return io.BytesIO(self._data or b"")

    def open_bytes(self) -> IO[bytes]:
        """The decompressed bytes of the log (gzip/bz2/xz recognised by magic bytes)."""
        raw = self._raw()
        head = _peek(raw, 6)
        if head.startswith(_GZ):
            import gzip

            return io.BufferedReader(_CutSafe(gzip.GzipFile(fileobj=raw), self, "gzip"))
        if head.startswith(_BZ2):
            import bz2

            return io.BufferedReader(_CutSafe(bz2.BZ2File(raw), self, "bz2"))
        if head.startswith(_XZ):
            import lzma

            return io.BufferedReader(_CutSafe(lzma.LZMAFile(raw), self, "xz"))
        return raw

    def fs_path(self) -> Path | None:
        """A filesystem path for readers that need one (TensorBoard), else None."""
        return self.path


def _peek(raw: IO[bytes], n: int) -> bytes:
    peek = getattr(raw, "peek", None)
    if peek is not None:
        try:
            return peek(n)[:n]
        except (OSError, ValueError):
            pass
    if raw.seekable():
        pos = raw.tell()
        data = raw.read(n)
        raw.seek(pos)
        return data
    return b""


def open_source(source) -> LogSource:
    """Turn what the user gave into a :class:`LogSource` (see module docstring)."""
    if isinstance(source, LogSource):
        return source
    if isinstance(source, Path):
        return _path_source(str(source), source)
    if isinstance(source, bytes):
        return LogSource("<bytes>", data=source)
    if isinstance(source, str):
        if source == "-":
            stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
            if stream is None:  # a StringIO put in place of stdin
                return LogSource("<stdin>", data=sys.stdin.read().encode("utf-8"))
            return LogSource("<stdin>", stream=io.BufferedReader(_RawWrap(stream)))
        if "\n" in source or source.lstrip().startswith(("{", "[")):
            return LogSource("<text>", data=source.encode("utf-8"))
        return _path_source(source, Path(source))
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        name = name if isinstance(name, str) else "<stream>"
        mode = getattr(source, "mode", "")
        if isinstance(source, io.TextIOBase) or "b" not in str(mode) and not isinstance(
            source, (io.BufferedIOBase, io.RawIOBase)
        ):
            buf = getattr(source, "buffer", None)
            if buf is not None:
                return LogSource(name, stream=io.BufferedReader(_RawWrap(buf)))
            return LogSource(name, data=source.read().encode("utf-8"))
        return LogSource(name, stream=io.BufferedReader(_RawWrap(source)))
    if isinstance(source, os.PathLike):
        return _path_source(os.fspath(source), Path(os.fspath(source)))
    raise TypeError(f"cannot read a log from {type(source).__name__}")


def _path_source(name: str, path: Path) -> LogSource:
    """A named file; a FIFO, a character device or ``/dev/fd/N`` (``<(zcat x.log.gz)``)
    is opened once and read as a stream like stdin: opening it again by path after the
    detection sample would block (a FIFO) or find nothing (a pipe already read)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return LogSource(name, path=path)  # the error is reported when it is read
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return LogSource(name, path=path)
    try:
        fh = open(path, "rb", buffering=0)
    except OSError:
        return LogSource(name, path=path)
    return LogSource(name, stream=io.BufferedReader(fh), owns_stream=True)


class _Recorder(io.RawIOBase):
    """Reads a stream and keeps a copy of what was read (while ``recording``)."""

    def __init__(self, stream) -> None:
        self._s = stream
        self.recorded = bytearray()
        self.recording = True

    def readable(self) -> bool:
        return True

    def close(self) -> None:  # the stream stays open for the second reader
        pass

    def readinto(self, b) -> int:
        data = self._s.read(len(b))
        if not data:
            return 0
        if self.recording:
            self.recorded += data
        n = len(data)
        b[:n] = data
        return n


class _Chain(io.RawIOBase):
    """``head`` bytes, then the rest of ``tail``."""

    def __init__(self, head: bytes, tail, owned=None) -> None:
        self._head = memoryview(head)
        self._pos = 0
        self._tail = tail
        self._owned = owned  # closed with the chain

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
            self._owned = None
        super().close()

    def readinto(self, b) -> int:
        if self._pos < len(self._head):
            n = min(len(b), len(self._head) - self._pos)
            b[:n] = self._head[self._pos:self._pos + n]
            self._pos += n
            return n
        return self._tail.readinto(b)


class _CutSafe(io.RawIOBase):
    """A decompressed stream that survives being cut short.

    gzip/bz2/xz raise ``EOFError`` when the compressed data ends before its end-of-stream
    marker (an interrupted download or copy). Every complete line before the cut is
    delivered, the partial line at the cut is dropped (``{'loss': 1.2`` cut from
    ``1.2345`` would be a wrong value) and ``src.truncated`` records the cut.
    Only complete lines are passed on until the end, so the partial line can be dropped.
    """

    def __init__(self, inner, src: LogSource, kind: str) -> None:
        self._in = inner
        self._src = src
        self._kind = kind
        self._out = memoryview(b"")
        self._pending: list[bytes] = []
        self._lines = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._in.close()
        super().close()

    def _fill(self) -> None:
        try:
            # read1: one decompression step; read(n) loops to fill n bytes and loses them
            # all when the stream then turns out to be cut
            data = self._in.read1(1 << 20)
        except EOFError:
            self._done = True
            self._pending = []
            self._src.truncated = (self._kind, self._lines)
            return
        if not data:
            self._done = True
            self._out = memoryview(b"".join(self._pending))
            self._pending = []
            return
        cut = data.rfind(b"\n") + 1
        if not cut:
            self._pending.append(data)  # one long line: joined once its end is seen
            return
        out = b"".join(self._pending) + data[:cut] if self._pending else data[:cut]
        self._pending = [data[cut:]] if cut < len(data) else []
        self._lines += out.count(b"\n")
        self._out = memoryview(out)

    def readinto(self, b) -> int:
        while not self._out and not self._done:
            self._fill()
        k = min(len(b), len(self._out))
        b[:k] = self._out[:k]
        self._out = self._out[k:]
        return k


class _RawWrap(io.RawIOBase):
    """Adapts any binary ``read(n)`` stream to RawIOBase so BufferedReader can peek."""

    def __init__(self, stream) -> None:
        self._s = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._s.read(len(b))
        if not data:
            return 0
        n = len(data)
        b[:n] = data
        return n


# ------------------------------------------------------------------ decoding


def _encoding_for(head: bytes) -> tuple[str, int]:
    """(codec, number of BOM bytes to skip) from the first bytes of the file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        return "utf-32", 0  # before UTF-16: the UTF-32 LE BOM starts with the UTF-16 LE one
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", 0  # the utf-16 codec reads and drops the BOM itself
    try:
        # a cut multi-byte character at the end of the sample is fine
        head.decode("utf-8", errors="strict")
        return "utf-8", 0
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 3:
            return "utf-8", 0
        return "latin-1", 0


def check_lfs(head: bytes, name: str) -> None:
    if head.startswith(LFS_MAGIC):
        text = head[:400].decode("ascii", "replace")
        m = re.search(r"size (\d+)", text)
        size = f" of {int(m.group(1)):,} bytes" if m else ""
        raise InputError(
            f"this is a Git LFS pointer file, not the log itself (the real file{size} was not downloaded)",
            source=name,
            hint="run `git lfs pull` in that repository (or download the file from the web page), then retry",
        )


def iter_text(src: LogSource, chunk_size: int = CHUNK) -> Iterator[str]:
    """Decoded text in chunks that end at a newline (the last one may not)."""
    with src.open_bytes() as fh:
        first = fh.read(chunk_size)
        check_lfs(first, src.name)
        enc, skip = _encoding_for(first[:SAMPLE_BYTES])
        src.encoding = enc
        # a stray undecodable byte later in a huge log must not stop the reading
        dec = codecs.getincrementaldecoder(enc)(errors="replace")
        data = first[skip:]
        rest = ""
        while True:
            text = rest + dec.decode(data, final=not data)
            if not data:
                if text:
                    yield text
                return
            cut = text.rfind("\n") + 1
            if cut:
                yield text[:cut]
                rest = text[cut:]
            elif len(text) > MAX_LINE_CHARS:
                # no newline for MAX_LINE_CHARS (binary junk, /dev/zero): cut it into a line
                # of its own, which the parsers skip, so memory stays bounded
                yield text + "\n"
                rest = ""
            else:
                rest = text
            data = fh.read(chunk_size)


def iter_bytes_chunks(src: LogSource, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """Raw (decompressed) byte chunks ending at a newline; for fast UTF-8 scanners."""
    with src.open_bytes() as fh:
        rest = b""
        first = True
        while True:
            data = fh.read(chunk_size)
            if first:
                check_lfs(data, src.name)
                if data.startswith(codecs.BOM_UTF8):
                    data = data[3:]
                first = False
            if not data:
                if rest:
                    yield rest
                return
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut:
                yield data[:cut]
                rest = data[cut:]
            else:
                rest = data


def iter_physical_lines(src: LogSource, chunk_size: int = CHUNK) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its newline)."""
    lineno = 0
    for chunk in iter_text(src, chunk_size):
        lines = chunk.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines:
            lineno += 1
            yield lineno, line


def read_text(src: LogSource, limit: int | None = None) -> str:
    """The whole decoded text (document formats), or its first ``limit`` characters."""
    parts = []
    total = 0
    for chunk in iter_text(src, CHUNK if limit is None else max(SAMPLE_BYTES, min(CHUNK, limit))):
        parts.append(chunk)
        total += len(chunk)
        if limit is not None and total >= limit:
            break
    text = "".join(parts)
    return text if limit is None else text[:limit]


# ------------------------------------------------------------------ cleaning

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>NOM78]")
# rank / process prefixes written by torchrun, mpirun, deepspeed and friends
_PREFIX_RE = re.compile(
    r"""^(?:
        \[(?:default|rank|Rank|RANK)\s*\d+\]\s*:?\s*      # [default7]:  [rank0]:
      | \[\d+,\d+\]<(?:stdout|stderr)>:\s*               # [1,0]<stdout>:
      | (?:rank|Rank)\s*\d+\s*:\s+                        # rank0: text
      | >+\ ?                                             # markdown quote
      | \[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?
            (?=\s|$|\]|\s*[-|:]) \s*(?:[-|]\s+|:\s+)?     # 2024-05-01 12:00:00,123 -
      | \[?\d{2}/\d{2}/\d{4}\ \d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]? (?=\s|$) \s*(?:[-|]\s+)?   # 07/15/2023 04:58:22 -
      | \[\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]\s*             # [12:00:01]
    )""",
    re.X,
)
_PREFIX_START = frozenset("[>0123456789rR")
_PROGRESS_RE = re.compile(r"^\s*\d{1,3}%\|[^|]*\|\s*\d+/\d+\s*\[[^\]]*\]\s*$")


def strip_prefixes(line: str) -> str:
    """Remove markdown quotes, rank prefixes and leading timestamps (repeatedly)."""
    for _ in range(6):
        if not line or line[0] not in _PREFIX_START:
            return line
        m = _PREFIX_RE.match(line)
        if m is None or m.end() == 0:
            return line
        line = line[m.end():].lstrip()
    return line


def clean_segments(line: str) -> list[str]:
    """One physical line -> its cleaned logical lines (see module docstring)."""
    if "\x1b" in line:
        line = ANSI_RE.sub("", line)
    if "\x08" in line:
        line = line.replace("\x08", "")
    if "\r" in line:
        out = []
        for seg in line.split("\r"):
            seg = strip_prefixes(seg.strip())
            if seg:
                out.append(seg)
        return out or [""]
    return [strip_prefixes(line.strip())]


def is_progress_bar(line: str) -> bool:
    """A bare tqdm frame (``45%|████▌     | 3/1000 [01:23<01:40,  1.23it/s]``)."""
    return "%|" in line and _PROGRESS_RE.match(line) is not None


def iter_clean_lines(src: LogSource, ctx=None) -> Iterator[str]:
    """Cleaned logical lines; sets ``ctx.lineno`` to the physical line number of each."""
    for lineno, line in iter_physical_lines(src):
        if ctx is not None:
            ctx.lineno = lineno
        if "\r" in line or "\x1b" in line or "\x08" in line:
            for seg in clean_segments(line):
                yield seg
        else:
            if line and (line[0] in _PREFIX_START or line[0] in " \t" or line[-1] in " \t"):
                line = strip_prefixes(line.strip())
            yield line


def sample_text(src: LogSource, limit: int = SAMPLE_BYTES, max_scan: int = 16 * CHUNK) -> str:
    """About ``limit`` characters of cleaned text for format detection.

    Bare progress-bar frames are left out (a log can start with megabytes of them),
    reading at most ``max_scan`` characters.
    """
    out: list[str] = []
    size = 0
    scanned = 0
    for _, line in iter_physical_lines(src, 1 << 18):
        scanned += len(line) + 1
        segs = clean_segments(line) if ("\r" in line or "\x1b" in line) else [strip_prefixes(line.strip())]
        for seg in segs:
            if is_progress_bar(seg):
                continue
            out.append(seg)
            size += len(seg) + 1
        if size >= limit or scanned >= max_scan:
            break
    return "\n".join(out)
