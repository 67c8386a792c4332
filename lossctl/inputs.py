"""Reading predictions for ``lossctl compute``: files, stdin and inline values.

A predictions source gives an *input* (logits, probabilities, predictions), a *target*
(labels or values; absent for ``lm``) and, for ``gaussian-nll``, a *variance*. Formats:

- JSON: ``{"input": [...], "target": [...]}`` (other key spellings in :data:`INPUT_KEYS`,
  :data:`TARGET_KEYS`, :data:`VAR_KEYS`), or a list of such records, or a bare list
  (input only);
- JSONL: one record per line, each a sample (``{"input": [2, 1, 0.5], "target": 0}``) or a
  batch (``{"input": [[...], [...]], "target": [0, 1]}``);
- CSV / TSV (``;``-separated too) with a header: a target column (:data:`TARGET_COLUMNS` or
  ``target_col``) and input columns (the rest, or ``input_cols``: a comma list or a glob);
- ``.npy`` (the input), ``.npz`` (arrays named like the JSON keys), Parquet (needs pyarrow);
- any of them gzip-compressed; ``-`` for stdin.

The format is sniffed from the first bytes (not the file name) unless given. Files are
never executed or unpickled (``np.load(allow_pickle=False)``).

CSV, TSV, JSONL and Parquet are read in chunks (:class:`Chunk`), so a big file never sits in
memory at once; the compute layer reduces chunk by chunk. Everything else is read whole.

Library code: no printing. What was taken as what is in :attr:`Predictions.notes`.
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import json
import re
import os
import stat
import sys
import zlib
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator, Sequence

import numpy as np

from lossctl._io import Prefixed
from lossctl.errors import InputError, MissingDependency, UsageError

INPUT_FORMATS = ("auto", "json", "jsonl", "csv", "tsv", "npy", "npz", "parquet")

INPUT_KEYS = ("input", "inputs", "logits", "probs", "log_probs", "logprobs", "predictions",
              "prediction", "preds", "pred", "scores", "x")
TARGET_KEYS = ("target", "targets", "labels", "label", "y", "y_true")
VAR_KEYS = ("var", "variance")
# CSV/Parquet column names taken as the target (case-insensitive), in order of preference.
TARGET_COLUMNS = ("label", "labels", "target", "targets", "y", "y_true", "class", "true", "truth",
                  "gold", "answer")
VAR_COLUMNS = ("var", "variance")
# Columns that identify rows: never taken as input unless named in input_cols.
ID_COLUMNS = ("id", "idx", "index", "sample", "sample_id", "row", "unnamed: 0", "")

# Streaming: bytes per CSV block, records per JSONL / Parquet chunk. Tests shrink them.
CHUNK_BYTES = 8 << 20
CHUNK_ROWS = 100_000

_SNIFF_BYTES = 64 * 1024
_MAX_HEADER_BYTES = 64 * 1024 * 1024  # a first line longer than this is not a CSV header
# LossSpec.target values whose records are sequences (lm): read whole, ragged, target optional.
SEQUENCE_KINDS = ("tokens", "none")


@dataclass
class Chunk:
    """Part of the predictions: rows ``row0 .. row0 + len(x)``."""

    x: np.ndarray
    y: np.ndarray | None
    var: np.ndarray | None
    row0: int


@dataclass
class Predictions:
    """An opened predictions source. Iterate :meth:`chunks` once, or use ``raw`` objects.

    ``raw`` is set for JSON-like sources read whole: ``(input, target, var)`` as the Python
    objects found (lists, numbers or arrays), so the lm loss can take ragged sequences.
    """

    source: str
    format: str
    notes: list[str] = field(default_factory=list)
    columns: list[str] | None = None  # input column names (CSV/Parquet), for messages
    target_columns: list[str] | None = None
    raw: tuple[Any, Any, Any] | None = None
    header_lines: int = 0  # lines before the first data row (CSV: 1)
    _chunks: Callable[[], Iterator[Chunk]] | None = None
    _progress: Callable[[], tuple[int, int | None]] | None = None
    _close: Callable[[], None] | None = None

    def chunks(self) -> Iterator[Chunk]:
        if self._chunks is not None:
            return self._chunks()
        x, y, v = self.raw if self.raw is not None else (None, None, None)
        return iter([Chunk(to_array(x, self.source, "input"), None if y is None else to_array(y, self.source, "target"),
                           None if v is None else to_array(v, self.source, "var"), 0)])

    def progress(self) -> tuple[int, int | None]:
        """(bytes read so far, total bytes or None) for a progress bar."""
        return self._progress() if self._progress else (0, None)

    @property
    def streamed(self) -> bool:
        return self._chunks is not None

    def close(self) -> None:
        if self._close:
            self._close()
            self._close = None


# ---------------------------------------------------------------- arrays from Python objects


def _first_bad(obj: Any, path: str = "") -> tuple[str, Any] | None:
    """Where the first non-numeric leaf of a nested list is, as ``[i][j]``."""
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            r = _first_bad(v, f"{path}[{i}]")
            if r:
                return r
        return None
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, float)):
        return None if obj is not None else (path, obj)
    if isinstance(obj, np.generic) and np.issubdtype(type(obj), np.number):
        return None
    if isinstance(obj, str):
        try:
            float(obj)
        except ValueError:
            return (path, obj)
        return None
    return (path, obj)


def _lengths(obj: Any, path: str = "") -> str | None:
    """Where nested lists stop being rectangular (ragged rows, numbers mixed with lists)."""
    if not isinstance(obj, (list, tuple)) or not obj:
        return None
    is_list = [isinstance(v, (list, tuple)) for v in obj]
    if any(is_list) and not all(is_list):
        i = is_list.index(not is_list[0])
        what = "a list" if is_list[i] else "a number"
        return f"{path}[{i}] is {what} while {path}[0] is {'a list' if is_list[0] else 'a number'}"
    if all(is_list):
        n0 = len(obj[0])
        for i, v in enumerate(obj):
            if len(v) != n0:
                return f"rows have different lengths: {path}[0] has {n0} values, {path}[{i}] has {len(v)}"
        for i, v in enumerate(obj):
            r = _lengths(v, f"{path}[{i}]")
            if r:
                return r
    return None


def to_array(obj: Any, source: str | None, key: str) -> np.ndarray:
    """``obj`` (nested lists / numbers / array) as float64, or an :class:`InputError` saying where."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biuf":
            return obj.astype(np.float64, copy=False)
        if obj.dtype.kind == "O" or obj.dtype.kind in "USV":
            raise InputError(f"holds {obj.dtype} values, not numbers", source=source, key=key)
        raise InputError(f"holds {obj.dtype} values, not numbers", source=source, key=key)
    try:
        arr = np.asarray(obj, dtype=np.float64)
    except (ValueError, TypeError):
        if isinstance(obj, dict):
            raise InputError("is a JSON object, not an array of numbers", source=source, key=key) from None
        bad = _first_bad(obj)
        if bad is not None:
            where, value = bad
            what = "null" if value is None else repr(value)
            if isinstance(value, dict):
                what = "an object"
            raise InputError(f"non-numeric value {what} at {where or 'the top level'}", source=source, key=key,
                             hint="every input and target value must be a number") from None
        ragged = _lengths(obj)
        if ragged is not None:
            raise InputError(ragged, source=source, key=key, hint="every row needs the same number of values") from None
        if isinstance(obj, dict):
            raise InputError("is a JSON object, not an array of numbers", source=source, key=key) from None
        raise InputError("is not an array of numbers", source=source, key=key) from None
    return arr


