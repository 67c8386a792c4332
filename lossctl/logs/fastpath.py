"""Fast CSV/TSV output for Hugging Face console logs (``lossctl parse big.log --format csv``).

A 1,000,000-step Trainer log is ~110 MB of nearly identical dict lines. Going through
one :class:`Record` per value costs several microseconds per value; this module
produces the very same CSV text (tested against the record path) from byte chunks,
so that most of the work happens inside ``re`` and ``str.join``:

- the file is read in 4 MiB byte chunks ending at a newline;
- a chunk that holds anything besides plain metric dicts and progress bars (an eval
  metrics block, a "Running training" banner, hyper-parameters, ANSI codes, calls,
  non-ASCII-quoted keys, dict assignments, explicit steps...) is handed line by line
  to :func:`lossctl.logs.hf_console.feed`, the normal parser, with the same state;
- a plain chunk is read with two regexes (each dict's first pair, and its closing
  ``'epoch': x}``) when only first-key metrics are asked for (``--metric loss``), or
  dict by dict otherwise; numbers are canonicalised (``repr(float(token))``) through a
  bounded cache, so ``2.8470`` prints ``2.847`` exactly as on the record path.

Step numbering, runs and the "eval dict at the same step again" rule follow
:mod:`lossctl.logs.hf_console` (eval rows of a step are held until the next train
dict, so a repeated eval replaces the earlier one in place, as the record path does).
Logs that resume from a checkpoint ("Continuing training from global step N") or
come from stdin go through the record path (see :func:`applies`).
"""

from __future__ import annotations

import io
import os
import re
from itertools import chain, compress, repeat
from operator import itemgetter, not_
from typing import IO

from lossctl.logs import hf_console, reader, tidy
from lossctl.logs.base import Record
from lossctl.logs.export import _quote, fmt_float, fmt_step

# A chunk is read the fast way only when every line holds exactly one dict (so there
# is no banner, metrics block, hyper-parameter or resume line in it) and none of these
# bytes occurs (assignments, calls, strings, escapes, ANSI codes, backspaces, stars).
# (Each is one memchr pass; longer patterns cost 5-10 times more per byte, so string values
# (': 'abc'', counted by the record path) are kept out by value patterns without quotes, and
# dicts inside lists ([{'...) by a regex.)
_GATE_BYTES = (b"=", b"(", b'"', b"\\", b"\x1b", b"\x08", b"*")
_LIST_DICT_RE = re.compile(rb"\[\{")
_TWO_DICTS_RE = re.compile(rb"\}[^\n{]*\{")  # two dicts on a line (then a line with none could hide)
_STEP_KEY_RE = re.compile(rb"step['\"]\s*:")
_GLUED_RE = re.compile(rb"\][ \t\f\v]*\{['\"]")  # hf_console.glued_bar: a bar, white space, a dict
_DICT_RE = re.compile(rb"\{'[^{}\n\r]*\}")
_PAIR_RE = re.compile(rb"'([^'\n]*)': ([^,}\n']*)")


class _Canon(dict):
    """token bytes -> canonical text (``repr(float)``); raises ValueError for non-numbers."""

    def __missing__(self, tok: bytes) -> str:
        try:
            v = float(tok)
        except ValueError:
            v = hf_console._SPECIAL.get(tok.strip().decode("ascii", "replace"))
            if v is None:
                raise
        s = "nan" if v != v else repr(v)
        if len(self) > 100_000:
            self.clear()
        self[tok] = s
        return s


def _canon_column(col, canon: "_Canon") -> list[str]:
    """Canonical texts (``repr(float(token))``: ``2.8470`` -> ``2.847``, ``0.00`` -> ``0.0``,
    ``NaN`` -> ``nan``) of a column of tokens, as the record path prints them; ValueError for
    a token that is not a number (the chunk then goes line by line). Through the cache when
    tokens repeat (epochs: 4 times faster), else plain ``map`` (faster than a cache that
    mostly misses, and than the regex checks this used before)."""
    if len(col) > 64 and len(set(col[:64])) > 48:
        return list(map(repr, map(float, col)))
    return list(map(canon.__getitem__, col))


class _Suffixed(dict):
    """epoch token -> the separator, the canonical epoch and a fixed suffix (",train,loss,")."""

    def __init__(self, canon: _Canon, sep: str, suffix: str) -> None:
        super().__init__()
        self.canon = canon
        self.sep = sep
        self.suffix = suffix

    def __missing__(self, tok: bytes) -> str:
        v = self[tok] = self.sep + self.canon[tok] + self.suffix
        if len(self) > 100_000:
            self.clear()
        return v


