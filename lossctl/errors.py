"""The exceptions lossctl raises for things a user can fix.

Every class carries the exit code that :func:`lossctl.cli.main` uses and an optional
hint. ``str(err)`` is written for the user: what is wrong and where (file, line,
column or key). ``main()`` is the only place that prints them.

Exit codes (the pipeline convention, see README):
    0 ok · 1 a requested check failed · 2 usage or input error · 3 internal error ·
    130 interrupted.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


def location(
    source: str | None = None,
    line: int | None = None,
    column: str | int | None = None,
    key: str | None = None,
) -> str:
    """``file:line: column 'x'`` — the 'where' part of a message, empty if unknown."""
    parts = []
    head = ""
    if source:
        head = str(source)
        if line is not None:
            head += f":{line}"
    elif line is not None:
        head = f"line {line}"
    if head:
        parts.append(head)
    if column is not None:
        parts.append(f"column {column!r}" if isinstance(column, str) else f"column {column}")
    if key is not None:
        parts.append(f"key {key!r}")
    return ": ".join(parts)


class LossctlError(Exception):
    """Base class: a problem the user can fix. Exit code 2 unless a subclass says otherwise."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(LossctlError):
    """Bad command line: unknown loss, option not taken by a loss, value out of range."""


class InputError(LossctlError):
    """Bad input data, with where it is: file, line, column or key."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: str | int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = location(source, line, column, key)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.source = source
        self.line = line
        self.column = column
        self.key = key


class MissingDependency(LossctlError):
    """An optional extra is needed for this input (e.g. pyarrow for Parquet)."""

    def __init__(self, what: str, extra: str, module: str) -> None:
        super().__init__(
            f"{what} needs the optional package '{module}', which is not installed",
            hint=f"pip install 'lossctl[{extra}]'",
        )


class CheckFailed(LossctlError):
    """A check the user asked for failed (e.g. ``--fail-on overfitting``): exit 1."""

    exit_code = EXIT_CHECK_FAILED