# ---------------------------------------------------------------- inline values


def parse_inline(text: str, what: str) -> Any:
    """``'2,1,0.5;0.1,3,0.2'`` → nested lists (``;`` separates rows); JSON is accepted too."""
    s = text.strip()
    if not s:
        raise UsageError(f"--{what} is empty", hint=f"give numbers, e.g. --{what} 2.0,1.0,0.5")
    if s[0] in "[{":
        try:
            return json.loads(s)
        except json.JSONDecodeError as e:
            raise UsageError(f"--{what} is not valid JSON: {e.msg} at character {e.pos}") from None
    rows = [r for r in s.split(";")]
    out = []
    for i, r in enumerate(rows):
        vals = []
        cells = [c.strip() for c in r.split(",")]
        for j, c in enumerate(cells):
            try:
                vals.append(float(c))
            except ValueError:
                where = f"row {i + 1}, value {j + 1}" if len(rows) > 1 else f"value {j + 1}"
                raise UsageError(f"--{what}: {c!r} ({where}) is not a number",
                                 hint=f"separate numbers with ',' and rows with ';', e.g. --{what} '2,1,0.5;0.1,3,0.2'") from None
        out.append(vals)
    if len(rows) == 1:
        return out[0]
    return out


# ---------------------------------------------------------------- opening a source


class _Gunzip(io.RawIOBase):
    """A gzip stream whose damage is an :class:`InputError` naming the file, at any read.

    ``gzip`` raises ``EOFError`` for a file cut short and ``BadGzipFile``/``zlib.error`` for a
    corrupt one, possibly deep inside a CSV parser's read loop; the rows before the damage are
    not used (a loss over part of the file would look like the whole).
    """

    def __init__(self, gz: gzip.GzipFile, name: str) -> None:
        self._gz = gz
        self._name = name
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            n = self._gz.readinto(b)
        except EOFError:
            raise InputError("the gzip file is truncated: its compressed data ends before the end-of-stream "
                             "marker", source=self._name,
                             hint="the download or copy was interrupted; fetch the file again "
                                  "(gzip -t FILE checks it)") from None
        except (OSError, zlib.error) as e:
            raise InputError(f"is not a readable gzip file ({e})", source=self._name,
                             hint="gzip -t FILE checks it") from None
        self._out += n
        return n

    def close(self) -> None:
        try:
            self._gz.close()
        finally:
            super().close()


def _read_head(stream: IO[bytes], n: int) -> bytes:
    parts = []
    got = 0
    while got < n:
        data = stream.read(n - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


@dataclass
class _Opened:
    name: str
    stream: IO[bytes]  # positioned at the start of the (decompressed) content
    head: bytes  # first bytes of the decompressed content
    path: str | None  # a plain, uncompressed file on disk (fast paths may reopen it)
    size: int | None
    raw: IO[bytes] | None  # the underlying file, for progress (tell)
    compressed: bool
    consumed: list = field(default_factory=lambda: [0])  # bytes a reader has taken (progress)


def _open(path: str) -> _Opened:
    if path == "-":
        stdin = sys.stdin
        try:
            tty = stdin is not None and stdin.isatty()
        except (AttributeError, ValueError):
            tty = False
        if tty:
            raise UsageError("reading predictions from stdin ('-'), but stdin is a terminal",
                             hint="pipe data in (cat preds.csv | lossctl compute ... -) or give a FILE")
        raw = getattr(stdin, "buffer", None)
        if raw is None:  # a text stream without a buffer (some test harnesses)
            raw = io.BytesIO(stdin.read().encode("utf-8"))
        name, size, disk = "<stdin>", None, None
    else:
        name = path
        if os.path.isdir(path):
            raise InputError("is a directory, not a predictions file", source=path,
                             hint="give a file inside it")
        try:
            raw = open(path, "rb")
        except FileNotFoundError:
            raise InputError("no such file", source=path, hint="check the path") from None
        except PermissionError:
            raise InputError("permission denied", source=path) from None
        except OSError as e:
            raise InputError(f"cannot open: {e.strerror}", source=path) from None
        try:
            st = os.fstat(raw.fileno())
            regular = stat.S_ISREG(st.st_mode)
            size = st.st_size if regular else None
        except OSError:
            regular, size = False, None
        # a pipe or device given by name (`<(zcat x.csv.gz)` is /dev/fd/63) is read once, as a
        # stream: the fast paths that reopen or seek the file by path would find it empty
        disk = path if regular else None
    magic = _read_head(raw, 2)
    stream: IO[bytes] = io.BufferedReader(Prefixed(magic, raw), buffer_size=1 << 20)
    compressed = False
    if magic == b"\x1f\x8b":
        compressed = True
        stream = _Gunzip(gzip.GzipFile(fileobj=stream, mode="rb"), name)  # type: ignore[assignment]
        disk = None
    try:
        head = _read_head(stream, _SNIFF_BYTES)
        # a CSV header wider than the sniff window (e.g. 50k logit columns): read on to its end
        while len(head) >= _SNIFF_BYTES and b"\n" not in head and len(head) < _MAX_HEADER_BYTES \
                and not head.startswith((b"\x93NUMPY", b"PK\x03\x04", b"PAR1")):
            more = _read_head(stream, len(head))
            if not more:
                break
            head += more
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise InputError(f"is not a readable gzip file ({e})", source=name) from None
    stream = io.BufferedReader(Prefixed(head, stream), buffer_size=1 << 20)
    if disk is not None:
        # the fast paths reopen the file by path; keep ours for progress only
        pass
    return _Opened(name, stream, head, disk, size, raw, compressed)


def sniff(head: bytes, name: str = "") -> str:
    """The format of a content start: npy, npz, parquet, json, jsonl, csv or tsv."""
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK\x03\x04"):
        return "npz"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] == b"[" or text.rstrip() in (b"null", b"true", b"false"):
        return "json"
    if text[:1] == b'"' and b"\n" not in text.rstrip() and b"," not in text and b"\t" not in text:
        return "json"  # a lone JSON string: read as JSON to say it is not a payload
    if text[:1] == b"{":
        nl = text.find(b"\n")
        if nl == -1:
            return "json"
        first, rest = text[:nl], text[nl + 1:].lstrip()
        if not rest:
            return "json"
        try:
            json.loads(first)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return "json"
        return "jsonl"
    line = text.split(b"\n", 1)[0]
    if line.count(b"\t") > line.count(b","):
        return "tsv"
    return "csv"


