"""The ``lossctl`` command line: thin Typer commands over the library.

Rules for this module:
- no math and no parsing logic here: parse options, call the library, render;
- import heavy modules (pandas, the log parsers, charts) inside the command bodies,
  so ``lossctl --help`` and small computations start fast;
- raise :mod:`lossctl.errors` exceptions; :func:`main` is the only place that turns
  them into messages and exit codes.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import List, Optional

import typer

from lossctl import errors
from lossctl.output import FORMATS

app = typer.Typer(
    name="lossctl",
    help="Loss calculator and training-log analyzer.\n\n"
    "Compute losses with PyTorch's exact semantics, parse training logs of any common "
    "framework into one tidy table, and diagnose loss curves.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_DEBUG = False


def _version_callback(value: bool) -> None:
    if value:
        from lossctl import __version__

        sys.stdout.write(f"lossctl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of unexpected errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    global _DEBUG
    _DEBUG = _DEBUG or debug


def check_format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise errors.UsageError(
            f"unknown --format {fmt!r}", hint="choose one of: " + ", ".join(FORMATS)
        )
    return fmt


# ============================================================== compute / losses
# (owned by the compute work: keep edits inside this section)

_COMPUTE_HELP = """Compute a loss over predictions, with PyTorch's exact semantics.

Predictions come from FILE (JSON, JSONL, CSV, TSV, .npy, .npz, Parquet, or any of them gzipped; '-' reads stdin) or inline with --input/--target (',' between values, ';' between rows). The format is sniffed from the content; stderr says which columns or keys were taken as what.

\b
Examples:
  lossctl compute cross-entropy --input 2,1,0.5 --target 0
  lossctl compute cross-entropy --input '2,1,0.5;0.1,3,0.2' --target 0,1 -r none
  lossctl compute cross-entropy examples/preds.csv --format json
  lossctl compute mse preds.csv --input-cols pred --target-col y
  lossctl compute lm examples/tokens.json
  lossctl compute --list
