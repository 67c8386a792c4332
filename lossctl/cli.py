"""The ``lossctl`` command line: thin Typer commands over the library.

Rules for this module:
- no math and no parsing logic here: parse options, call the library, render;
- import heavy modules (pandas, the log parsers, charts) inside the command bodies,
  so ``lossctl --help`` and small computations start fast;
- raise :mod:`lossctl.errors` exceptions; :func:`main` is the only place that turns
  them into messages and exit codes.
"""

from __future__ import annotations

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


# ============================================================== parse
# (owned by the parse work: keep edits inside this section)

_PARSE_HELP = """Parse a training log into tidy records: run, step, epoch, split, metric, value.

The log format is detected from the content (Hugging Face Trainer console or trainer_state.json, LLaMA-Factory / any JSONL, Lightning / Keras / YOLO CSV, Detectron2, MMDetection, TensorBoard event files, Megatron, Keras console, nanoGPT, fairseq, timm, ... see --list-formats) or forced with --log-format. FILE may be gzipped; '-' reads stdin. stderr says which format was read, how many lines were skipped and any duplicated steps.

--format table (the default) prints a summary per series (points, first, last, min and its step, NaN count); csv, tsv, json and ndjson print every record (json: one list, so the skipped-line count is on stderr only). --wide prints one row per step with a column per split/metric (train/loss, eval/loss, ...).

\b
Examples:
  lossctl parse train.log
  lossctl parse trainer_state.json --format csv --metric loss
  lossctl parse metrics.csv --wide --format csv
  lossctl parse run.log.gz --split eval --format ndjson
  tail -f train.log | lossctl parse - --format csv
  lossctl parse train.log --follow --format csv --metric loss
  lossctl parse --list-formats
"""


def _split_list(value: Optional[str]) -> Optional[list]:
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@app.command("parse", help=_PARSE_HELP, no_args_is_help=True)
def parse_cmd(
    file: Optional[str] = typer.Argument(None, metavar="[FILE|-]", help="The log file, or - for stdin."),
    log_format: Optional[str] = typer.Option(None, "--log-format", "-l", metavar="NAME", help="Force the log format (see --list-formats)."),
    list_formats: bool = typer.Option(False, "--list-formats", help="List the log formats with an example line each, then exit."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | csv | tsv | json | ndjson."),
    wide: bool = typer.Option(False, "--wide", help="One row per step, a column per split/metric."),
    metric: Optional[str] = typer.Option(None, "--metric", "-m", help="Only these metrics (canonical or original names, comma-separated), e.g. loss or loss,grad_norm."),
    split: Optional[str] = typer.Option(None, "--split", "-s", help="Only these splits: train, eval, test (comma-separated)."),
    run: Optional[int] = typer.Option(None, "--run", min=1, help="Only run N (a step counter that restarts starts a new run)."),
    follow: bool = typer.Option(False, "--follow", "-F", help="Keep reading as the file grows (like tail -f); Ctrl-C stops."),
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
        splits=_split_list(split), run=run, follow=follow,
    )


# ============================================================== plot
# (owned by the charts work: keep edits inside this section)


# ============================================================== diagnose
# (owned by the diagnose work: keep edits inside this section)


# ============================================================== entry point


def _click_exceptions():
    from typer._click import exceptions as click_exc

    return click_exc


def main(argv: Optional[List[str]] = None) -> int:
    """Run the CLI; map lossctl errors to one message line and an exit code.

    Returns the exit code (the console script passes it to ``sys.exit``).
    """
    global _DEBUG
    args = list(sys.argv[1:] if argv is None else argv)
    _DEBUG = "--debug" in args or bool(os.environ.get("LOSSCTL_DEBUG"))
    from lossctl.output import error_line

    code = errors.EXIT_OK
    try:
        try:
            rv = app(args=args, prog_name="lossctl", standalone_mode=False)
            code = rv if isinstance(rv, int) else errors.EXIT_OK
        except errors.LossctlError as e:
            if _DEBUG:
                import traceback

                traceback.print_exc()
            error_line(str(e), e.hint)
            code = e.exit_code
        except KeyboardInterrupt:
            sys.stderr.write("\n")
            code = errors.EXIT_INTERRUPTED
        except BrokenPipeError:
            raise
        except Exception as e:  # click usage errors, then anything unexpected
            click_exc = _click_exceptions()
            if isinstance(e, click_exc.ClickException):
                msg = e.format_message()
                ctx = getattr(e, "ctx", None)
                cmd = ctx.command_path if ctx is not None else "lossctl"
                if isinstance(e, click_exc.UsageError):
                    error_line(msg, f"run '{cmd} --help' to see the options")
                    code = errors.EXIT_USAGE
                else:
                    error_line(msg)
                    code = e.exit_code
            elif isinstance(e, click_exc.Abort if hasattr(click_exc, "Abort") else ()):
                code = errors.EXIT_INTERRUPTED
            elif isinstance(e, OSError) and getattr(e, "errno", None) == 28:
                error_line(f"cannot write output: {e.strerror}", "free some disk space or write elsewhere")
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
        sys.stdout.flush()
    except BrokenPipeError:
        # `lossctl parse big.log | head`: the reader went away; exit quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return errors.EXIT_OK
    return code


def run() -> None:  # pragma: no cover - the console script
    sys.exit(main())