def _check_text(head: bytes, name: str) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is UTF-16 text; lossctl reads UTF-8", source=name,
                         hint="convert it: iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8")
    if b"\x00" in head[:4096]:
        raise InputError("is a binary file, not JSON, CSV, .npy, .npz or Parquet", source=name,
                         hint="use --input-format to say what it is")


def _long_int(e: ValueError) -> str:
    msg = str(e)
    m = re.search(r"value has (\d+) digits", msg)
    return f"an integer of {m.group(1)} digits" if m else msg


_LFS = b"version https://git-lfs.github.com/spec/"


def _check_lfs(head: bytes, name: str) -> None:
    if head.startswith(_LFS):
        m = re.search(rb"\nsize (\d+)", head[:1024])
        size = f" of {int(m.group(1)):,} bytes" if m else ""
        raise InputError(f"this is a Git LFS pointer file, not the predictions themselves (the real file{size} "
                         "was not downloaded)", source=name,
                         hint="run `git lfs pull` in that repository (or download the file itself), then retry")


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})", source=name,
                         line=line, hint="convert it to UTF-8, e.g. iconv -f latin1 -t UTF-8 FILE") from None


# ---------------------------------------------------------------- the entry point


def read_predictions(
    path: str,
    *,
    fmt: str = "auto",
    target_kind: str = "same",
    target_col: str | None = None,
    input_cols: str | None = None,
    var: str | None = None,
) -> Predictions:
    """Open ``path`` (``-`` for stdin) as predictions.

    ``target_kind`` is the loss's ``LossSpec.target`` ("class", "same", or "tokens" for lm): it says
    whether a target must be found and how JSONL records are read. ``target_col`` /
    ``input_cols`` pick CSV/Parquet columns (comma lists or globs); ``var`` names the
    variance column or key (gaussian-nll), or is a number when the variance is given
    separately (then none is taken from the file).
    """
    fmt = (fmt or "auto").lower()
    if fmt not in INPUT_FORMATS:
        raise UsageError(f"unknown --input-format {fmt!r}", hint="choose one of: " + ", ".join(INPUT_FORMATS))
    opened = _open(path)
    try:
        _check_lfs(opened.head, opened.name)
        kind = sniff(opened.head, opened.name) if fmt == "auto" else fmt
        if kind in ("json", "jsonl", "csv", "tsv"):
            _check_text(opened.head, opened.name)
        if kind not in ("csv", "tsv", "parquet") and (target_col or input_cols):
            raise UsageError(f"--target-col and --input-cols select columns of CSV, TSV or Parquet; {opened.name} is {kind}",
                             hint="name the keys in the file instead (input, target)")
        reader = {
            "json": _read_json,
            "jsonl": _read_jsonl,
            "csv": _read_csv,
            "tsv": _read_csv,
            "npy": _read_npy,
            "npz": _read_npz,
            "parquet": _read_parquet,
        }[kind]
        preds = reader(opened, kind, target_kind=target_kind, target_col=target_col, input_cols=input_cols, var=var)
    except BaseException:
        _close_file(opened)
        raise
    if preds._close is None:
        preds._close = lambda: _close_file(opened)
    return preds


def _close_file(opened: _Opened) -> None:
    if opened.raw is not None and opened.name != "<stdin>":
        opened.raw.close()


# ---------------------------------------------------------------- JSON


def _pick(d: dict, keys: Sequence[str], source: str, what: str, explicit: str | None = None):
    if explicit:
        if explicit in d:
            return explicit, d[explicit]
        raise InputError(f"has no key {explicit!r} for the {what}", source=source,
                         hint="keys found: " + ", ".join(map(str, d)))
    lower = {str(k).lower(): k for k in d}
    found = [lower[k] for k in keys if k in lower]
    if len(found) > 1 and what != "input":
        raise InputError(f"has several {what} keys ({', '.join(map(repr, found))})", source=source,
                         hint="keep one of them")
    if found:
        return found[0], d[found[0]]
    return None, None


def _payload_from_dict(d: dict, source: str, var: str | None):
    ik, x = _pick(d, INPUT_KEYS, source, "input")
    if ik is None:
        raise InputError("has no input key", source=source,
                         hint="name the predictions 'input' (or logits, probs, predictions); keys found: "
                         + (", ".join(map(str, d)) or "none"))
    tk, y = _pick(d, TARGET_KEYS, source, "target")
    if var and _is_number_list(var):  # the variance was given on the command line: the file's is not used
        vk, v = None, None
    else:
        vk, v = _pick(d, VAR_KEYS, source, "variance", explicit=var)
    return (ik, x), (tk, y), (vk, v)


def _is_number_list(s: str) -> bool:
    try:
        [float(p) for p in s.replace(";", ",").split(",")]
        return True
    except ValueError:
        return False


def _depth(obj: Any) -> int:
    d = 0
    while isinstance(obj, (list, tuple)):
        if not obj:
            return d + 1
        obj = obj[0]
        d += 1
    return d


def _records(records: list, source: str, target_kind: str, var: str | None, line0: int | None = None):
    """A list of records (dicts) → (inputs, targets, vars) as lists; samples stacked, batches joined."""
    xs: list = []
    ys: list = []
    vs: list = []
    keys: tuple | None = None
    for i, rec in enumerate(records):
        line = None if line0 is None else line0 + i
        where = {"source": source, "line": line} if line is not None else {"source": source, "key": f"[{i}]"}
        if not isinstance(rec, dict):
            raise InputError(f"record is a {type(rec).__name__}, not an object with input and target", **where)
        (ik, x), (tk, y), (vk, v) = _payload_from_dict_at(rec, where, var)
        if keys is None:
            keys = (ik, tk, vk)
        if target_kind in SEQUENCE_KINDS:  # lm: one record = one sequence
            xs.append(x)
            ys.append(y)
            continue
        sample = _depth(x) <= 1
        if sample:
            xs.append(x)
            if y is not None:
                ys.append(y)
            if v is not None:
                vs.append(v)
        else:
            xs.extend(x)
            if y is not None:
                ys.extend(y if isinstance(y, list) else [y])
            if v is not None:
                vs.extend(v if isinstance(v, list) else [v])
        if (y is None) != (keys[1] is None):
            raise InputError("record has no target while others do" if y is None else "record has a target while others do not", **where)
    if target_kind in SEQUENCE_KINDS:
        has_t = any(t is not None for t in ys)
        return xs, (ys if has_t else None), None, keys
    return xs, (ys if keys and keys[1] is not None else None), (vs if vs else None), keys