"""

_OPT = "Loss options (each loss takes some of them; see 'lossctl losses')"


def _skip_pydantic_for_plain_params() -> None:
    """Let plain ``str``/``bool`` parameters skip typer's pydantic coercion (start-up time).

    Typer 0.29 builds a pydantic TypeAdapter for every parameter value it coerces, which
    imports pydantic (~60 ms, about half of ``import typer, numpy``) on every run, even for
    ``--debug``/``--version`` flags. For a ``str`` or ``bool`` annotation without a custom
    parser, file type or range, that coercion returns click's value unchanged, so such
    parameters get typer's own pass-through instead. Other types (int, float, Path, enums,
    lists) are untouched. If typer's internals differ (another version), nothing changes.
    """
    try:
        from typer import core as _tcore
        from typer._coercion import PassThroughRuntimeParam
    except ImportError:  # pragma: no cover - another typer
        return
    base = getattr(_tcore, "_TyperParameter", None)
    original = getattr(base, "get_runtime_param", None)
    if original is None or getattr(original, "_lossctl_plain", False):
        return

    def get_runtime_param(self):
        if getattr(self, "_runtime_param", 0) is None:
            desc = getattr(self, "type_descriptor", None)
            info = getattr(desc, "parameter_info", None)
            if (desc is not None and desc.annotation in (str, bool) and desc.file_annotation is None
                    and getattr(info, "parser", None) is None and getattr(info, "min", None) is None
                    and getattr(info, "max", None) is None):
                self._runtime_param = PassThroughRuntimeParam(parameter_info=info, annotation=desc.annotation)
        return original(self)

    get_runtime_param._lossctl_plain = True  # type: ignore[attr-defined]
    base.get_runtime_param = get_runtime_param


_skip_pydantic_for_plain_params()


@app.command("compute", help=_COMPUTE_HELP, no_args_is_help=True)
def compute_cmd(
    loss: Optional[str] = typer.Argument(None, metavar="LOSS", help="Loss name, e.g. cross-entropy, mse, lm."),
    file: Optional[str] = typer.Argument(None, metavar="[FILE|-]", help="Predictions file, or - for stdin."),
    input_: Optional[str] = typer.Option(None, "--input", "-i", help="Inline input: '2,1,0.5' or rows '2,1,0.5;0.1,3,0.2'."),
    target: Optional[str] = typer.Option(None, "--target", "-t", help="Inline target: '0' or '0,1' (or rows with ';')."),
    reduction: Optional[str] = typer.Option(None, "--reduction", "-r", help="mean (default) | sum | none | batchmean (kl-div)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | ndjson | csv | tsv."),
    explain: bool = typer.Option(False, "--explain", help="Show how the loss is computed on the first rows."),
    strict: bool = typer.Option(False, "--strict", help="NaN/inf in the data is an error, not a warning."),
    input_format: str = typer.Option("auto", "--input-format", help="auto | json | jsonl | csv | tsv | npy | npz | parquet."),
    target_col: Optional[str] = typer.Option(None, "--target-col", help="CSV/Parquet target column (name, list or glob)."),
    input_cols: Optional[str] = typer.Option(None, "--input-cols", help="CSV/Parquet input columns: 'logit_*' or 'a,b,c'."),
    var: Optional[str] = typer.Option(None, "--var", help="gaussian-nll variance: a number, a list, or a column/key name."),
    list_: bool = typer.Option(False, "--list", help="List the losses and their options, then exit."),
    weight: Optional[str] = typer.Option(None, "--weight", metavar="W1,W2,..", help="Class (or element) weights.", rich_help_panel=_OPT),
    ignore_index: Optional[str] = typer.Option(None, "--ignore-index", metavar="INT", help="Target value to skip (default -100).", rich_help_panel=_OPT),
    label_smoothing: Optional[str] = typer.Option(None, "--label-smoothing", metavar="FLOAT", help="ε in [0, 1].", rich_help_panel=_OPT),
    probs: Optional[bool] = typer.Option(None, "--probs", help="The input holds probabilities.", rich_help_panel=_OPT),
    pos_weight: Optional[str] = typer.Option(None, "--pos-weight", metavar="FLOAT[,..]", help="bce-with-logits positive weight.", rich_help_panel=_OPT),
    delta: Optional[str] = typer.Option(None, "--delta", metavar="FLOAT", help="huber δ > 0.", rich_help_panel=_OPT),
    beta: Optional[str] = typer.Option(None, "--beta", metavar="FLOAT", help="smooth-l1 β >= 0.", rich_help_panel=_OPT),
    log_target: Optional[bool] = typer.Option(None, "--log-target", help="kl-div: the target holds log-probabilities.", rich_help_panel=_OPT),
    log_input: Optional[bool] = typer.Option(None, "--log-input/--no-log-input", help="poisson-nll: the input is log-rate (default).", rich_help_panel=_OPT),
    full: Optional[bool] = typer.Option(None, "--full", help="poisson-nll / gaussian-nll: add the constant terms.", rich_help_panel=_OPT),
    eps: Optional[str] = typer.Option(None, "--eps", metavar="FLOAT", help="poisson-nll / gaussian-nll eps.", rich_help_panel=_OPT),
    gamma: Optional[str] = typer.Option(None, "--gamma", metavar="FLOAT", help="focal γ (default 2).", rich_help_panel=_OPT),
    alpha: Optional[str] = typer.Option(None, "--alpha", metavar="FLOAT", help="focal α (default 0.25; -1 disables).", rich_help_panel=_OPT),
    p: Optional[str] = typer.Option(None, "--p", metavar="INT", help="multi-margin exponent, 1 or 2.", rich_help_panel=_OPT),
    margin: Optional[str] = typer.Option(None, "--margin", metavar="FLOAT", help="multi-margin margin (default 1).", rich_help_panel=_OPT),
    quantile: Optional[str] = typer.Option(None, "--quantile", metavar="FLOAT", help="quantile q in (0, 1).", rich_help_panel=_OPT),
) -> None:
    fmt = check_format(fmt)
    if list_:
        _print_losses(fmt)
        return
    if loss is None:
        raise errors.UsageError("which loss? give its name", hint="run 'lossctl compute --list' to see them")
    given = {
        "weight": weight, "ignore-index": ignore_index, "label-smoothing": label_smoothing, "probs": probs,
        "pos-weight": pos_weight, "delta": delta, "beta": beta, "log-target": log_target, "log-input": log_input,
        "full": full, "eps": eps, "gamma": gamma, "alpha": alpha, "p": p, "margin": margin, "quantile": quantile,
    }
    given = {k: v for k, v in given.items() if v is not None}
    from lossctl import compute as _compute_mod
    from lossctl import inputs as _inputs
    from lossctl import output as _output

    if file is not None and input_ is not None:
        raise errors.UsageError("give either FILE or --input, not both")
    progress = None
    if input_ is not None:
        x = _inputs.parse_inline(input_, "input")
        y = _inputs.parse_inline(target, "target") if target is not None else None
        source: object = x
    elif file is not None:
        y = _inputs.parse_inline(target, "target") if target is not None else None
        source = file
        progress = _ComputeProgress.maybe()
    else:
        raise errors.UsageError("no predictions given", hint="give a FILE, '-' for stdin, or --input 2,1,0.5 --target 0")
    try:
        result = _compute_mod.compute(
            loss, source, y, reduction=reduction, var=var, strict=strict, explain=explain,
            input_format=input_format, target_col=target_col, input_cols=input_cols,
            progress=progress, on_note=_output.note, **given,
        )
    except errors.InputError as e:
        if input_ is None and not (target is not None and e.key == "target"):
            raise
        raise _compute_mod.as_option_error(e) from None
    finally:
        if progress is not None:
            progress.close()
    for w in result.warnings:
        _output.warn(w)
    _render_compute(result, fmt)


@app.command("losses")
def losses_cmd(
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | ndjson | csv | tsv."),
) -> None:
    """List every loss with its formula, options and reductions.

    \b
    Examples:
      lossctl losses
      lossctl losses --format json
    """
    _print_losses(check_format(fmt))


def _loss_rows() -> list[dict]:
    from lossctl import losses as _losses

    rows = []
    for name in _losses.names():
        spec = _losses.REGISTRY[name]
        rows.append({
            "name": spec.name,
            "aliases": list(spec.aliases),
            "summary": spec.summary,
            "formula": spec.formula,
            "reductions": list(spec.reductions),
            "default_reduction": spec.default_reduction,
            "target": spec.target,
            "options": [{"name": o.name, "type": o.kind, "default": o.default, "help": o.help} for o in spec.options],
        })
    return rows


def _print_losses(fmt: str) -> None:
    from lossctl import output as _output

    rows = _loss_rows()
    if fmt == "json":
        _output.write_json(rows)
    elif fmt == "table":
        out = sys.stdout
        for r in rows:
            alias = f" (alias: {', '.join(r['aliases'])})" if r["aliases"] else ""
            out.write(f"{r['name']}{alias}: {r['summary']}\n")
            out.write(f"    formula:     {r['formula']}\n")
            opts = []
            for o in r["options"]:
                if o["type"] == "bool":
                    opts.append(f"--{o['name']}" + (" (default on)" if o["default"] else ""))
                else:
                    meta = {"float": "FLOAT", "int": "INT", "floats": "W1,W2,.."}.get(o["type"], "VALUE")
                    d = "" if o["default"] is None else f" (default {_output.format_number(o['default'])})"
                    opts.append(f"--{o['name']} {meta}{d}")
            out.write(f"    options:     {', '.join(opts) if opts else '-'}\n")
            reds = [x + (" (default)" if x == r["default_reduction"] else "") for x in r["reductions"]]
            out.write(f"    reductions:  {', '.join(reds)}\n")
    else:
        flat = [{**r, "aliases": ",".join(r["aliases"]), "reductions": ",".join(r["reductions"]),
                 "options": ",".join(o["name"] for o in r["options"])} for r in rows]
        cols = ["name", "aliases", "summary", "formula", "options", "reductions", "default_reduction", "target"]
        if fmt == "ndjson":
            flat = [{**f, "options": r["options"]} for f, r in zip(flat, rows)]
        _output.write_rows(flat, cols, fmt)


def _render_compute(result, fmt: str) -> None:
    from lossctl import output as _output

    out = sys.stdout
    if fmt == "json":
        d = result.to_dict()
        if result.explanation is None:
            d.pop("explanation", None)
        _output.write_json(d)
        return
    if fmt == "table" and result.explanation:
        for line in result.explanation:
            out.write(line + "\n")
        out.write("\n")
    elif result.explanation:  # csv/tsv/ndjson: stdout holds only data rows; the explanation goes to stderr
        sys.stderr.write("".join(line + "\n" for line in result.explanation))
    summary_cols = ["loss", "reduction", "value", "count", "denominator"]
    summary = {"loss": result.loss, "reduction": result.reduction, "value": result.value,
               "count": result.count, "denominator": result.denominator}
    if result.lm is not None:
        lm = result.lm
        summary.update(mean_nll=lm.mean_nll, sum=lm.sum, tokens=lm.tokens, perplexity=lm.perplexity,
                       bits_per_token=lm.bits_per_token)
        summary_cols = ["loss", "reduction", "value", "mean_nll", "sum", "tokens", "perplexity", "bits_per_token"]
    if result.values is not None:
        rows = _value_rows(result.values)
        cols = list(rows[0]) if rows else ["index", "value"]
        if fmt == "table":
            shown = rows[:_TABLE_ROWS]
            _plain_table(None, cols, [[r[c] for c in cols] for r in shown])
            if len(rows) > len(shown):
                _output.note(f"showing {len(shown)} of {len(rows)} values; use --format csv for all of them")
            _plain_table(None, ["sum", "count", "denominator"],
                                 [[result.sum, result.count, result.denominator]])
        else:
            _output.write_rows(rows, cols, fmt)
        return
    if fmt == "table":
        if result.lm is not None:
            lm = result.lm
            _plain_table(
                "lm: token-level loss",
                ["mean NLL / token", "sum", "tokens", "perplexity", "bits / token"],
                [[lm.mean_nll, lm.sum, lm.tokens, lm.perplexity, lm.bits_per_token]],
            )
            if len(lm.sequences) > 1:
                _plain_table("per sequence", ["sequence", "tokens", "sum", "mean NLL", "perplexity"],
                                     [[s["sequence"], s["tokens"], s["sum"], s["mean_nll"], s["perplexity"]]
                                      for s in lm.sequences[:_TABLE_ROWS]])
                out.write(f"The mean NLL above is over all {lm.tokens} tokens; the mean of the per-sequence means "
                          f"({_output.format_number(lm.mean_of_sequence_means)}) weights every sequence equally, so it is not the same"
                          ".\n")
            if result.reduction == "sum":
                out.write(f"reduction sum: {_output.format_number(lm.sum)}\n")
        else:
            _plain_table(None, summary_cols, [[summary[c] for c in summary_cols]])
        return
    if result.lm is not None and fmt == "ndjson":
        _output.write_rows([{**summary, "sequences": result.lm.sequences}], summary_cols + ["sequences"], fmt)
    else:
        _output.write_rows([summary], summary_cols, fmt)


_TABLE_ROWS = 50


def _plain_table(title: Optional[str], columns: List[str], rows: List[list]) -> None:
    """A small table on stdout drawn like rich's default box, without importing rich.

    ``lossctl compute`` prints a few numbers; importing rich for them would cost a
    quarter of the command's start-up. First column left-aligned, the others right.
    """
    from lossctl.output import color_enabled, format_number

    cells = [[c if isinstance(c, str) else format_number(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(columns)]
    bold = color_enabled(sys.stdout)

    def line(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right + "\n"

    def cell(text: str, i: int) -> str:
        return text.ljust(widths[i]) if i == 0 else text.rjust(widths[i])

    head = "┃".join(" " + (f"\x1b[1m{cell(h, i)}\x1b[0m" if bold else cell(h, i)) + " " for i, h in enumerate(columns))
    parts = []
    if title:
        parts.append(title + "\n")
    parts.append(line("┏", "┳", "┓", "━"))
    parts.append("┃" + head + "┃\n")
    parts.append(line("┡", "╇", "┩", "━"))
    for r in cells:
        parts.append("│" + "│".join(" " + cell(t, i) + " " for i, t in enumerate(r)) + "│\n")
    parts.append(line("└", "┴", "┘", "─"))
    sys.stdout.write("".join(parts))


def _value_rows(values) -> list[dict]:
    """One row per loss value: index (and position for multi-column values), value."""
    if values.ndim <= 1:
        return [{"index": i, "value": v} for i, v in enumerate(values.reshape(-1).tolist())]
    flat = values.reshape(values.shape[0], -1)
    return [{"index": i, "position": j, "value": v}
            for i, row in enumerate(flat.tolist()) for j, v in enumerate(row)]


class _ComputeProgress:
    """A rich progress bar on stderr, shown only on a terminal and only once work takes a while."""

    DELAY = 0.5

    def __init__(self) -> None:
        import time

        self._time = time.monotonic
        self._start = time.monotonic()
        self._bar = None
        self._task = None

    @classmethod
    def maybe(cls):
        from lossctl.output import is_tty

        return cls() if is_tty(sys.stderr) else None

    def __call__(self, done: int, total: Optional[int]) -> None:
        if self._bar is None:
            if not total or self._time() - self._start < self.DELAY or done >= total:
                return
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            from lossctl.output import console

            self._bar = Progress(TextColumn("computing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                 console=console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("compute", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None




# ============================================================== parse
# (owned by the parse work: keep edits inside this section)

_PARSE_HELP = """Parse a training log into tidy records: run, step, epoch, split, metric, value.

