"""What ``lossctl parse`` does once its options are read (kept out of cli.py so the
command stays a few lines and ``lossctl --help`` imports none of this)."""

from __future__ import annotations

import sys
from typing import Iterable, Iterator

from lossctl import errors
from lossctl import output as out_mod
from lossctl.logs import export
from lossctl.logs.base import SPLITS, Record


def _table(title, columns, rows, fold=()) -> None:
    """A plain aligned table (names left, numbers right), never truncated: lines may
    be longer than the terminal rather than lose a column."""
    cells = [[c if isinstance(c, str) else out_mod.format_number(c, 4) for c in row] for row in rows]
    numeric = [bool(rows) and all(not isinstance(r[i], str) for r in rows) for i in range(len(columns))]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]

    def line(vals) -> str:
        parts = [v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths))]
        return "  ".join(parts).rstrip()

    color = out_mod.color_enabled(sys.stdout)
    w = sys.stdout.write
    if title:
        w(title + "\n")
    head = line(columns)
    w((f"\x1b[1m{head}\x1b[0m" if color else head) + "\n")
    w("  ".join("-" * x for x in widths) + "\n")
    for r in cells:
        w(line(r) + "\n")


def print_formats(fmt: str) -> None:
    from lossctl.logs import list_formats

    rows = list_formats()
    if fmt == "table":
        for r in rows:
            sys.stdout.write(f"{r['name']}\n    {r['description']}\n    example: {r['example']}\n")
    else:
        out_mod.write_rows(rows, ["name", "description", "example", "kind"], fmt)


def _check_splits(splits: list[str] | None) -> list[str] | None:
    if not splits:
        return None
    from lossctl.logs.tidy import _SPLIT_WORDS

    res = []
    for s in splits:
        canon = _SPLIT_WORDS.get(s.lower())
        if canon is None:
            raise errors.UsageError(f"unknown --split {s!r}", hint="choose among: " + ", ".join(SPLITS))
        res.append(canon)
    return res


def _report(stream, n_out: int | None = None) -> None:
    ctx = stream.ctx
    cut = stream.src.truncation_note()  # the fast path does not iterate the stream
    if cut:
        ctx.note(cut)
    _skip_note(ctx.skipped, ctx.skipped_examples)
    for n in ctx.notes:
        out_mod.note(n)


def _skip_note(skipped: int, examples) -> None:
    if skipped:
        first = examples[0] if examples else None
        ex = f" (first: line {first[0]}: {first[1]})" if first and first[0] else (f" ({first[1]})" if first else "")
        out_mod.note(f"skipped {skipped} line(s) that could not be read{ex}")


def _skipped_objs(examples) -> list[dict]:
    return [{"line": ln or None, "reason": why} for ln, why in examples]


def json_tail(*, skipped: int, examples, notes, hparams, summary) -> dict:
    """The keys after ``"records"`` in ``--format json`` (names as in ``diagnose``'s
    ``evidence.skipped_lines``)."""
    return {"skipped_lines": int(skipped), "skipped": _skipped_objs(examples), "notes": list(notes),
            "hparams": dict(hparams), "summary": dict(summary)}


def _stream_tail(stream) -> dict:
    ctx = stream.ctx
    cut = stream.src.truncation_note()
    if cut:
        ctx.note(cut)
    return json_tail(skipped=ctx.skipped, examples=ctx.skipped_examples, notes=ctx.notes, hparams=ctx.hparams,
                     summary=ctx.__dict__.get("summary", {}))


class _Seen:
    """Remember which series went by (for the 'nothing matched' message)."""

    def __init__(self) -> None:
        self.series: dict[str, None] = {}

    def watch(self, records: Iterable[Record]) -> Iterator[Record]:
        series = self.series
        for r in records:
            key = f"{r.split}/{r.metric}"
            if key not in series and len(series) < 100:
                series[key] = None
            yield r


def _no_match(seen: _Seen, metrics, splits, run) -> errors.InputError:
    what = []
    if metrics:
        what.append("--metric " + ",".join(metrics))
    if splits:
        what.append("--split " + ",".join(splits))
    if run is not None:
        what.append(f"--run {run}")
    have = ", ".join(list(seen.series)[:30]) or "nothing"
    return errors.InputError(f"no records match {' '.join(what)}; this log has: {have}",
                             hint="metric names are canonical (loss, learning_rate, grad_norm, ...) or as in the log")