def _payload_from_dict_at(rec: dict, where: dict, var: str | None):
    try:
        return _payload_from_dict(rec, where["source"], var)
    except InputError as e:
        # re-raise with the record's line/index
        msg = e.message.split(": ", 1)[1] if e.message.startswith(f"{where['source']}: ") else e.message
        raise InputError(msg, hint=e.hint, **where) from None


def _describe(keys: tuple, n_what: str) -> str:
    ik, tk, vk = keys
    s = f"key {ik!r} as the input"
    if tk is not None:
        s += f", {tk!r} as the target"
    if vk is not None:
        s += f", {vk!r} as the variance"
    return s


def _read_json(opened: _Opened, kind: str, *, target_kind: str, target_col, input_cols, var) -> Predictions:
    data = opened.stream.read()
    text = _decode(data, opened.name)
    if not text.strip():
        raise InputError("is empty", source=opened.name, hint="expected {\"input\": [...], \"target\": [...]}")
    try:
        obj = json.loads(text)
    except RecursionError:
        raise InputError("is not readable JSON: nested too deeply", source=opened.name,
                         hint="predictions are at most a few levels of lists") from None
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":  # several JSON documents: JSON Lines
            return _read_jsonl(_reopen_text(text, opened), "jsonl", target_kind=target_kind, target_col=target_col,
                               input_cols=input_cols, var=var)
        raise InputError(f"is not valid JSON: {e.msg}", source=opened.name, line=e.lineno,
                         hint=f"column {e.colno} of that line") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise InputError(f"is not readable JSON: {_long_int(e)}", source=opened.name,
                         hint="no loss input needs a number that long; check how the file was written") from None
    preds = Predictions(source=opened.name, format="json")
    if isinstance(obj, dict):
        (ik, x), (tk, y), (vk, v) = _payload_from_dict(obj, opened.name, var)
        preds.raw = (x, y, v)
        preds.notes.append(f"{opened.name}: took {_describe((ik, tk, vk), '')}")
        if ik == "probs":
            preds.notes.append("the input key is 'probs': pass --probs if these are probabilities")
    elif isinstance(obj, list):
        if obj and all(isinstance(r, dict) for r in obj):
            x, y, v, keys = _records(obj, opened.name, target_kind, var)
            preds.raw = (x, y, v)
            preds.notes.append(f"{opened.name}: {len(obj)} records; took {_describe(keys, '')}")
        elif any(isinstance(r, dict) for r in obj):
            i = next(i for i, r in enumerate(obj) if isinstance(r, dict) != isinstance(obj[0], dict))
            raise InputError("mixes records (objects) and plain values", source=opened.name, key=f"[{i}]")
        else:
            preds.raw = (obj, None, None)
            preds.notes.append(f"{opened.name}: a bare list, taken as the input (no target)")
    else:
        kind = {str: "string", int: "number", float: "number", bool: "boolean"}.get(type(obj), "null")
        raise InputError(f"holds a JSON {kind}, not an object with input and target", source=opened.name,
                         hint="expected {\"input\": [...], \"target\": [...]}")
    return preds


def _reopen_text(text: str, opened: _Opened) -> _Opened:
    data = text.encode("utf-8")
    return _Opened(opened.name, io.BytesIO(data), data[:_SNIFF_BYTES], None, len(data), None, False)


def _read_jsonl(opened: _Opened, kind: str, *, target_kind: str, target_col, input_cols, var) -> Predictions:
    preds = Predictions(source=opened.name, format="jsonl", header_lines=0)
    state: dict[str, Any] = {"keys": None}
    text_stream = io.TextIOWrapper(opened.stream, encoding="utf-8-sig", errors="strict", newline=None)

    def records() -> Iterator[tuple[int, list]]:
        batch: list = []
        line0 = 1
        lineno = 0
        try:
            for lineno, line in enumerate(text_stream, 1):
                s = line.strip()
                if not s:
                    continue
                try:
                    rec = json.loads(s)
                except json.JSONDecodeError as e:
                    raise InputError(f"is not valid JSON: {e.msg} (character {e.colno})", source=opened.name,
                                     line=lineno) from None
                except RecursionError:
                    raise InputError("is not readable JSON: nested too deeply", source=opened.name,
                                     line=lineno) from None
                except ValueError as e:  # an integer of more than 4300 digits
                    raise InputError(f"is not readable JSON: {_long_int(e)}", source=opened.name,
                                     line=lineno) from None
                if not batch:
                    line0 = lineno
                batch.append((lineno, rec))
                if len(batch) >= CHUNK_ROWS:
                    yield line0, batch
                    batch = []
        except UnicodeDecodeError as e:
            raise InputError(f"is not UTF-8 text (byte 0x{e.object[e.start]:02x})", source=opened.name,
                             line=lineno + 1, hint="convert it to UTF-8") from None
        if batch:
            yield line0, batch

    def parse(batch: list):
        out_x, out_y, out_v = [], [], []
        for lineno, rec in batch:
            x, y, v, keys = _records([rec], opened.name, target_kind, var, line0=lineno)
            if state["keys"] is None:
                state["keys"] = keys
                preds.notes.append(f"{opened.name}: JSON Lines; took {_describe(keys, '')}")
            elif (keys[1] is None) != (state["keys"][1] is None):
                raise InputError("record has no target while others do" if keys[1] is None
                                 else "record has a target while others do not", source=opened.name, line=lineno)
            out_x.extend(x)
            if y is not None:
                out_y.extend(y)
            if v is not None:
                out_v.extend(v)
        return out_x, (out_y if state["keys"][1] is not None else None), (out_v or None)

    if target_kind in SEQUENCE_KINDS:
        # lm: sequences are ragged; read whole (one record = one sequence)
        xs: list = []
        ys: list = []
        for _, batch in records():
            for lineno, rec in batch:
                x, y, _v, keys = _records([rec], opened.name, target_kind, var, line0=lineno)
                if state["keys"] is None:
                    state["keys"] = keys
                    preds.notes.append(f"{opened.name}: JSON Lines, one sequence per line; took {_describe(keys, '')}")
                xs.extend(x)
                ys.extend(y or [None])
        preds.raw = (xs, ys if any(t is not None for t in ys) else None, None)
        return preds

    def chunks() -> Iterator[Chunk]:
        row0 = 0
        for _, batch in records():
            x, y, v = parse(batch)
            xa = to_array(x, opened.name, "input")
            ya = None if y is None else to_array(y, opened.name, "target")
            va = None if v is None else to_array(v, opened.name, "var")
            yield Chunk(xa, ya, va, row0)
            row0 += len(xa)

    preds._chunks = chunks
    _progress_from(preds, opened)
    return preds