The log format is detected from the content (Hugging Face Trainer console or trainer_state.json, LLaMA-Factory / any JSONL, Lightning / Keras / YOLO CSV, Detectron2, MMDetection, TensorBoard event files, Megatron, Keras console, nanoGPT, fairseq, timm, ... see --list-formats) or forced with --log-format. FILE may be gzipped; '-' reads stdin. stderr says which format was read, how many lines were skipped and any duplicated steps.

--format table (the default) prints a summary per series (points, NaN count, first, last, and the best value and its step: the lowest, or the highest where higher is better: accuracy, f1, bleu, rouge, mAP, auc, precision, recall, throughput, ...); csv, tsv, json and ndjson print every record. json is one object: {"source", "format", "records": [{"run", "step", "epoch", "split", "metric", "value"}, ...], "skipped_lines": N, "skipped": [{"line", "reason"}, ... the first 5], "notes", "hparams", "summary" (run-level values such as the final train_loss)}, written as it is read; NaN/inf are null. ndjson is the bare record stream, one per line (the skipped-line count is on stderr). --wide prints one row per step with a column per split/metric (train/loss, eval/loss, ...); with json, "records" holds those rows.

\b
Examples:
  lossctl parse train.log
  lossctl parse trainer_state.json --format csv --metric loss
  lossctl parse metrics.csv --wide --format csv
  lossctl parse run.log.gz --split eval --format ndjson
  zcat run.log.gz | lossctl parse - --format csv
  tail -f train.log | lossctl parse - --follow
  lossctl parse train.log --follow --format csv --metric loss
  lossctl parse --list-formats