class _Bail(Exception):
    """This chunk needs the line-by-line parser."""


def applies(stream, *, run=None) -> bool:
    """Use the fast path: an HF console log in a file, with no resume inside it and no
    dict with its own step (steps could then go back, and the record path's
    de-duplication and run splitting are needed). The check reads the file in 8 MiB
    blocks (not mmap: mapped pages would count in the process's RSS)."""
    if stream.format != hf_console.NAME or stream.src.path is None or not _utf8(stream.src):
        return False
    try:
        with stream.src.open_bytes() as fh:
            tail = b""
            while data := fh.read(1 << 23):
                if _needs_records(data, tail):
                    return False
                tail = data[-64:]
        return True
    except (OSError, ValueError):
        return False


def _utf8(src) -> bool:
    """The scanner reads UTF-8 bytes: a UTF-16/32 log (by BOM) or one read as Latin-1
    goes through the record path, which decodes it (the same test as the reader's)."""
    try:
        with src.open_bytes() as fh:
            head = fh.read(reader.SAMPLE_BYTES)
    except (OSError, ValueError, EOFError):
        return False
    return reader._encoding_for(head)[0] == "utf-8"


def _needs_records(data: bytes, tail: bytes) -> bool:
    """A resume ("Continuing training"), a dict with its own step, or a dict glued to a
    progress bar (``...| 5/100 [00:01<00:09]{'loss': ...``: without logging_steps in the
    log, the bar's counter is the step) in this block."""
    edge = tail + data[:64]
    if _STEP_KEY_RE.search(data) or _STEP_KEY_RE.search(edge):
        return True
    if _GLUED_RE.search(data) or _GLUED_RE.search(edge):
        return True
    # 'C' is found memchr-fast: the long search only runs when it could match
    return (b"C" in data or b"C" in edge) and (b"Continuing training" in data or b"Continuing training" in edge)


def run(stream, out: IO[str], sep: str = ",", metrics=None, splits=None, run=None) -> int | None:
    """Write the long CSV/TSV of an HF console log the fast way; None (nothing written)
    when the fast path does not apply: then use the record path.

    For a big uncompressed file, the check of :func:`applies` runs in the child
    process that reads the second half, while this process reads the first half and
    holds its output until the child's verdict (a few MB at most).

    The cyclic garbage collector is paused meanwhile: the regexes return a tuple per
    dict, which would start a collection every 700 of them (nothing here makes cycles)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(stream, out, sep, metrics, splits, run)
    finally:
        if enabled:
            gc.enable()


def _run(stream, out: IO[str], sep: str, metrics, splits, run) -> int | None:
    if stream.format != hf_console.NAME or stream.src.path is None or not _utf8(stream.src):
        return None
    size = _plain_size(stream.src.path)
    if size is None or size < PARALLEL_MIN_BYTES + reader.CHUNK or not hasattr(os, "fork"):
        if not applies(stream, run=run):
            return None
        return write_csv(stream, out, sep, metrics, splits, run)
    held = _Held(out)
    try:
        return write_csv(stream, held, sep, metrics, splits, run, verdict=True)
    except _NotApplicable:
        # start again on the record path with a clean context
        from lossctl.logs.base import ParseContext

        stream.ctx = ParseContext(source=stream.source)
        stream.ctx.lineno = 0
        return None


class _NotApplicable(Exception):
    pass


class _Held:
    """Holds what is written until :meth:`release` (then writes pass through)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.parts: list[str] | None = []
        self.size = 0

    def write(self, text: str) -> int:
        if self.parts is None:
            return self.out.write(text)
        self.parts.append(text)
        self.size += len(text)
        return len(text)

    def release(self) -> None:
        if self.parts is not None:
            self.out.write("".join(self.parts))
            self.parts = None

    def flush(self) -> None:
        if self.parts is None:
            self.out.flush()