def _progress_from(preds: Predictions, opened: _Opened) -> None:
    raw = opened.raw
    if raw is None or opened.size is None:
        return

    def prog() -> tuple[int, int | None]:
        if opened.consumed[0] and not opened.compressed:
            return opened.consumed[0], opened.size
        try:  # the file position: read ahead by up to a buffer (1 MB), compressed bytes for .gz
            return raw.tell(), opened.size
        except (OSError, ValueError):
            return 0, opened.size

    preds._progress = prog
    preds._close = lambda: _close_file(opened)


# ---------------------------------------------------------------- CSV / TSV


def _select(names: list[str], spec: str, what: str, source: str) -> list[str]:
    """Columns named by a comma list of names or globs, in file order."""
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    out: list[str] = []
    for w in wanted:
        if any(ch in w for ch in "*?["):
            hits = [n for n in names if fnmatch.fnmatchcase(n, w)]
        else:
            hits = [n for n in names if n == w] or [n for n in names if n.lower() == w.lower()]
        if not hits:
            close = _closest(w, names)
            raise InputError(f"no column matches {w!r} ({what})", source=source,
                             hint=(f"did you mean {close!r}? " if close else "") + "columns: " + ", ".join(names))
        out.extend(h for h in hits if h not in out)
    return [n for n in names if n in out]


def _closest(name: str, names: Sequence[str]) -> str | None:
    import difflib

    m = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return m[0] if m else None


def _roles(names: list[str], source: str, target_kind: str, target_col, input_cols, var):
    """Split columns into (inputs, targets, var, ignored) and describe the choice."""
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"has the column {dup!r} twice", source=source, line=1)
    targets: list[str] = []
    if target_col:
        targets = _select(names, target_col, "--target-col", source)
    else:  # lm takes a target column too (token ids next to logits), if there is one
        lower = {n.lower(): n for n in names}
        for cand in TARGET_COLUMNS:
            if cand in lower:
                targets = [lower[cand]]
                break
    var_cols: list[str] = []
    if var and not _is_number_list(var):
        var_cols = _select(names, var, "--var", source)
    elif var is None:
        lower = {n.lower(): n for n in names}
        for cand in VAR_COLUMNS:
            if cand in lower:
                var_cols = [lower[cand]]
                break
    used = set(targets) | set(var_cols)
    ignored: list[str] = []
    if input_cols:
        inputs = _select(names, input_cols, "--input-cols", source)
        clash = [c for c in inputs if c in used]
        if clash:
            raise UsageError(f"column {clash[0]!r} is both an input and the target or variance",
                             hint="leave it out of --input-cols")
        ignored = [n for n in names if n not in inputs and n not in used]
    else:
        inputs = []
        for n in names:
            if n in used:
                continue
            if n.strip().lower() in ID_COLUMNS:
                ignored.append(n)
            else:
                inputs.append(n)
    if not inputs:
        raise InputError("has no input columns" + (f" besides {', '.join(map(repr, sorted(used)))}" if used else ""),
                         source=source, line=1, hint="columns: " + ", ".join(names))
    if target_kind not in SEQUENCE_KINDS and not targets:
        raise InputError("has no target column", source=source, line=1,
                         hint="name it label or target, or pick it with --target-col; columns: " + ", ".join(names))
    desc = f"{source}: took {_cols(inputs)} as the input"
    if targets:
        desc += f", {_cols(targets)} as the target"
    if var_cols:
        desc += f", {_cols(var_cols)} as the variance"
    if ignored:
        desc += f"; ignored {_cols(ignored)}"
    return inputs, targets, var_cols, desc


def _cols(cols: list[str]) -> str:
    if len(cols) <= 4:
        return ", ".join(repr(c) for c in cols)
    return f"{len(cols)} columns ({cols[0]!r} … {cols[-1]!r})"


def _csv_cells(line: str, sep: str, source: str, lineno: int) -> list[str]:
    """The cells of one CSV line; a line the csv module refuses is an InputError at that line."""
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error as e:
        what = "a carriage return (\\r) inside a line" if "new-line" in str(e) else str(e)
        raise InputError(f"is not valid {'TSV' if sep == chr(9) else 'CSV'}: {what}", source=source, line=lineno,
                         hint="line ends must be \\n or \\r\\n; quote cells that hold line breaks") from None


def _header(opened: _Opened, sep: str) -> list[str]:
    head = opened.head
    if not head.strip():
        raise InputError("is empty", source=opened.name, hint="expected a header line and one row per sample")
    first_raw = head.split(b"\n", 1)[0]
    try:
        first = first_raw.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as e:
        raise InputError(f"is not UTF-8 text (byte 0x{first_raw[e.start]:02x} in the header)", source=opened.name,
                         line=1, hint="convert it to UTF-8, e.g. iconv -f latin1 -t UTF-8 FILE") from None
    names = _csv_cells(first, sep, opened.name, 1)
    names = [n.strip() for n in names]
    numeric = 0
    for n in names:
        try:
            float(n)
            numeric += 1
        except ValueError:
            pass
    if names and numeric == len(names):
        raise InputError("has no header line (the first line is all numbers)", source=opened.name, line=1,
                         hint="add a header naming the columns, e.g. label,logit_0,logit_1,...")
    return names


def _sep(head: bytes, kind: str) -> str:
    if kind == "tsv":
        return "\t"
    line = head.split(b"\n", 1)[0]
    if line.count(b",") == 0 and line.count(b";") > 0:
        return ";"
    return ","