def run_parse(file: str, *, log_format: str | None, fmt: str, wide: bool, metrics: list[str] | None,
              splits: list[str] | None, run: int | None, follow: bool) -> None:
    splits = _check_splits(splits)
    if file == "-" and out_mod.is_tty(sys.stdin):
        raise errors.UsageError("stdin is a terminal: pipe a log into lossctl parse -, or give a FILE")
    if follow:
        return _run_follow(file, log_format=log_format, fmt=fmt, metrics=metrics, splits=splits, run=run)
    if wide:
        return _run_wide(file, log_format=log_format, fmt=fmt, metrics=metrics, splits=splits, run=run)

    from lossctl.logs import fastpath, iter_records

    stream = iter_records(file, log_format=log_format, run=run)
    out_mod.note(f"{stream.source}: read as {stream.format}")
    if fmt == "table":
        sink = export.SummarySink()
        n = fastpath.run(stream, sink, metrics=metrics, splits=splits, run=run)
        if n is not None:
            _report(stream)
            if n == 0:
                raise errors.InputError("no records match the filters", hint="run without --metric/--split/--run")
            _summary_table(stream, sink.rows())
            return
    n = None
    if fmt in ("csv", "tsv"):
        n = fastpath.run(stream, sys.stdout, sep="," if fmt == "csv" else "\t",
                         metrics=metrics, splits=splits, run=run)
    if n is not None:
        _report(stream)
        if n == 0 and (metrics or splits):
            raise errors.InputError(
                "no records match " + " ".join(
                    x for x in ((f"--metric {','.join(metrics)}" if metrics else ""),
                                (f"--split {','.join(splits)}" if splits else "")) if x),
                hint="run without filters to see the metrics in this log")
        return
    seen = _Seen()
    records = export.filter_records(seen.watch(stream), metrics, splits)
    first = next(records, None)
    if first is None:
        _report(stream)
        if metrics or splits or run is not None:
            raise _no_match(seen, metrics, splits, run)
        raise errors.InputError(f"no records found in {stream.source}")
    import itertools

    records = itertools.chain([first], records)
    if fmt == "table":
        rows = export.summarize_records(records)
        _report(stream)
        _summary_table(stream, rows)
        return
    export.write_long(records, fmt, sys.stdout, head={"source": stream.source, "format": stream.format},
                      tail=lambda: _stream_tail(stream))
    _report(stream)


_HEAD = {"best_step": "at step", "nan": "NaN"}


def _summary_table(stream, rows) -> None:
    from lossctl.logs.tidy import is_loss

    # per run: train, eval, test; the loss first, then other losses, then the rest (log order)
    split_rank = {"train": 0, "eval": 1, "test": 2}
    rows = [r for _, r in sorted(enumerate(rows), key=lambda ir: (
        int(ir[1]["run"]), split_rank.get(ir[1]["split"], 3),
        0 if ir[1]["metric"] == "loss" else 1 if is_loss(ir[1]["metric"]) else 2, ir[0]))]
    cols = list(export.SUMMARY_COLUMNS)
    title = f"{stream.source} ({stream.format})"
    if len({r["run"] for r in rows}) == 1:
        cols.remove("run")
    _table(title, [_HEAD.get(c, c) for c in cols], [[r[c] for c in cols] for r in rows], fold=("metric",))
    higher = list(dict.fromkeys(r["metric"] for r in rows if r["best_is"] == "max"))
    if higher:
        sys.stdout.write(f"best: the highest value for {', '.join(higher)} (higher is better); "
                         "the lowest for the others\n")


def _run_wide(file, *, log_format, fmt, metrics, splits, run) -> None:
    from lossctl.logs import parse_log

    df = parse_log(file, log_format=log_format, run=run)
    out_mod.note(f"{df.attrs['source']}: read as {df.attrs['format']}")
    if splits:
        df = df[df["split"].isin(splits)]
    if metrics:
        df = df[df["metric"].isin(metrics) | df["name"].isin(metrics)]
    if not len(df):
        raise errors.InputError("no records match the filters", hint="run without --metric/--split to see what the log has")
    cols, rows = export.wide_rows(df)
    a = df.attrs
    _skip_note(a.get("skipped", 0), a.get("skipped_examples", []))
    for n in a.get("notes", []):
        out_mod.note(n)
    if fmt == "table":
        _table(None, cols, [[r.get(c) for c in cols] for r in rows])
    else:
        export.write_wide(cols, rows, fmt, sys.stdout, head={"source": a.get("source"), "format": a.get("format")},
                          tail=lambda: json_tail(skipped=a.get("skipped", 0), examples=a.get("skipped_examples", []),
                                                 notes=a.get("notes", []), hparams=a.get("hparams", {}),
                                                 summary=a.get("summary", {})))