"""


def _split_list(value: Optional[str]) -> Optional[list]:
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _run_number(value: Optional[str]) -> Optional[int]:
    """``--run N`` read by hand: an ``int`` option with ``min=1`` makes typer import
    pydantic (~60 ms) on every run of the command."""
    if value is None:
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise errors.UsageError(f"--run must be a whole number greater than or equal to 1, not {value!r}",
                                hint="runs are numbered from 1; 'lossctl parse LOG' lists them")
    return int(text)


@app.command("parse", help=_PARSE_HELP, no_args_is_help=True)
def parse_cmd(
    file: Optional[str] = typer.Argument(None, metavar="[FILE|-]", help="The log file, or - for stdin."),
    log_format: Optional[str] = typer.Option(None, "--log-format", "-l", metavar="NAME", help="Force the log format (see --list-formats)."),
    list_formats: bool = typer.Option(False, "--list-formats", help="List the log formats with an example line each, then exit."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | csv | tsv | json | ndjson."),
    wide: bool = typer.Option(False, "--wide", help="One row per step, a column per split/metric."),
    metric: Optional[str] = typer.Option(None, "--metric", "-m", help="Only these metrics (canonical or original names, comma-separated), e.g. loss or loss,grad_norm."),
    split: Optional[str] = typer.Option(None, "--split", "-s", help="Only these splits: train, eval, test (comma-separated)."),
    run: Optional[str] = typer.Option(None, "--run", metavar="N", help="Only run N (a step counter that restarts starts a new run)."),
    follow: bool = typer.Option(False, "--follow", "-F", help="Keep reading as the file grows (like tail -f); Ctrl-C stops. On a pipe (stdin, a FIFO, <(...)) records are printed as they arrive and the command ends with the pipe. --format json prints ndjson then."),
) -> None:
    fmt = check_format(fmt)
    from lossctl.logs import cli_parse

    if list_formats:
        cli_parse.print_formats(fmt)
        return
    if file is None:
        raise errors.UsageError("which log? give a FILE, or - for stdin", hint="run 'lossctl parse --help' for examples")
    cli_parse.run_parse(
        file, log_format=log_format, fmt=fmt, wide=wide, metrics=_split_list(metric),
        splits=_split_list(split), run=_run_number(run), follow=follow,
    )


# ============================================================== plot
# (owned by the charts work: keep edits inside this section)

_PLOT_HELP = """Draw a loss curve from any log that 'lossctl parse' reads.