def _read_csv(opened: _Opened, kind: str, *, target_kind: str, target_col, input_cols, var) -> Predictions:
    sep = _sep(opened.head, kind)
    names = _header(opened, sep)
    inputs, targets, var_cols, desc = _roles(names, opened.name, target_kind, target_col, input_cols, var)
    preds = Predictions(source=opened.name, format="tsv" if sep == "\t" else "csv", columns=inputs,
                        target_columns=targets, header_lines=1)
    preds.notes.append(desc)
    used = set(inputs) | set(targets) | set(var_cols)
    wanted = [n for n in names if n in used]  # the block's columns, in file order
    pos = {n: i for i, n in enumerate(wanted)}
    _progress_from(preds, opened)

    def take(block: np.ndarray, cols: list[str]) -> np.ndarray:
        idx = [pos[c] for c in cols]
        if idx == list(range(idx[0], idx[0] + len(idx))):
            return block[:, idx[0]:idx[0] + len(idx)]  # adjacent columns: a view, no copy
        return block[:, idx]

    def split(block: np.ndarray, row0: int) -> Chunk:
        x = take(block, inputs)
        y = take(block, targets) if targets else None
        v = take(block, var_cols) if var_cols else None
        if y is not None and y.shape[1] == 1:
            y = y[:, 0]
        if v is not None and v.shape[1] == 1:
            v = v[:, 0]
        if x.shape[1] == 1 and target_kind != "class":
            x = x[:, 0]
        return Chunk(x, y, v, row0)

    engine = csv_engine()

    def chunks() -> Iterator[Chunk]:
        gen = _arrow_blocks if engine == "pyarrow" else _pandas_blocks
        row0 = 0
        try:
            for block in gen(opened, sep, names, wanted):
                if len(block) == 0:
                    continue
                yield split(block, row0)
                row0 += len(block)
        except _ConversionError as e:
            _locate_bad_cell(opened, sep, names, wanted, str(e))
            raise InputError("has a value that is not a number", source=opened.name,
                             hint="every input and target cell must be a number") from None

    preds._chunks = chunks
    preds.notes[-1] = desc
    return preds


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return sys.modules.get(name, True) is not None and importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _idle_cores() -> float:
    cores = _usable_cores()
    try:
        return cores - os.getloadavg()[0]
    except (AttributeError, OSError):
        return float(cores)


def csv_engine() -> str:
    """The CSV reader: ``pyarrow`` when importable, else ``pandas`` (``LOSSCTL_CSV_ENGINE`` overrides)."""
    forced = os.environ.get("LOSSCTL_CSV_ENGINE", "").strip().lower()
    arrow = _importable("pyarrow")
    if forced == "pandas" or not arrow:
        return "pandas"
    return "pyarrow"


