"""What ``lossctl diagnose`` does once its options are read: inputs, rendering, --follow.

Kept out of cli.py so the command stays a few lines and ``lossctl --help`` imports
none of this. Output rules:

- ``--format table``: the whole human report (verdict, picture, evidence,
  findings, recommendations, chart) on stdout; several runs (a directory, or a
  file with several runs) give one row per run, most severe verdict first.
- ``--format json``: one object (one run) or a list of objects; ``ndjson``: one
  object per line; ``csv``/``tsv``: one row per run. Only data on stdout.
- ``--fail-on V1,V2``: exit 1 (CheckFailed) when a verdict is one of those.
- ``--follow``: re-diagnose a growing file; json becomes one object per line per
  update; stops on Ctrl-C (or after ``--max-updates``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from lossctl import errors
from lossctl import output as out_mod
from lossctl.i18n import t

ROW_COLUMNS = ("source", "run", "verdict", "confidence", "best_step", "points", "findings")


def check_fail_on(value: str | None) -> set[str]:
    from lossctl.diagnose import VERDICTS

    if not value:
        return set()
    names = {v.strip().lower() for v in value.split(",") if v.strip()}
    bad = sorted(names - set(VERDICTS))
    if bad:
        raise errors.UsageError(f"unknown verdict in --fail-on: {', '.join(bad)}", hint="choose among: " + ", ".join(VERDICTS))
    return names


# ------------------------------------------------------------------ inputs


def _is_candidate(p: Path) -> bool:
    name = p.name
    if name.startswith(".") or not p.is_file():
        return False
    return p.suffix.lower() not in (".png", ".jpg", ".jpeg", ".gif", ".pdf", ".pt", ".bin", ".safetensors", ".ckpt", ".pth", ".npy", ".npz", ".md", ".py", ".yaml", ".yml")


# ------------------------------------------------------------------ curves of a log
#
# diagnose reads only the series it uses (lossctl.logs.curveset: streamed records into
# compact arrays: memory grows with the points kept, not with the records of the log)
# instead of parse_log's table of every record. The curves are exactly those
# lossctl.diagnose.curves_from_frame() takes from that table (tests/test_curveset.py
# compares both on every fixture and real log, and on generated logs).

_LOSS_NAMES = ("loss", "total_loss")


def _loss_candidate(metric: str) -> bool:
    """A metric lossctl.diagnose._pick_loss may choose (alone or as a part of the loss)."""
    from lossctl.diagnose import _YOLO_PART

    return metric in _LOSS_NAMES or ((metric.endswith("loss") or bool(_YOLO_PART.match(metric))) and "acc" not in metric)


def _diag_group(split: str, metric: str, name: str):
    """The series diagnose uses: losses (train/eval/test), learning rate, grad norm, NaN iterations."""
    if split in ("train", "eval", "test") and _loss_candidate(metric):
        return (split, metric)
    if split in ("train", "eval") and metric in ("learning_rate", "lr"):
        return (split, metric)
    if split == "train" and metric in ("grad_norm", "nan_iterations"):
        return (split, metric)
    return None


def _diag_ordered(label) -> bool:
    # loss parts (box/cls/dfl) are summed row by row: their file order is needed
    return label[1] not in _LOSS_NAMES and _loss_candidate(label[1])


def load_curves(source, log_format: str | None = None):
    """The series diagnose needs from one log (a CurveSet)."""
    from lossctl.logs.curveset import load_curves as load

    return load(source, group=_diag_group, ordered=_diag_ordered, log_format=log_format, by_name=False)


def _series(x, y, ep):
    """``lossctl.diagnose._to_series`` without its copies when the points are already in
    step order with one value per step (the usual case): the same arrays."""
    import numpy as np

    from lossctl.diagnose import Series, _to_series

    if y.size and bool(np.all(x[1:] > x[:-1])):
        return Series(x, y, ep)
    return _to_series(x, y, ep)


def curves_for(cs, run, *, consume: bool = False):
    """``lossctl.diagnose.Curves`` of one run of a CurveSet: what ``curves_from_frame``
    gives for the same run of ``parse_log``'s frame. ``consume``: drop the run's series
    from ``cs`` as they are used (the Curves then hold the only reference to the points:
    copies, or the same arrays when they are already in step order)."""
    import numpy as np

    from lossctl.diagnose import Curves, _empty, choose_series, sum_of_parts
    from lossctl.logs.curveset import RunInfo

    info = cs.runs.get(run) or RunInfo(run, 0)
    axis = info.axis()
    picked: dict[str, list[str]] = {}
    get = (lambda key: cs.series.pop(key)) if consume else (lambda key: cs.series[key])

    def series_for(splits, names):
        found = choose_series(info.present, splits, names)
        if found is None:
            return _empty()
        sp, chosen = found
        if names is None:
            picked[sp] = chosen
        if len(chosen) == 1:
            s = get((run, (sp, chosen[0])))
            _, ep, v = s.arrays()
            return _series(cs.x(s, axis), v, ep)
        # several loss components (e.g. box/cls/dfl): their sum where all are present
        parts = [get((run, (sp, k))) for k in chosen]
        order = np.argsort(np.concatenate([p.rows(info.first_seq) for p in parts]), kind="stable")
        x = np.concatenate([cs.x(p, axis) for p in parts])[order]
        names_m = np.concatenate([np.full(len(p), k) for p, k in zip(parts, chosen)])[order].astype(str)
        v = np.concatenate([p.arrays()[2] for p in parts])[order]
        e = np.concatenate([p.arrays()[1] for p in parts])[order]
        return sum_of_parts(x, names_m, v, e)

    train = series_for(("train",), None)
    ev = series_for(("eval", "test"), None)
    lr = series_for(("train", "eval"), ("learning_rate", "lr"))
    gn = series_for(("train",), ("grad_norm",))
    nan_it = series_for(("train",), ("nan_iterations",))
    parts = picked.get("train") or picked.get("eval") or picked.get("test") or []
    if consume:
        for key in [k for k in cs.series if k[0] == run]:
            del cs.series[key]
    return Curves(train, ev, lr, gn, nan_it, dict(cs.hparams or {}), cs.format, axis,
                  tuple(parts) if len(parts) > 1 else ())


def diagnose_runs(source, *, lang: str = "en", log_format: str | None = None):
    """``lossctl.diagnose.diagnose_runs(source)`` read with bounded memory: one
    Diagnosis per run, in run order (runs without any loss left out when others have one)."""
    from lossctl.diagnose import diagnose_curves

    cs = load_curves(source, log_format=log_format)
    src = str(source)
    skipped = cs.skipped  # of the whole file: lines are not tied to a run
    runs = cs.run_ids() or [None]
    curves = [curves_for(cs, r, consume=True) for r in runs]
    del cs  # the points now live in the Curves only
    out = []
    for r in runs:
        d = diagnose_curves(curves.pop(0), lang=lang)
        d.run = r
        d.source = src
        d.skipped_lines = skipped
        d.evidence["skipped_lines"] = skipped
        out.append(d)
    if len(out) <= 1:
        return out
    with_loss = [d for d in out if d.evidence.get("n_points", 0) or d.evidence.get("n_eval", 0)]
    return with_loss or out


def collect(source: str, *, lang: str, log_format: str | None, run: int | None):
    """Diagnoses for FILE, DIR or '-'. Returns (diagnoses, skipped files with reasons)."""

    if source != "-" and os.path.isdir(source):
        files = sorted(p for p in Path(source).rglob("*") if _is_candidate(p) and not any(part.startswith(".") for part in p.relative_to(source).parts))
        out, skipped = [], []
        for f in files:
            try:
                ds = diagnose_runs(str(f), lang=lang, log_format=log_format)
            except errors.LossctlError as e:
                skipped.append((str(f), str(e)))
                continue
            for d in ds:
                d.source = str(f.relative_to(source))
            out.extend(ds)
        if not out:
            why = f" ({len(skipped)} file(s) without a readable loss)" if skipped else " (it is empty)"
            raise errors.InputError(f"no training log with a loss in directory {source}{why}", hint="give a log file, or a directory that holds some")
        return out, skipped
    if source != "-" and not os.path.exists(source):
        if os.path.lexists(source):
            try:
                os.stat(source)
            except OSError as e:
                raise errors.InputError(f"cannot read: {e.strerror} (a broken or looping symbolic link)",
                                        source=source, hint="check where the link points: ls -l") from None
        raise errors.InputError(f"no such file: {source}", hint="check the path; '-' reads stdin")
    if source == "-" and sys.stdin is not None and out_mod.is_tty(sys.stdin):
        raise errors.UsageError("'-' reads the log from stdin, but stdin is a terminal", hint="pipe a log in: cat train.log | lossctl diagnose -")
    ds = diagnose_runs(source, lang=lang, log_format=log_format)
    if run is not None:
        ds = [d for d in ds if d.run == run]
        if not ds:
            raise errors.UsageError(f"there is no run {run} in this log", hint="runs start at 1; see `lossctl parse FILE`")
    if source == "-":
        for d in ds:
            d.source = "<stdin>"
    return ds, []


# ------------------------------------------------------------------ rendering


def _row(d) -> dict[str, Any]:
    from lossctl.diagnose import _py

    return {
        "source": d.source,
        "run": d.run,
        "verdict": d.verdict,
        "confidence": d.confidence,
        "best_step": _py(d.best_step),
        "points": d.evidence.get("n_points", 0),
        "findings": ",".join(f.code for f in d.findings),
    }


def sort_runs(ds):
    from lossctl.diagnose import SEVERITY

    return sorted(ds, key=lambda d: (SEVERITY[d.verdict], str(d.source), d.run if isinstance(d.run, (int, float)) else 0))


def chart_for(d, width: int):
    """The curve as a chart sized for ``width``: the tutorial's bar chart for one short
    curve (at most ``render.BAR_MAX_POINTS`` points, no eval), else a LineChart (train
    solid, eval dashed)."""
    import numpy as np

    from lossctl.charts import LineChart, Series
    from lossctl.render import BAR_MAX_POINTS

    c = d.chart
    if not c or np.asarray(c.get("y", [])).size < 2:
        return None
    axis = "epoch" if d.evidence.get("epoch_level") else d.evidence.get("axis")
    xl = {"epoch": "Epoch", "index": "Point"}.get(axis, "Step")
    width = max(40, min(width, 100))
    if not np.asarray(c.get("eval_y", [])).size and np.asarray(c["y"]).size <= BAR_MAX_POINTS:
        # one short curve: the tutorial's own picture, one bar per epoch (as `lossctl plot` does)
        from lossctl.charts import BarChart

        return BarChart.from_points(c["x"], c["y"], x_name=xl, max_rows=BAR_MAX_POINTS, name="Loss", width=width)
    series = [Series(c["x"], c["y"], "train" if c.get("main") != "eval" else "eval")]
    if np.asarray(c.get("eval_y", [])).size:
        series.append(Series(c["eval_x"], c["eval_y"], "eval"))
    return LineChart(series, width=width, height=14, x_label=xl, y_label="Loss")


def report_lines(d, lang: str) -> list[tuple[str, str | None]]:
    """The human report as (text, style) lines, chart excluded."""
    T = lambda key, **kw: t(key, lang, **kw)  # noqa: E731
    from lossctl.diagnose import _fmt, _step_str

    lines: list[tuple[str, str | None]] = []
    head = d.source or "<data>"
    if d.run is not None:
        head += f"  ({T('label.run')} {d.run}" + (f", {d.fmt}" if d.fmt else "") + ")"
    elif d.fmt:
        head += f"  ({d.fmt})"
    lines.append((head, "bold"))
    style = {"converging": "green", "overfitting": "yellow", "lr-too-high": "yellow", "diverged": "bold red", "not-learning": "red", "insufficient-data": "dim"}[d.verdict]
    vtext = T("verdict." + d.verdict)
    vtext = d.verdict if vtext == d.verdict else f"{d.verdict} — {vtext}"
    lines.append((f"{T('label.verdict')}: {vtext}  ({T('label.confidence')}: {T('confidence.' + d.confidence)})", style))
    lines.append((f"{T('label.picture')}: {d.picture_text()}", None))
    if d.best_step is not None:
        ep = d.evidence.get("eval_best_epoch")
        extra = T("ev.eval_epoch", epoch=_fmt(ep, 3)) if ep is not None else ""
        lines.append((f"{T('label.best_step')}: step {_step_str(d.best_step)}{extra}", None))
    lines.append((f"{T('label.evidence')}:", "bold"))
    for s in d.lines:
        lines.append((f"  - {s}", None))
    lines.append((f"{T('label.findings')}:", "bold"))
    if not d.findings:
        lines.append((f"  {T('label.none')}", None))
    for f in d.findings:
        lines.append((f"  - [{T('confidence.' + f.confidence)}] {f.code}: {f.message}", None))
    lines.append((f"{T('label.recommendations')}:", "bold"))
    if not d.recommendations:
        lines.append((f"  {T('label.none')}", None))
    for r in d.recommendations:
        lines.append((f"  - {r.text()}", None))
    return lines


def render_report(d, lang: str, console) -> None:
    from rich.text import Text

    for text, style in report_lines(d, lang):
        console.print(Text(text, style=style or ""), soft_wrap=True)
    chart = chart_for(d, console.width)
    if chart is not None:
        console.print(Text(t("label.chart", lang) + ":", style="bold"))
        console.print(chart)


def render_rows(ds, lang: str, console) -> None:
    """One row per run, most severe first, with a sparkline of each curve.

    A plain aligned table (never truncated: a long path makes the line longer
    rather than losing a column); widths count terminal cells (CJK text is wide).
    """
    import numpy as np
    from rich.cells import cell_len
    from rich.text import Text

    from lossctl.charts import Sparkline
    from lossctl.diagnose import _step_str

    sources = {d.source for d in ds}
    cols = ["source", "run", "verdict", "confidence", "best step", "points", "curve", "findings"]
    rows = []
    for d in ds:
        y = np.asarray(d.chart.get("y", []))
        spark = Sparkline(y, width=20).text() if y.size else ""
        src = str(d.source) if len(sources) > 1 else os.path.basename(str(d.source))
        rows.append([src, str(d.run) if d.run is not None else "-", d.verdict, t("confidence." + d.confidence, lang),
                     _step_str(d.best_step), str(d.evidence.get("n_points", 0)), spark, ", ".join(f.code for f in d.findings) or "-"])
    right = {1, 4, 5}
    widths = [max(cell_len(r[i]) for r in rows + [cols]) for i in range(len(cols))]

    def line(vals):
        parts = []
        for i, v in enumerate(vals):
            pad = " " * (widths[i] - cell_len(v))
            parts.append(pad + v if i in right else v + pad)
        return "  ".join(parts).rstrip()

    console.print(Text(line(cols), style="bold"), soft_wrap=True)
    for r in rows:
        console.print(Text(line(r)), soft_wrap=True)


def emit(ds, *, fmt: str, lang: str, many: bool, follow: bool = False) -> None:
    if fmt == "table":
        con = out_mod.console()
        if many:
            render_rows(ds, lang, con)
        else:
            render_report(ds[0], lang, con)
        return
    if not many and not follow and out_mod.is_tty(sys.stderr):
        # data on stdout; a person at the terminal still sees the curve, on stderr
        chart = chart_for(ds[0], out_mod.console(stderr=True).width)
        if chart is not None:
            from lossctl.render import show

            show([chart], stderr=True)
    objs = [d.to_dict() for d in ds]
    if fmt == "ndjson" or (fmt == "json" and follow):
        out_mod.write_ndjson(objs)
    elif fmt == "json":
        out_mod.write_json(objs if many else objs[0])
    else:
        out_mod.write_rows([_row(d) for d in ds], ROW_COLUMNS, fmt)


def check_fail(ds, fail_on: set[str]) -> None:
    hit = [d for d in ds if d.verdict in fail_on]
    if hit:
        d = hit[0]
        where = f"{d.source}" + (f" run {d.run}" if d.run is not None and len(ds) > 1 else "")
        more = f" (and {len(hit) - 1} more)" if len(hit) > 1 else ""
        raise errors.CheckFailed(f"verdict {d.verdict} for {where}{more} (--fail-on {','.join(sorted(fail_on))})")


# ------------------------------------------------------------------ the command


def run_diagnose(source: str, *, fmt: str, lang: str, fail_on: str | None, follow: bool, log_format: str | None,
                 run: int | None, interval: float = 2.0, max_updates: int | None = None) -> None:
    fails = check_fail_on(fail_on)
    if follow:
        return _follow(source, fmt=fmt, lang=lang, fails=fails, log_format=log_format, run=run, interval=interval, max_updates=max_updates)
    ds, skipped = collect(source, lang=lang, log_format=log_format, run=run)
    for f, why in skipped:
        out_mod.note(f"skipped {f}: {why}")
    _note_skipped_lines(ds)
    many = len(ds) > 1
    if many:
        ds = sort_runs(ds)
    emit(ds, fmt=fmt, lang=lang, many=many)
    if many and fmt == "table":
        out_mod.note("one row per run; `lossctl diagnose FILE --run N` prints the full report of one run")
    check_fail(ds, fails)


def _note_skipped_lines(ds) -> None:
    """One stderr note per source whose parser skipped unreadable lines (also in the JSON)."""
    seen = set()
    for d in ds:
        n = getattr(d, "skipped_lines", 0)
        if n and d.source not in seen:
            seen.add(d.source)
            out_mod.note(f"{d.source}: skipped {n} line(s) that could not be read")


def _follow(source, *, fmt, lang, fails, log_format, run, interval, max_updates) -> None:
    if source == "-" or os.path.isdir(source):
        raise errors.UsageError("--follow needs one log file (not '-' or a directory)", hint="lossctl diagnose train.log --follow")
    if not os.path.exists(source):
        raise errors.InputError(f"no such file: {source}", hint="check the path")
    last_sig = None
    updates = 0
    waiting_noted = False
    while True:
        st = os.stat(source)
        sig = (st.st_size, st.st_mtime_ns)
        if sig != last_sig:
            last_sig = sig
            try:
                ds, _ = collect(source, lang=lang, log_format=log_format, run=run)
            except errors.InputError as e:
                if not waiting_noted:
                    out_mod.note(f"waiting for a loss in {source}: {e}")
                    waiting_noted = True
                ds = None
            if ds:
                updates += 1
                many = len(ds) > 1
                if fmt == "table":
                    con = out_mod.console()
                    if out_mod.is_tty(sys.stdout):
                        con.clear()
                    elif updates > 1:
                        sys.stdout.write("\n")
                emit(sort_runs(ds) if many else ds, fmt=fmt, lang=lang, many=many, follow=True)
                sys.stdout.flush()
                check_fail(ds, fails)
        if max_updates is not None and updates >= max_updates:
            return
        time.sleep(interval)