def _run_follow(file, *, log_format, fmt, metrics, splits, run) -> None:
    from lossctl.logs import follow, reader

    if fmt == "table":
        fmt = "csv"
        out_mod.note("--follow prints records as they come: using --format csv")
    elif fmt == "json":
        fmt = "ndjson"
        out_mod.note("--follow prints records as they come: using --format ndjson (one JSON record per line)")
    from lossctl.logs import get_format, detect_format

    if file == "-" and _stdin_is_regular_file():
        file = "/dev/stdin"  # `lossctl parse - --follow < train.log`: a file can grow, follow it (as tail -f does)
    elif file == "-" or follow.is_pipe(file):
        return _follow_pipe(file, log_format=log_format, fmt=fmt, metrics=metrics, splits=splits, run=run)
    from lossctl.logs.base import ParseContext

    import time
    from pathlib import Path

    path = Path(file)
    if log_format:
        module = get_format(log_format)
    else:
        # wait for enough of the log to recognise its format
        module = None
        while module is None:
            if path.exists() and path.stat().st_size > 0:
                name, _ = detect_format(reader.sample_text(reader.open_source(path)))
                if name is not None:
                    module = get_format(name)
                    break
            time.sleep(0.5)
    out_mod.note(f"{file}: read as {module.NAME} (following; Ctrl-C stops)")
    ctx = ParseContext(source=str(file))
    recs = follow.follow_records(path, module, ctx, on_reset=lambda what: out_mod.note(f"{file} was {what}: reading from the start"))
    if run is not None:
        recs = (r for r in recs if r.run == run)
    export.write_long(export.filter_records(recs, metrics, splits), fmt, sys.stdout, flush_every=1)


def _stdin_is_regular_file() -> bool:
    import os
    import stat

    try:
        return stat.S_ISREG(os.fstat(sys.stdin.fileno()).st_mode) and os.path.exists("/dev/stdin")
    except (OSError, ValueError, AttributeError):
        return False  # no real stdin (an in-memory stream in tests)


def _follow_pipe(file, *, log_format, fmt, metrics, splits, run) -> None:
    """--follow on stdin, a FIFO or ``<(...)``: a pipe cannot grow after its writer closed
    it, so (like ``tail -f``, which ignores -f for pipes) records are printed as lines
    arrive and the command ends with the pipe (exit 0)."""
    from lossctl.logs import detect_format, follow, get_format, iter_records, reader
    from lossctl.logs.base import ParseContext

    name = "<stdin>" if file == "-" else str(file)
    if file == "-":
        stream, owned = sys.stdin.buffer, None
    else:
        try:
            stream = owned = open(file, "rb")
        except OSError as e:
            raise errors.InputError(f"cannot open: {e.strerror or e}", source=name) from None
    try:
        module = get_format(log_format) if log_format else None
        # with --log-format, only the first bytes are needed (a compressed stream, a Git LFS pointer)
        head = follow.PipeHead(stream, limit=len(reader.LFS_MAGIC) if module else reader.SAMPLE_BYTES)
        head.more()
        waited = False
        while module is None and not head.compressed and not head.lfs_pointer:
            found, _ = detect_format(reader.sample_text(reader.LogSource(name, data=head.complete())))
            if found is not None:
                module = get_format(found)
                break
            if head.eof or len(head.data) >= head.limit:
                break  # read as any log below: the usual 'no known format' error
            if not waited:
                out_mod.note(f"{name}: waiting for more of the log to recognise its format "
                             "(--log-format NAME starts at once)")
                waited = True
            head.more()
        if module is None or head.compressed or head.lfs_pointer or getattr(module, "KIND", "lines") != "lines":
            # compressed, a whole document, or not recognised: read to the end like any log
            rs = iter_records(reader.LogSource(name, stream=head.stream_all()),
                              log_format=module.NAME if module else None, run=run)
            out_mod.note(f"{name}: read as {rs.format} (a pipe: read to its end)")
            import itertools

            recs = export.filter_records(rs, metrics, splits)
            first = next(recs, None)  # the 'no loss' error comes before any output
            export.write_long(itertools.chain([first], recs) if first is not None else iter(()), fmt,
                              sys.stdout, flush_every=1)
            _report(rs)
            return
        out_mod.note(f"{name}: read as {module.NAME} (a pipe: records are printed as they come, "
                     "until it is closed; Ctrl-C stops)")
        ctx = ParseContext(source=name)
        seen = _Seen()
        recs = seen.watch(follow.line_records(head.lines(), module, ctx))
        if run is not None:
            recs = (r for r in recs if r.run == run)
        recs = export.filter_records(recs, metrics, splits)
        first = next(recs, None)  # the header waits for the first record (none: an error, not a bare header)
        if first is None:
            _skip_note(ctx.skipped, ctx.skipped_examples)
            if seen.series and (metrics or splits or run is not None):
                raise _no_match(seen, metrics, splits, run)
            raise errors.InputError(f"no records found in {name} (read as {module.NAME})",
                                    hint="check the format: leave out --log-format to detect it, "
                                         "or see lossctl parse --list-formats")
        import itertools

        export.write_long(itertools.chain([first], recs), fmt, sys.stdout, flush_every=1)
        _skip_note(ctx.skipped, ctx.skipped_examples)
        for n in ctx.notes:
            out_mod.note(n)
    finally:
        if owned is not None:
            owned.close()