def csv_threads() -> bool:
    """Whether pyarrow parses a slice on several threads (``LOSSCTL_CSV_THREADS=0|1`` overrides).

    Threads pay only when cores are free: with four or more cores, or two idle ones (load
    average). On a busy small machine the threads of one slice wait for each other, and one
    thread is faster (2,000,000 × 10 floats under load: 0.61 of the baseline with threads, 0.46
    with one; see bench/README.md). One pyarrow thread parses as fast as pandas' C parser, and
    pyarrow imports 0.2 s faster.
    """
    forced = os.environ.get("LOSSCTL_CSV_THREADS", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return _usable_cores() >= 4 or _idle_cores() >= 1.5


class _ConversionError(Exception):
    pass


def _line_slices(opened: _Opened) -> Iterator[tuple[bytes, int]]:
    """The data lines (after the header) in slices of about CHUNK_BYTES, cut at line ends.

    Yields ``(bytes, line0)``: ``line0`` is the file line of the slice's first line, so a
    parser's complaint can be traced to a line even on stdin. Only for unquoted CSV (a quoted
    cell may hold a line break).
    """
    size = max(int(CHUNK_BYTES), 1)
    stream: Any = opened.stream
    if opened.path is not None and not opened.compressed and opened.raw is not None:
        stream = opened.raw  # a plain file: read it directly, not through the sniffing layers
        stream.seek(0)
    opened.consumed[0] = len(stream.readline())  # the header, already read by _header
    rest = b""
    line0 = 2
    while True:
        data = stream.read(size)
        opened.consumed[0] += len(data)
        buf = rest + data if rest else data
        if not buf:
            return
        if data:
            cut = buf.rfind(b"\n") + 1
            if cut == 0:  # a line longer than the slice: read on
                rest = buf
                continue
            buf, rest = buf[:cut], buf[cut:]
        else:
            rest = b""
        if not buf.isspace():  # (strip() would copy the slice)
            yield buf, line0
        line0 += _count_byte(buf, 10)


def _count_byte(buf: bytes, byte: int) -> int:
    """How many times ``byte`` occurs in ``buf`` (numpy: 4x faster than bytes.count here)."""
    return int(np.count_nonzero(np.frombuffer(buf, dtype=np.uint8) == byte))


def _arrow_blocks(opened: _Opened, sep: str, names: list[str], wanted: list[str]) -> Iterator[np.ndarray]:
    """pyarrow: line slices, each parsed on all cores or one (:func:`csv_threads`); memory holds
    one slice and its columns, whatever the file size (pyarrow's own streaming reader reads many
    blocks ahead: 2-3x the memory). The streaming reader only when the file has quotes."""
    if b'"' in opened.head:
        yield from _arrow_stream(opened, sep, names, wanted)
        return
    import pyarrow as pa
    import pyarrow.csv as pcsv

    threads = csv_threads()
    block = max(int(CHUNK_BYTES) // 2, 1 << 16) if threads else max(int(CHUNK_BYTES) * 2, 1 << 16)
    read = pcsv.ReadOptions(column_names=names, use_threads=threads, block_size=block)
    parse = pcsv.ParseOptions(delimiter=sep)
    conv = pcsv.ConvertOptions(column_types={n: pa.float64() for n in wanted}, include_columns=wanted)
    for buf, line0 in _line_slices(opened):
        try:
            table = pcsv.read_csv(pa.py_buffer(buf), read_options=read, parse_options=parse, convert_options=conv)
        except pa.ArrowInvalid as e:
            _locate_in_slice(buf, line0, opened.name, sep, names, wanted, str(e))
            raise InputError(f"cannot be read as {'TSV' if sep == chr(9) else 'CSV'}: {str(e)[:200]}",
                             source=opened.name) from None
        n = table.num_rows
        if n:
            out = np.empty((n, len(wanted)), dtype=np.float64, order="F")  # column by column; row-wise losses run 2x faster on it
            for j in range(len(wanted)):
                _fill_float64(out[:, j], table.column(j).chunks)
            del table
            yield out


def _fill_float64(dest: np.ndarray, arrays) -> None:
    """Copy pyarrow float64 arrays into ``dest`` (NaN where null) straight from their
    buffers: pyarrow's own ``to_numpy`` imports pandas on first use (0.2 s per run)."""
    off = 0
    for a in arrays:
        n = len(a)
        validity, data = a.buffers()[:2]
        vals = np.frombuffer(data, dtype=np.float64, count=a.offset + n)[a.offset:]
        dest[off:off + n] = vals
        if a.null_count:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little", count=a.offset + n)
            dest[off:off + n][bits[a.offset:] == 0] = np.nan
        off += n


def _locate_in_slice(buf: bytes, line0: int, source: str, sep: str, names: list[str], wanted: list[str],
                     detail: str) -> None:
    """After pyarrow refused a slice: find the bad line and cell in it, and raise an InputError."""
    idx = [names.index(w) for w in wanted]
    for k, raw in enumerate(buf.split(b"\n")):
        lineno = line0 + k
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"is not UTF-8 text (byte 0x{raw[e.start]:02x})", source=source, line=lineno,
                             hint="convert it to UTF-8, e.g. iconv -f latin1 -t UTF-8 FILE") from None
        line = line.rstrip("\r")
        if not line.strip():
            continue
        row = _csv_cells(line, sep, source, lineno)
        if len(row) != len(names):
            raise InputError(f"has {len(row)} cells where the header has {len(names)} columns", source=source,
                             line=lineno, hint="every row needs one cell per header column")
        for j in idx:
            cell = row[j].strip()
            if not _is_number_cell(cell):
                raise InputError(f"{cell[:40]!r} is not a number", source=source, line=lineno, column=names[j],
                                 hint="every input and target cell must be a number")


def _arrow_stream(opened: _Opened, sep: str, names: list[str], wanted: list[str]) -> Iterator[np.ndarray]:
    """Quoted CSV (a quoted cell may hold a line break): pyarrow's streaming reader."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    src: Any = opened.path if opened.path is not None else opened.stream
    if opened.path is not None and opened.raw is not None:
        src = opened.raw  # the open file: tell() drives the progress bar
        opened.raw.seek(0)
    read = pcsv.ReadOptions(block_size=max(int(CHUNK_BYTES), 1 << 10), use_threads=True)
    parse = pcsv.ParseOptions(delimiter=sep)
    conv = pcsv.ConvertOptions(column_types={n: pa.float64() for n in wanted}, include_columns=wanted)
    try:
        reader = pcsv.open_csv(src, read_options=read, parse_options=parse, convert_options=conv)
        for batch in reader:
            n = batch.num_rows
            if n == 0:
                continue
            out = np.empty((n, len(wanted)), dtype=np.float64, order="F")  # column by column; row-wise losses run 2x faster on it
            for j in range(len(wanted)):
                _fill_float64(out[:, j], [batch.column(j)])
            yield out
    except pa.ArrowInvalid as e:
        msg = str(e)
        if "conversion error" in msg or "invalid value" in msg:
            raise _ConversionError(msg) from None
        if "Expected" in msg and "columns" in msg:
            raise InputError(f"has a row with the wrong number of columns ({msg.split(':', 1)[-1].strip()[:120]})",
                             source=opened.name, hint="every row needs one cell per header column") from None
        raise InputError(f"cannot be read as {'TSV' if sep == chr(9) else 'CSV'}: {msg[:200]}", source=opened.name) from None
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"cannot be read as {'TSV' if sep == chr(9) else 'CSV'}: {str(e)[:200]}",
                         source=opened.name) from None


def _pandas_blocks(opened: _Opened, sep: str, names: list[str], wanted: list[str]) -> Iterator[np.ndarray]:
    """pandas' C parser (one thread, float64 columns): line slices, or chunks when the file has quotes."""
    import pandas as pd

    if b'"' not in opened.head:
        cols = [names.index(w) for w in wanted]
        for buf, line0 in _line_slices(opened):
            try:
                df = pd.read_csv(io.BytesIO(buf), sep=sep, header=None, names=names, usecols=cols,
                                 dtype=np.float64, engine="c", encoding="utf-8")
            except (ValueError, pd.errors.ParserError) as e:  # UnicodeDecodeError is a ValueError too
                _locate_in_slice(buf, line0, opened.name, sep, names, wanted, str(e))
                raise InputError(f"cannot be read as {'TSV' if sep == chr(9) else 'CSV'}: {str(e)[:200]}",
                                 source=opened.name) from None
            if _count_byte(buf, ord(sep)) != len(df) * (len(names) - 1):  # pandas pads short rows with NaN
                _locate_in_slice(buf, line0, opened.name, sep, names, wanted, "")
            yield df.to_numpy(dtype=np.float64)  # columns in file order (= wanted); F-ordered, no copy
        return
    row_bytes = max(8, len(opened.head) // max(1, opened.head.count(b"\n")))
    chunksize = max(1, int(CHUNK_BYTES) // row_bytes)
    try:
        reader = pd.read_csv(opened.stream, sep=sep, usecols=wanted, dtype=np.float64, chunksize=chunksize,
                             engine="c", encoding="utf-8-sig")
        for df in reader:
            yield df[wanted].to_numpy(dtype=np.float64)
    except UnicodeDecodeError as e:  # a ValueError: check it first
        raise _ConversionError(f"encoding: {e}") from None
    except pd.errors.ParserError as e:  # a ValueError too
        raise InputError(f"cannot be read as CSV: {str(e)[:200]}", source=opened.name) from None
    except ValueError as e:
        if "could not convert" in str(e) or "Unable to parse" in str(e):
            raise _ConversionError(str(e)) from None
        raise InputError(f"cannot be read as CSV: {e}", source=opened.name) from None


def _locate_bad_cell(opened: _Opened, sep: str, names: list[str], wanted: list[str], detail: str = "") -> None:
    """Say which cell is not a number: rescan the file (only after a failure), or use the reader's words."""
    import re

    src = opened.name
    if opened.path is not None or (opened.compressed and src != "<stdin>" and os.path.isfile(src)):
        idx = [names.index(w) for w in wanted]
        f: IO[bytes] = gzip.open(src, "rb") if opened.compressed else open(src, "rb")  # type: ignore[assignment]
        with f:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
                except UnicodeDecodeError as e:
                    raise InputError(f"is not UTF-8 text (byte 0x{raw[e.start]:02x})", source=src, line=lineno,
                                     hint="convert it to UTF-8, e.g. iconv -f latin1 -t UTF-8 FILE") from None
                if lineno == 1 or not line.strip():
                    continue
                row = _csv_cells(line.rstrip("\r\n"), sep, src, lineno)
                for j in idx:
                    cell = row[j].strip() if j < len(row) else ""
                    if _is_number_cell(cell):
                        continue
                    raise InputError(f"{cell[:40]!r} is not a number", source=src, line=lineno, column=names[j],
                                     hint="every input and target cell must be a number")
    # stdin: the data is gone; pyarrow says "In CSV column #1: ... invalid value 'x'"
    m = re.search(r"column #(\d+).*invalid value '([^']*)'", detail)
    if m:
        j = int(m.group(1))
        col = names[j] if j < len(names) else None  # pyarrow counts the file's columns
        raise InputError(f"{m.group(2)[:40]!r} is not a number", source=src, column=col,
                         hint="every input and target cell must be a number")
    m = re.search(r"could not convert string to float: '([^']*)'", detail)
    if m:
        raise InputError(f"{m.group(1)[:40]!r} is not a number", source=src,
                         hint="every input and target cell must be a number")


_NAN_WORDS = {"", "nan", "-nan", "+nan", "na", "n/a", "null", "none", "inf", "-inf", "+inf", "infinity", "-infinity",
              "+infinity", "#n/a", "1.#ind", "-1.#ind", "1.#qnan", "-1.#qnan", "<na>", "-nan(ind)"}


def _is_number_cell(cell: str) -> bool:
    if cell.lower() in _NAN_WORDS:
        return True
    try:
        float(cell)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------- numpy


def _load_np(opened: _Opened):
    data = opened.stream.read()
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e).lower() or "object" in str(e).lower():
            raise InputError("holds Python objects; lossctl never unpickles data", source=opened.name,
                             hint="save plain numeric arrays (np.save with a float or int array)") from None
        raise InputError(f"is not a readable numpy file: {e}", source=opened.name) from None
    except Exception as e:  # zipfile.BadZipFile, EOFError, OSError
        raise InputError(f"is not a readable numpy file: {e}", source=opened.name) from None


def _read_npy(opened: _Opened, kind: str, *, target_kind: str, target_col, input_cols, var) -> Predictions:
    arr = _load_np(opened)
    if not isinstance(arr, np.ndarray):
        raise InputError("is an .npz archive, not an .npy array", source=opened.name, hint="use --input-format npz")
    preds = Predictions(source=opened.name, format="npy", raw=(_numeric(arr, opened.name, "array"), None, None))
    preds.notes.append(f"{opened.name}: a {'×'.join(map(str, arr.shape))} array, taken as the input (no target)")
    return preds


def _numeric(arr: np.ndarray, source: str, key: str) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        raise InputError(f"holds {arr.dtype} values, not numbers", source=source, key=key)
    return arr


def _read_npz(opened: _Opened, kind: str, *, target_kind: str, target_col, input_cols, var) -> Predictions:
    z = _load_np(opened)
    if isinstance(z, np.ndarray):
        preds = Predictions(source=opened.name, format="npy", raw=(_numeric(z, opened.name, "array"), None, None))
        preds.notes.append(f"{opened.name}: a {'×'.join(map(str, z.shape))} array, taken as the input (no target)")
        return preds
    with z:
        files = list(z.files)
        d = {k: None for k in files}
        (ik, _), (tk, _), (vk, _) = _payload_from_dict(d, opened.name, var) if files else ((None, None),) * 3
        if ik is None:
            if len(files) == 1:
                ik = files[0]
            else:
                raise InputError("has no input array", source=opened.name,
                                 hint="name it 'input' (or logits, probs); arrays found: " + ", ".join(files))
        x = _npz_array(z, ik, opened.name)
        y = _npz_array(z, tk, opened.name) if tk else None
        v = _npz_array(z, vk, opened.name) if vk else None
    preds = Predictions(source=opened.name, format="npz", raw=(x, y, v))
    preds.notes.append(f"{opened.name}: took array {_describe((ik, tk, vk), '')[4:]}")
    return preds


def _npz_array(z, key: str, source: str) -> np.ndarray:
    try:
        arr = z[key]
    except ValueError as e:  # object arrays need pickle: refused
        if "pickle" in str(e).lower() or "object" in str(e).lower():
            raise InputError("holds Python objects; lossctl never unpickles data", source=source, key=key,
                             hint="save plain numeric arrays (np.savez with float or int arrays)") from None
        raise InputError(f"cannot be read: {e}", source=source, key=key) from None
    except Exception as e:  # a damaged member
        raise InputError(f"cannot be read: {e}", source=source, key=key) from None
    return _numeric(arr, source, key)


# ---------------------------------------------------------------- Parquet


def _read_parquet(opened: _Opened, kind: str, *, target_kind: str, target_col, input_cols, var) -> Predictions:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependency("reading Parquet", "parquet", "pyarrow") from None
    src: Any = opened.path if opened.path is not None else io.BytesIO(opened.stream.read())
    try:
        pf = pq.ParquetFile(src)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"is not a readable Parquet file: {e}", source=opened.name) from None
    schema = pf.schema_arrow
    names = list(schema.names)
    inputs, targets, var_cols, desc = _roles(names, opened.name, target_kind, target_col, input_cols, var)
    for n in inputs + targets + var_cols:
        t = schema.field(n).type
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                or pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
            raise InputError(f"holds {t} values, not numbers", source=opened.name, column=n)
    preds = Predictions(source=opened.name, format="parquet", columns=inputs, target_columns=targets)
    preds.notes.append(desc)
    wanted = inputs + targets + var_cols

    def col(batch, name) -> np.ndarray:
        c = batch.column(name)
        t = c.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            return to_array(c.to_pylist(), opened.name, name)
        return c.to_numpy(zero_copy_only=False).astype(np.float64)

    def chunks() -> Iterator[Chunk]:
        row0 = 0
        for batch in pf.iter_batches(batch_size=max(1, int(CHUNK_ROWS)), columns=wanted):
            if batch.num_rows == 0:
                continue
            xs = [col(batch, n) for n in inputs]
            if len(xs) == 1 and (xs[0].ndim > 1 or target_kind != "class"):
                x = xs[0]
            else:
                x = np.column_stack(xs)
            ys = [col(batch, n) for n in targets]
            y = None if not ys else (ys[0] if len(ys) == 1 else np.column_stack(ys))
            vs = [col(batch, n) for n in var_cols]
            v = None if not vs else vs[0]
            yield Chunk(x, y, v, row0)
            row0 += batch.num_rows

    preds._chunks = chunks
    return preds


__all__ = ["Chunk", "Predictions", "read_predictions", "parse_inline", "to_array", "sniff", "INPUT_FORMATS",
           "CHUNK_BYTES", "CHUNK_ROWS"]