class _Writer:
    def __init__(self, out: IO[str], sep: str, metrics, splits, run, header: bool = True) -> None:
        self.out = out
        self.sep = sep
        self.metrics = set(metrics or ())
        self.splits = set(splits or ())
        self.run = run
        self.rows = 0
        self.names: dict[tuple[str, str, str], str | None] = {}  # (orig, split, metric) -> "split,metric" or None
        self.pending_eval: dict[tuple[str, str], str] = {}  # eval rows of the current step
        self.pending_step = None
        self.loss_any = False
        # eval records of the current eval step, to count the ones logged again there (as
        # the record path's de-duplication, which says how many it dropped)
        self.dups = 0
        self.eval_seen: set[tuple[str, str]] = set()
        self.eval_seen_at: tuple | None = None
        if header:
            out.write(sep.join(("run", "step", "epoch", "split", "metric", "value")) + "\n")

    def wanted(self, name: str, split: str, metric: str) -> str | None:
        key = (name, split, metric)
        mid = self.names.get(key, 0)
        if mid == 0:
            ok = (not self.splits or split in self.splits) and (
                not self.metrics or metric in self.metrics or name in self.metrics)
            mid = self.names[key] = f"{_quote(split, self.sep)}{self.sep}{_quote(metric, self.sep)}" if ok else None
        return mid

    def seen_eval(self, run: int, step, series) -> None:
        if self.eval_seen_at != (run, step):
            self.eval_seen_at = (run, step)
            self.eval_seen = set()
        for key in series:
            if key in self.eval_seen:
                self.dups += 1
            else:
                self.eval_seen.add(key)

    def flush_eval(self, parts: list[str]) -> None:
        if self.pending_eval:
            parts.extend(self.pending_eval.values())
            self.rows += len(self.pending_eval)
            self.pending_eval = {}

    def add_record(self, r: Record, parts: list[str]) -> None:
        if not self.loss_any and tidy.is_loss(r.metric):
            self.loss_any = True
        run = r.run + 1
        if r.split != "train":
            self.seen_eval(run, r.step, ((r.split, r.metric),))
        if self.run is not None and run != self.run:
            return
        mid = self.wanted(r.name, r.split, r.metric)
        if mid is None:
            return
        sep = self.sep
        row = f"{run}{sep}{fmt_step(r.step)}{sep}{fmt_float(r.epoch)}{sep}{mid}{sep}{fmt_float(r.value)}\n"
        if r.split == "train":
            self.flush_eval(parts)
            parts.append(row)
            self.rows += 1
        else:
            if self.pending_step != (run, r.step):
                self.flush_eval(parts)
                self.pending_step = (run, r.step)
            self.pending_eval[mid] = row


PARALLEL_MIN_BYTES = 16 << 20  # a second process reads the second half of bigger logs