Kinds: bar (the tutorial's 'Epoch 1: Loss = 2.5  ████…', one line per epoch, or per evenly spaced bucket of steps showing the bucket's mean), line (train and eval on one chart with axes, ticks and a legend) and spark (one line per series). The default is bar for one series of at most 30 points, else line. Several FILEs draw several series on one chart, labelled by file name. NaN/inf values are gaps, marked ! on the x axis. The chart goes to stdout; --width/--height fix its size (default: the terminal's width, 15 lines).

\b
Examples:
  lossctl plot train.log
  lossctl plot trainer_state.json --kind line --smooth 0.6
  lossctl plot metrics.csv --split eval --kind bar
  lossctl plot run1.log run2.log --metric loss --split train
  lossctl plot train.log --ascii --width 72 --height 20 > loss.txt
  cat train.log | lossctl plot - --logy
"""


@app.command("plot", help=_PLOT_HELP, no_args_is_help=True)
def plot_cmd(
    files: Optional[List[str]] = typer.Argument(None, metavar="FILE|-...", help="Log files, or - for stdin."),
    metric: str = typer.Option("loss", "--metric", "-m", help="The metric to draw: canonical (loss, learning_rate, grad_norm) or as written in the log (eval_loss)."),
    split: Optional[str] = typer.Option(None, "--split", "-s", help="train, eval, test (comma-separated). Default: train and eval when present."),
    kind: str = typer.Option("auto", "--kind", "-k", help="auto | bar | line | spark."),
    width: Optional[int] = typer.Option(None, "--width", "-w", min=20, max=1000, help="Chart width in columns (default: the terminal's)."),
    height: Optional[int] = typer.Option(None, "--height", min=5, max=500, help="Line chart height in lines (default 15); bar chart: at most this many bars."),
    smooth: Optional[str] = typer.Option(None, "--smooth", metavar="W", help="Line chart: TensorBoard's debiased EMA with weight W in [0, 1), e.g. 0.6 (TensorBoard's default); raw points stay faint."),
    logy: Optional[bool] = typer.Option(None, "--logy/--no-logy", help="Log-scale y axis, ticks at powers of ten (default: automatic when all values are positive and max/min >= 100)."),
    ascii_: bool = typer.Option(False, "--ascii", help="Only ASCII characters (frame included); each series gets its own marker."),
    glyphs: str = typer.Option("braille", "--glyphs", help="Line chart dots: braille | block | ascii."),
    run: Optional[int] = typer.Option(None, "--run", min=1, help="Only run N (a step counter that restarts starts a new run); default: every run."),
    log_format: Optional[str] = typer.Option(None, "--log-format", "-l", metavar="NAME", help="Force the log format (see 'lossctl parse --list-formats')."),
) -> None:
    from lossctl import render

    charts = render.plot_logs(
        files or [], metric=metric, splits=render.parse_splits(split), kind=kind.lower(), width=width,
        height=height, smooth=render.parse_smooth(smooth), logy=logy,
        glyphs="ascii" if ascii_ else glyphs.lower(), run=run, log_format=log_format,
    )
    render.show(charts, width=width)


# ============================================================== diagnose
# (owned by the diagnose work: keep edits inside this section)

_DIAGNOSE_HELP = """Tell what a training curve means and what to change.

One verdict — converging, overfitting, lr-too-high (oscillating, not converging), diverged (NaN/inf or blowing up), not-learning (flat from the start) or insufficient-data — with a confidence, the numbers behind it, findings (still improving, plateaued, spikes, noisy, hidden NaNs, clipping saturated, ...), the best checkpoint (step of the lowest eval loss) and recommendations in Hugging Face TrainingArguments terms (plus Keras / Lightning lines). The report names which of the tutorial's three pictures the curve matches and draws it.

FILE is any log `lossctl parse` reads; '-' reads stdin; a DIR gives one row per run, most severe first. --format json prints one object per run (a list for several), ndjson one per line, csv/tsv one row per run. --fail-on exits 1 when a verdict is one of those. --follow re-diagnoses a growing log (Ctrl-C stops).

\b
Examples:
  lossctl diagnose train.log
  lossctl diagnose trainer_state.json --format json
  lossctl diagnose runs/ --fail-on diverged,overfitting
  lossctl diagnose train.log --lang zh
  lossctl diagnose train.log --follow --fail-on diverged
  cat train.log | lossctl diagnose -
"""


@app.command("diagnose", help=_DIAGNOSE_HELP, no_args_is_help=True)
def diagnose_cmd(
    file: str = typer.Argument(..., metavar="FILE|DIR|-", help="A training log, a directory of logs, or - for stdin."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | ndjson | csv | tsv."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", metavar="VERDICTS", help="Exit 1 when the verdict is one of these (comma-separated), e.g. diverged,overfitting."),
    lang: str = typer.Option("en", "--lang", help="Language of the messages: en or zh (中文)."),
    log_format: Optional[str] = typer.Option(None, "--log-format", "-l", metavar="NAME", help="Force the log format (see lossctl parse --list-formats)."),
    run: Optional[int] = typer.Option(None, "--run", min=1, help="Only run N of a file with several runs (full report)."),
    follow: bool = typer.Option(False, "--follow", "-F", help="Re-diagnose as the log grows; Ctrl-C stops."),
    interval: float = typer.Option(2.0, "--interval", min=0.05, help="Seconds between checks with --follow."),
    max_updates: Optional[int] = typer.Option(None, "--max-updates", min=1, hidden=True, help="Stop --follow after N reports (tests)."),
) -> None:
    fmt = check_format(fmt)
    from lossctl.diagnose_cli import run_diagnose
    from lossctl.i18n import check_lang

    run_diagnose(
        file, fmt=fmt, lang=check_lang(lang), fail_on=fail_on, follow=follow, log_format=log_format,
        run=run, interval=interval, max_updates=max_updates,
    )


# ============================================================== entry point


def _click_exceptions():
    from typer._click import exceptions as click_exc

    return click_exc


def _invoke(args: List[str]):
    """Run the Typer app on ``args`` and return its result, letting exceptions through raw.

    ``app(..., standalone_mode=False)`` goes through typer's ``_main``, which turns an
    ``EOFError`` (a truncated gzip stream) into a bare ``Abort`` after printing a blank line,
    and a broken pipe into ``sys.exit(1)``. Building the context ourselves keeps the original
    exception, so :func:`main` can say what happened.
    """
    from typer.exceptions import Exit
    from typer.main import get_command

    if not isinstance(app, typer.Typer):  # a stand-in app (tests)
        return app(args=list(args), prog_name="lossctl", standalone_mode=False)
    command = get_command(app)
    try:
        with command.make_context("lossctl", list(args)) as ctx:
            return command.invoke(ctx)
    except Exit as e:  # --version, --help, ctx.exit()
        return e.exit_code


def _stream_closed(stream) -> bool:
    """True if ``stream`` is missing or its file descriptor is closed (``>&-``)."""
    if stream is None:
        return True
    try:
        fd = stream.fileno()
    except Exception:  # io.StringIO (tests) and other in-memory streams
        return False
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def _quiet_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Optional[List[str]] = None) -> int:
    """Run the CLI; map lossctl errors to one message line and an exit code.

    Returns the exit code (the console script passes it to ``sys.exit``).
    """
    global _DEBUG
    args = list(sys.argv[1:] if argv is None else argv)
    _DEBUG = "--debug" in args or bool(os.environ.get("LOSSCTL_DEBUG"))
    if sys.stderr is None:  # started with 2>&-: messages go nowhere, exit codes still tell
        sys.stderr = open(os.devnull, "w")
    from lossctl.output import error_line

    if sys.stdout is None or _stream_closed(sys.stdout):
        # started with >&- : Python has no stdout at all
        error_line("cannot write output: standard output is closed",
                   "redirect it to a file or a pipe, e.g. '> out.txt' or '| less'")
        return errors.EXIT_USAGE

    code = errors.EXIT_OK
    progress = _file_progress(args)
    import warnings

    # numpy's floating-point RuntimeWarnings (inf - inf in a sum, log of 0...): lossctl says
    # itself which values are NaN/inf and that they propagate, in its own words
    warnings.filterwarnings("ignore", message=r"(invalid value|overflow|divide by zero|underflow) encountered",
                            category=RuntimeWarning)
    try:
        try:
            rv = _invoke(args)
            code = rv if isinstance(rv, int) else errors.EXIT_OK
        except errors.LossctlError as e:
            if _DEBUG:
                import traceback

                traceback.print_exc()
            error_line(str(e), e.hint)
            code = e.exit_code
        except KeyboardInterrupt:
            sys.stderr.write("\n")
            sys.stderr.flush()
            code = errors.EXIT_INTERRUPTED
        except BrokenPipeError:
            raise
        except EOFError as e:
            # a compressed stream (gzip/bz2/xz) cut short, read before any message could name it
            if _DEBUG:
                import traceback

                traceback.print_exc()
            error_line(f"the input ended unexpectedly: {e}",
                       "the file is truncated or corrupt (an interrupted download or copy?); "
                       "check it with 'gzip -t FILE', or decompress what is left with 'zcat FILE > out.log'")
            code = errors.EXIT_USAGE
        except RecursionError:
            error_line("the input is nested too deeply to read",
                       "check that the file is a log or predictions file, not generated or corrupt data")
            code = errors.EXIT_USAGE
        except MemoryError:
            error_line("out of memory while reading the input",
                       "the input is larger than this machine can hold; split it or pass fewer rows/files")
            code = errors.EXIT_USAGE
        except Exception as e:  # click usage errors, then anything unexpected
            click_exc = _click_exceptions()
            if isinstance(e, click_exc.NoArgsIsHelpError):
                # `lossctl compute` alone: the help is the answer (typer already printed it);
                # no empty error line after it
                msg = e.format_message().strip()
                if msg:
                    sys.stdout.write(msg + "\n")
                code = errors.EXIT_USAGE
            elif isinstance(e, click_exc.ClickException):
                msg = e.format_message()
                ctx = getattr(e, "ctx", None)
                cmd = ctx.command_path if ctx is not None else "lossctl"
                if isinstance(e, click_exc.UsageError):
                    error_line(msg, f"run '{cmd} --help' to see the options")
                    code = errors.EXIT_USAGE
                else:
                    error_line(msg)
                    code = e.exit_code
            elif type(e).__name__ == "Abort":
                code = errors.EXIT_INTERRUPTED
            elif isinstance(e, OSError) and getattr(e, "errno", None) == errno.EPIPE:
                raise BrokenPipeError(*e.args) from e
            elif isinstance(e, OSError) and getattr(e, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                _quiet_stdout()
                error_line(f"cannot write output: {e.strerror}", "free some disk space or write elsewhere")
                code = errors.EXIT_USAGE
            elif isinstance(e, OSError) and getattr(e, "filename", None) and e.strerror:
                # a file the user named cannot be opened or read (a symlink loop, an I/O error,
                # a vanished mount): a problem of that file, not of lossctl
                error_line(f"{e.filename}: cannot read: {e.strerror}", "check the path and the file system")
                code = errors.EXIT_USAGE
            else:
                if _DEBUG:
                    import traceback

                    traceback.print_exc()
                error_line(
                    f"internal error: {type(e).__name__}: {e}",
                    "this is a bug in lossctl; rerun with --debug for the traceback and report it",
                )
                code = errors.EXIT_INTERNAL
        try:
            sys.stdout.flush()
        except OSError as e:
            if isinstance(e, BrokenPipeError) or e.errno == errno.EPIPE:
                raise BrokenPipeError(*e.args) from e
            # output that fit in the buffer fails only here (e.g. '> /dev/full')
            _quiet_stdout()
            error_line(f"cannot write output: {e.strerror or e}", "free some disk space or write elsewhere"
                       if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else None)
            code = errors.EXIT_USAGE
    except BrokenPipeError:
        # `lossctl parse big.log | head`: the reader went away; exit quietly.
        _quiet_stdout()
        return errors.EXIT_OK
    finally:
        if progress is not None:
            progress.stop()
    return code


def _file_progress(args: List[str]):
    """A reading-progress line on stderr for big input files (parse, diagnose, plot).

    Only on a terminal; not with --follow (no end) nor for compute (it has its own bar), and
    not when the data itself goes to the same terminal while being read (parse's streamed
    formats), where the two would mix.
    """
    cmd = next((a for a in args if not a.startswith("-")), None)
    if cmd not in ("parse", "diagnose", "plot") or "--follow" in args or "-F" in args:
        return None
    from lossctl.output import FileProgress, is_tty

    if cmd == "parse" and is_tty(sys.stdout) and any(a in args for a in ("csv", "tsv", "json", "ndjson")):
        return None
    p = FileProgress.for_args(args[args.index(cmd) + 1:])
    return p.start() if p is not None else None


def run() -> None:  # pragma: no cover - the console script
    sys.exit(main())