def write_csv(stream, out: IO[str], sep: str = ",", metrics=None, splits=None, run=None,
              verdict: bool = False) -> int:
    """Write ``stream``'s records as long CSV/TSV; returns the number of rows.

    For a big uncompressed file on a system with ``fork``, a child process reads the
    second half (from a line boundary) while this one reads the first. The child's rows
    are used only if the first half ends in exactly the state the child assumed (plain
    dicts only: same run, step count and logging_steps, no pending banner or block, no
    eval dict straddling the middle); otherwise this process reads the second half too.
    Either way the output is the same.
    """
    ctx = stream.ctx
    st = hf_console._State(ctx)
    w = _Writer(out, sep, metrics, splits, run)
    canon = _Canon()
    # first-key mode: every wanted series is the first key of its dicts (train 'loss', 'eval_loss')
    first_key_only = bool(w.metrics) and w.metrics <= {"loss"} and (not w.splits or w.splits <= {"train", "eval"})
    lineno = 0
    path = stream.src.path
    size = _plain_size(path)

    child = None

    def await_verdict(block: bool) -> None:
        """``verdict``: the child says whether the whole file suits the fast path."""
        nonlocal verdict
        if not verdict or child is None:
            return
        if not block:
            import select

            if not select.select([child[1]], [], [], 0)[0]:
                return
        answer = os.read(child[1], 1)
        verdict = False
        if answer != b"1":
            _kill(child)
            raise _NotApplicable
        out.release()

    def read(chunks) -> None:
        nonlocal lineno
        for chunk in chunks:
            parts: list[str] = []
            lineno += _one_chunk(chunk, lineno, st, ctx, w, canon, first_key_only, parts, allow_slow=True)
            if parts:
                out.write("".join(parts))
            if verdict:
                await_verdict(block=out.size > (64 << 20))

    if size is None:
        read(reader.iter_bytes_chunks(stream.src))
    else:
        # the first chunk alone (it usually holds the hyper-parameters), then halves
        b1 = _line_boundary(path, min(size, reader.CHUNK))
        mid = size
        if verdict:
            # fork first: the child checks the whole file while this process reads
            mid = max(b1, _line_boundary(path, size // 2))
            child = _fork_reader(path, mid, size, ctx, w, first_key_only, sep, metrics, splits, run,
                                 check=True, first_chunk_end=b1)
        try:
            read(_Range(stream.src, path, 0, b1))
            if child is None and size - b1 >= PARALLEL_MIN_BYTES and hasattr(os, "fork"):
                mid = max(b1, _line_boundary(path, size // 2))
                out.flush()
                child = _fork_reader(path, mid, size, ctx, w, first_key_only, sep, metrics, splits, run)
            read(_Range(stream.src, path, b1, mid))
            await_verdict(block=True)
        except BaseException:  # not applicable, interrupted, broken pipe: no child left behind
            if child is not None:
                _kill(child)
            raise
        if mid < size and not (child is not None and _adopt(child, st, ctx, w, out)):
            read(_Range(stream.src, path, mid, size))
    parts = []
    for r in hf_console.finish(st, ctx):
        w.add_record(r, parts)
    w.flush_eval(parts)
    out.write("".join(parts))
    if w.dups:
        ctx.note(tidy.duplicates_note(w.dups))
    if run is not None and run > st.run + 1:
        from lossctl.errors import InputError

        raise InputError(f"there is no run {run} in this log", source=stream.source)
    if not w.loss_any:
        names = {n for (n, _, _) in w.names}
        stream.metrics_seen.update(dict.fromkeys(sorted(names)))
        stream._no_loss()
    stream.loss_seen = True
    return w.rows


def _one_chunk(chunk, lineno, st, ctx, w, canon, first_key_only, parts, allow_slow: bool) -> int | None:
    """Read one chunk the fast way if it can be, else line by line; returns its number of
    lines. None: it needed the slow way and ``allow_slow`` was off (nothing was read)."""
    n = chunk.count(b"\n")
    if (chunk.count(b"{") == n and not any(g in chunk for g in _GATE_BYTES) and not _LIST_DICT_RE.search(chunk)
            and not _TWO_DICTS_RE.search(chunk)
            and not ctx.hparams.get("logging_first_step") and st.held is None
            and st.wrap is None):
        saved = _snapshot(st, w)
        try:
            if not (first_key_only and _pairs_chunk(chunk, n, st, ctx, w, canon, parts)) and not _shape_chunk(
                    chunk, n, st, ctx, w, canon, parts):
                _dict_chunk(chunk, st, ctx, w, canon, parts)
            return n
        except (_Bail, ValueError, UnicodeError):
            parts.clear()
            _restore(st, w, saved)
    if not allow_slow:
        return None
    _slow_chunk(chunk, lineno, st, ctx, w, parts)
    return n


def _plain_size(path) -> int | None:
    """Size of an uncompressed regular file (ranges can be read from it), else None."""
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
            if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\xef\xbb\xbf")):
                return None
            fh.seek(0, 2)
            return fh.tell()
    except OSError:
        return None


def _line_boundary(path, pos: int) -> int:
    """The start of the first line at or after byte ``pos`` (the file size if none)."""
    with open(path, "rb") as fh:
        fh.seek(pos)
        if pos == 0:
            return 0
        fh.seek(pos - 1)
        while data := fh.read(1 << 20):
            i = data.find(b"\n")
            if i >= 0:
                return fh.tell() - len(data) + i + 1
        return fh.tell()


class _Range:
    """Chunks of ``path`` from ``start`` to ``end`` (both at line starts), ending at newlines."""

    def __init__(self, src, path, start: int, end: int, size: int = reader.CHUNK) -> None:
        self.path, self.pos, self.end, self.size = path, start, end, size
        if start == 0:
            with open(path, "rb") as fh:
                reader.check_lfs(fh.read(200), src.name)

    def __iter__(self):
        with open(self.path, "rb") as fh:
            fh.seek(self.pos)
            rest = b""
            while self.pos < self.end:
                data = fh.read(min(self.size, self.end - self.pos))
                if not data:
                    break
                self.pos += len(data)
                data = rest + data
                cut = data.rfind(b"\n") + 1 if self.pos < self.end else len(data)
                rest = data[cut:]
                if cut:
                    yield data[:cut]
            if rest:
                yield rest


def _fork_reader(path, mid, size, ctx, w: _Writer, first_key_only, sep, metrics, splits, run,
                 check: bool = False, first_chunk_end: int = 0):
    """Fork a child that reads [mid, size) assuming plain dicts before ``mid``.

    With ``check``, the child first reads the whole file for what needs the record path
    (see :func:`applies`) and writes its verdict (one byte, ``1`` = fast path fine) to
    the pipe before its report; it also learns the hyper-parameters of the first chunk
    itself (the parent has not read it yet)."""
    import json
    import tempfile

    tmp = tempfile.TemporaryFile()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(wfd)
        return pid, rfd, tmp
    # ---- child: never returns
    code = 0
    try:
        os.close(rfd)
        k = 0
        with open(path, "rb") as fh:
            pos = 0
            tail = b""
            fine = True
            while pos < (size if check else mid):
                data = fh.read(1 << 23)
                if not data:
                    break
                if check and fine and _needs_records(data, tail):
                    fine = False
                    break
                tail = data[-64:]
                if pos < mid:
                    k += data[:mid - pos].count(b"{'loss': ")
                pos += len(data)
        if check:
            os.write(wfd, b"1" if fine else b"0")
            if not fine:
                os._exit(0)
            # the hyper-parameters of the first chunk (the parent reads it at the same time):
            # only its lines that are not metric dicts
            with open(path, "rb") as fh:
                for raw in fh.read(first_chunk_end).split(b"\n"):
                    if b"{'" not in raw and (b"=" in raw or b":" in raw):
                        hf_console.read_hparams(raw.decode("utf-8", "replace"), ctx)
        ls = hf_console._logging_steps(ctx)
        st = hf_console._State(ctx)
        st.train_count = k
        st.last_train_step = k * ls
        st.started = k > 0
        text = io.TextIOWrapper(tmp, encoding="utf-8", newline="")
        w2 = _Writer(text, sep, metrics, splits, run, header=False)
        w2.loss_any = w.loss_any
        canon = _Canon()
        ok = True
        first_eval = False
        for i, chunk in enumerate(_Range(None, path, mid, size)):
            if i == 0:
                j = chunk.find(b"{'")
                first_eval = j >= 0 and chunk.startswith(b"{'eval_", j)
            parts: list[str] = []
            if _one_chunk(chunk, 0, st, ctx, w2, canon, first_key_only, parts, allow_slow=False) is None:
                ok = False
                break
            if parts:
                text.write("".join(parts))
        text.flush()
        report = {
            "ok": ok and not first_eval and not st.banner, "k": k, "ls": ls, "plan": hf_console.plan_key(st),
            "state": [getattr(st, a) for a in _STATE], "eval_values": list(st.last_eval_values.items()),
            "pending": list(w2.pending_eval.items()), "pending_step": w2.pending_step,
            "rows": w2.rows, "loss_any": w2.loss_any, "dups": w2.dups,
            "eval_seen": sorted(w2.eval_seen), "eval_seen_at": w2.eval_seen_at,
            "hparams": sorted(ctx.hparams.items()),
        }
        data = json.dumps(report).encode()
        while data:
            n = os.write(wfd, data)
            data = data[n:]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _kill(child) -> None:
    import signal

    pid, rfd, tmp = child
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:  # already gone / reaped
        pass
    try:
        os.close(rfd)
    except OSError:
        pass
    tmp.close()


def _adopt(child, st, ctx, w: _Writer, out) -> bool:
    """Use the child's rows if the first half ended as it assumed; always reaps it."""
    import json

    pid, rfd, tmp = child
    chunks = []
    while True:
        b = os.read(rfd, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(rfd)
    _, status = os.waitpid(pid, 0)
    try:
        rep = json.loads(b"".join(chunks) or b"null")
        if not rep or not rep["ok"] or os.waitstatus_to_exitcode(status) != 0:
            return False
        if (st.train_count != rep["k"] or st.run != 0 or st.banner or st.block is not None
                or hf_console._logging_steps(ctx) != rep["ls"] or hf_console.plan_key(st) != rep.get("plan")
                or st.wrap is not None or sorted(map(list, ctx.hparams.items())) != rep.get("hparams")):
            return False  # (the child read the hyper-parameters of the first chunk only)
        parts: list[str] = []
        w.flush_eval(parts)
        out.write("".join(parts))
        tmp.seek(0)
        while data := tmp.read(1 << 22):
            out.write(data.decode("utf-8"))
        for a, v in zip(_STATE, rep["state"]):
            setattr(st, a, v)
        st.last_eval_values = dict(rep["eval_values"])
        w.pending_eval = dict((k, v) for k, v in rep["pending"])
        w.pending_step = tuple(rep["pending_step"]) if rep["pending_step"] else None
        w.rows += rep["rows"]
        w.dups += rep["dups"]
        w.eval_seen = set(map(tuple, rep["eval_seen"]))
        w.eval_seen_at = tuple(rep["eval_seen_at"]) if rep["eval_seen_at"] is not None else None
        w.loss_any = w.loss_any or rep["loss_any"]
        return True
    finally:
        tmp.close()


_STATE = ("run", "train_count", "last_train_step", "started", "banner", "entry", "last_eval_step")


def _snapshot(st, w: _Writer):
    return ([getattr(st, a) for a in _STATE], dict(st.last_eval_values), dict(w.pending_eval),
            w.pending_step, w.rows, w.loss_any, w.dups, set(w.eval_seen), w.eval_seen_at)


def _restore(st, w: _Writer, saved) -> None:
    vals, names, pending, pstep, rows, loss_any, w.dups, w.eval_seen, w.eval_seen_at = saved
    for a, v in zip(_STATE, vals):
        setattr(st, a, v)
    st.last_eval_values = names
    w.pending_eval, w.pending_step, w.rows, w.loss_any = pending, pstep, rows, loss_any


def _dedup_entry(recs: list[Record]) -> list[Record]:
    """Records of one dict with the same (split, metric): the last value at the first place."""
    out: list[Record] = []
    at: dict[tuple, int] = {}
    for r in recs:
        key = (r.group, r.split, r.metric)
        if key in at:
            out[at[key]] = r
        else:
            at[key] = len(out)
            out.append(r)
    return out


def _slow_chunk(chunk: bytes, lineno: int, st, ctx, w: _Writer, parts: list[str]) -> None:
    text = chunk.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, raw in enumerate(lines, start=lineno + 1):
        ctx.lineno = i
        if "\r" in raw or "\x1b" in raw or "\x08" in raw:
            segs = reader.clean_segments(raw)
        else:
            segs = [reader.strip_prefixes(raw.strip())]
        for seg in segs:
            recs = hf_console.feed(seg, st, ctx)
            if len(recs) > 1:
                n = len(recs)
                recs = _dedup_entry(recs)
                w.dups += n - len(recs)
            for r in recs:
                w.add_record(r, parts)


def _line_rows(chunk: bytes, n: int, rx) -> tuple[list, list[int]] | None:
    """``rx`` (``\\{'(?:<train dict>|(eval_...))``) over a chunk of ``n`` lines that hold one
    dict each: (one tuple per dict, in order; indices of the eval dicts, whose last group
    is their text after ``{'``), or None when a dict is not of the train shape or an eval."""
    rows = rx.findall(chunk)
    if len(rows) != n:
        return None
    evals = list(compress(range(n), map(itemgetter(-1), rows))) if b"{'eval_" in chunk else []
    return rows, evals


def _first_train_dict(chunk: bytes, w: _Writer):
    """(keys, :func:`_shape`) of the chunk's first dict that starts with 'loss' (the train
    shape the chunk readers compile their regex for), or None."""
    i = chunk.find(b"{'loss': ")
    if i < 0:
        return None
    keys = tuple(k for k, _ in _PAIR_RE.findall(chunk[i:chunk.find(b"}", i) + 1]))
    return keys, _shape(keys, w)


def _pairs_chunk(chunk: bytes, n: int, st, ctx, w: _Writer, canon: _Canon, parts: list[str]) -> bool:
    """``--metric loss``: train dicts (all of the first train dict's keys, in its order, and
    nothing but 'loss' wanted among them) as (loss, epoch) pairs with one regex. False:
    not applicable (the general readers take the chunk)."""
    cache = w.__dict__.setdefault("_pairs_shape", {})
    if "rx" not in cache:
        first = _first_train_dict(chunk, w)
        if first is None:
            return False
        keys, shape = first
        want = w.wanted("loss", "train", "loss")
        if (shape[0] != "train" or shape[2] is None or keys[0] != b"loss" or shape[1] not in ([], [(0, want)])
                or keys[-1] != b"epoch"):
            cache["rx"] = None  # the pairs must come out as (loss, epoch)
        else:
            cache["rx"] = re.compile(rb"\{'(?:loss': ([^,}\n']*)" + b"".join(
                rb", '" + re.escape(k) + rb"': " + (rb"([^,}\n']*)" if k == b"epoch" else rb"[^,}\n']*")
                for k in keys[1:]) + rb"\}|(eval_[^\n]*))")
    rx = cache["rx"]
    if rx is None:
        return False
    found = _line_rows(chunk, n, rx)
    if found is None:
        return False
    _train_rows(found[0], found[1], st, ctx, w, canon, parts, pairs_mode=True)
    return True


def _train_rows(rows, evals, st, ctx, w: _Writer, canon: _Canon, parts: list[str], pairs_mode: bool,
                cols=(), ep_i=None, has_loss=True) -> None:
    """Rows of the train dicts of a chunk, in runs between its eval dicts (read one by one,
    in place). ``pairs_mode``: rows are (loss, epoch, eval) and only the train loss is
    wanted; else rows hold the train shape's values and ``cols`` says which are wanted."""
    ls = hf_console._logging_steps(ctx)
    n_train = len(rows) - len(evals)
    if st.banner and n_train:
        raise _Bail
    if n_train and has_loss and not w.loss_any:
        w.loss_any = True
    run = st.run + 1
    sep = w.sep
    skip_run = w.run is not None and run != w.run
    if pairs_mode:
        want = None if skip_run else w.wanted("loss", "train", "loss")
        mid_after = w.__dict__.get("_mid_after")
        if mid_after is None or mid_after.suffix != f"{sep}{want}{sep}" or mid_after.sep != sep:
            mid_after = w.__dict__["_mid_after"] = _Suffixed(canon, sep, f"{sep}{want}{sep}")
    else:
        want = not skip_run and bool(cols)
        if want and n_train:
            train = list(compress(rows, map(not_, map(itemgetter(-1), rows)))) if evals else rows
            columns = list(zip(*train))
            eps = _canon_column(columns[ep_i], canon)
            vals = [_canon_column(columns[i], canon) for i, _ in cols]
    c = canon.__getitem__
    start = 0  # index in rows
    done = 0  # train rows before ``start``
    for b in evals + [len(rows)]:
        count = b - start
        if count:
            c0 = st.train_count
            if want:
                w.flush_eval(parts)
                lead = f"{run}{sep}"
                if ls == int(ls):
                    steps = map(str, range(int((c0 + 1) * ls), int((c0 + count) * ls) + 1, int(ls)))
                else:
                    steps = (fmt_step((c0 + j) * ls) for j in range(1, count + 1))
                if pairs_mode:
                    seg = rows[start:b] if start or b < len(rows) else rows
                    # a row is step, then ",epoch,split,metric," (one piece, cached: epochs
                    # repeat), the value and "\nrun," (the next row's lead; the last one is cut)
                    text = "".join(chain.from_iterable(zip(
                        steps, map(mid_after.__getitem__, map(itemgetter(1), seg)), map(c, map(itemgetter(0), seg)),
                        repeat("\n" + lead))))
                    w.rows += count
                    parts.append(lead)
                    parts.append(text[:-len(lead)])
                else:
                    # a row is "\nrun,step,", the epoch, ",split,metric," and the value (the
                    # heads are shared by the metrics of a step; the first newline is cut)
                    heads = [f"\n{lead}{x}{sep}" for x in steps]
                    seg_eps = eps[done:done + count]
                    pieces = []
                    for (_, mid), col in zip(cols, vals):
                        pieces += [heads, seg_eps, repeat(f"{sep}{mid}{sep}"), col[done:done + count]]
                    parts.append("".join(chain.from_iterable(zip(*pieces)))[1:])
                    parts.append("\n")
                    w.rows += count * len(cols)
            st.train_count = c0 + count
            st.last_train_step = st.train_count * ls
            st.started = True
            st.entry += count
            done += count
        if b < len(rows):
            _eval_dict(b"{'" + rows[b][-1], st, w, canon, run, parts)
        start = b + 1


def _eval_dict(d: bytes, st, w: _Writer, canon: _Canon, run: int, parts: list[str]) -> None:
    """One eval dict of a fast chunk, read in full (it is rare): rows held until the next
    train dict, a repeated eval at the same step replaces them (as the record path)."""
    pairs = _PAIR_RE.findall(d)
    if (len(pairs) != d.count(b",") + 1 or len(pairs) != d.count(b"': ") or d.count(b"'") != 2 * len(pairs)
            or not d.rstrip().endswith(b"}")):
        raise _Bail  # not every pair is "'key': number", or not a whole dict
    keys = tuple(map(itemgetter(0), pairs))
    shapes = w.__dict__.setdefault("_shapes", {})
    shape = shapes.get(keys)
    if shape is None:
        shape = shapes[keys] = _shape(keys, w)
    ekind, ecols, eep, ehas = shape
    if ekind != "eval":
        raise _Bail
    if ehas and not w.loss_any:
        w.loss_any = True
    step = hf_console.eval_step(st, epoch=tidy.to_float(pairs[eep][1].decode("ascii", "replace")) if eep is not None
                                else None, fast=True)  # NeedsRecordPath (a ValueError): the slow way
    st.entry += 1
    series = w.__dict__.setdefault("_eval_series", {})
    ss = series.get(keys)
    if ss is None:
        ss = series[keys] = [tidy.canonical(k.decode("utf-8", "replace")) for k in keys
                             if k != b"epoch" and k.decode("utf-8", "replace") not in hf_console._SKIP_KEYS]
    w.seen_eval(run, step, ss)
    for k, v in pairs:
        if k != b"epoch":
            f = tidy.to_float(v.decode("utf-8", "replace"))
            if f is not None:
                st.last_eval_values[k.decode("utf-8", "replace")] = f
    if ecols and not (w.run is not None and run != w.run):
        if w.pending_step != (run, step):
            w.flush_eval(parts)
            w.pending_step = (run, step)
        c = canon.__getitem__
        sep = w.sep
        h = f"{run}{sep}{fmt_step(step)}{sep}{c(pairs[eep][1]) if eep is not None else ''}{sep}"
        for i, mid in ecols:
            w.pending_eval[mid] = f"{h}{mid}{sep}{c(pairs[i][1])}\n"


def _shape_chunk(chunk: bytes, n: int, st, ctx, w: _Writer, canon: _Canon, parts: list[str]) -> bool:
    """All train dicts of the chunk have the train shape seen first: read them column-wise
    with one regex; eval dicts (rare) one by one in place. False: not applicable."""
    if st.banner:
        return False
    cache = w.__dict__.setdefault("_train_shape", {})
    if "rx" not in cache:
        first = _first_train_dict(chunk, w)
        if first is None:
            return False
        keys, shape = first
        if shape[0] != "train" or shape[2] is None:
            return False
        cache["rx"] = re.compile(rb"\{'(?:" + rb", '".join(re.escape(k) + rb"': ([^,}\n']*)" for k in keys)
                                 + rb"\}|(eval_[^\n]*))")
        cache["shape"] = shape
    rx, (_, cols, ep_i, has_loss) = cache["rx"], cache["shape"]
    found = _line_rows(chunk, n, rx)
    if found is None:
        return False
    _train_rows(found[0], found[1], st, ctx, w, canon, parts, pairs_mode=False, cols=cols, ep_i=ep_i,
                has_loss=has_loss)
    return True


def _dict_chunk(chunk: bytes, st, ctx, w: _Writer, canon: _Canon, parts: list[str]) -> None:
    dicts = _DICT_RE.findall(chunk)
    if not (len(dicts) == chunk.count(b"{'") == chunk.count(b"\n")):
        raise _Bail
    if st.banner and dicts:
        raise _Bail
    shapes = w.__dict__.setdefault("_shapes", {})
    ls = hf_console._logging_steps(ctx)
    sep = w.sep
    c = canon.__getitem__
    flush = w.flush_eval
    append = parts.append
    run = st.run + 1
    skip_run = w.run is not None and run != w.run
    for d in dicts:
        pairs = _PAIR_RE.findall(d)
        if len(pairs) != d.count(b",") + 1 or len(pairs) != d.count(b"': ") or d.count(b"'") != 2 * len(pairs):
            raise _Bail  # not every pair is "'key': number" (no space, a stray comma, a string...)
        keys = tuple(map(itemgetter(0), pairs))
        shape = shapes.get(keys)
        if shape is None:
            shape = shapes[keys] = _shape(keys, w)
        kind, cols, ep_i, has_loss = shape
        if has_loss and not w.loss_any:
            w.loss_any = True
        if kind == "train":
            st.train_count += 1
            st.started = True
            step = st.train_count * ls
            st.last_train_step = step
            st.entry += 1
            if skip_run or not cols:
                continue
            flush(parts)
            head = f"{run}{sep}{fmt_step(step)}{sep}{c(pairs[ep_i][1]) if ep_i is not None else ''}{sep}"
            for i, mid in cols:
                append(f"{head}{mid}{sep}{c(pairs[i][1])}\n")
            w.rows += len(cols)
        elif kind == "eval":
            _eval_dict(d, st, w, canon, run, parts)
        else:
            raise _Bail


def _shape(keys: tuple[bytes, ...], w: _Writer):
    """('train'|'eval'|'other', [(index, "split,metric") wanted], index of epoch, has a loss)."""
    names = [k.decode("utf-8", "replace") for k in keys]
    if len(set(names)) != len(names):
        return ("other", [], None, False)  # a key twice ('epoch' twice): the record path
    pairs = [(n, 0.0) for n in names]
    if not hf_console.is_metric_dict(pairs) or "train_runtime" in names or any(
            n in ("step", "global_step", "total_flos") for n in names):
        return ("other", [], None, False)
    if "train_loss" in names and "loss" not in names:
        return ("other", [], None, False)
    ep_i = names.index("epoch") if "epoch" in names else None
    named = [(i, n, tidy.canonical(n)) for i, n in enumerate(names) if n != "epoch"]
    if not named:
        return ("other", [], None, False)
    kind = "train" if any(sm[0] == "train" for _, _, sm in named) else "eval"
    # two keys of one dict with the same canonical name (loss, total_loss): the last value
    # at the place of the first, as the record path's de-duplication
    order: dict[str, int] = {}
    for i, n, (split, metric) in named:
        mid = w.wanted(n, split, metric)
        if mid is not None:
            order[mid] = i
    cols = [(i, mid) for mid, i in order.items()]
    return (kind, cols, ep_i, any(tidy.is_loss(m) for _, _, (_, m) in named))
