"""The contract every log-format module follows.

A format module in ``lossctl/logs/`` defines::

    NAME = "hf-console"                 # what --log-format takes
    DESCRIPTION = "Hugging Face Trainer console dicts"
    EXAMPLE = "{'loss': 2.157, 'grad_norm': 4.91, 'learning_rate': 4.8e-05, 'epoch': 0.36}"
    KIND = "lines"                      # "lines": parse() gets cleaned lines one by one
                                        # "document": parse() gets the whole text (JSON, CSV)

    def detect(sample: str) -> float:   # 0.0 (not this format) .. 1.0 (certainly this)
        ...
    def parse(source, ctx: ParseContext) -> Iterator[Record]:
        ...

``detect`` sees the first ~64 KiB of the (cleaned) text. ``parse`` yields
:class:`Record` objects in file order; it never raises for a bad line: it calls
``ctx.skip(lineno, reason)`` and goes on. Run splitting (a step counter that
restarts), de-duplication and step numbering are done once, after parsing, by the
shared post-processing, not by each format. The registry lives in
``lossctl/logs/__init__.py`` (``FORMATS``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

SPLITS = ("train", "eval", "test")

# The tidy columns, in order, of lossctl.parse_log()'s DataFrame and of `parse` output.
COLUMNS = ("run", "step", "epoch", "split", "metric", "value", "name", "time", "line")


@dataclass(slots=True)
class Record:
    """One observation: at ``step`` (and/or ``epoch``), ``split``'s ``metric`` was ``value``.

    - ``step``: the optimizer step / iteration as the log says it, or None when the
      format has none (HF console dicts): post-processing numbers those.
    - ``split``: "train" | "eval" | "test".
    - ``metric``: canonical name ("loss", "learning_rate", "grad_norm", "accuracy", ...).
    - ``name``: the original key as written in the log ("eval_loss", "val/box_loss").
    - ``value``: a float; NaN/inf are kept as such, never dropped.
    - ``line``: 1-based line number in the file where it was read (for messages).
    - ``group``: records read from the same log line/entry share it, so steps can be
      assigned per entry.
    """

    step: float | None
    split: str
    metric: str
    value: float
    name: str
    epoch: float | None = None
    time: float | None = None
    line: int | None = None
    group: int | None = None
    run: int | None = None


@dataclass
class ParseContext:
    """Side information gathered while parsing: skipped lines, hyper-parameters, notes."""

    source: str = "<stdin>"
    skipped: int = 0
    skipped_examples: list[tuple[int, str]] = field(default_factory=list)
    hparams: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def skip(self, lineno: int | None, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_examples) < 5:
            self.skipped_examples.append((lineno or 0, reason))

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)


def json_objects(source: Iterable[str], ctx: ParseContext) -> Iterator[dict]:
    """The JSON object on each non-empty line of ``source`` (JSON Lines logs); a line that
    is not a JSON object is skipped and counted, and reading goes on."""
    for line in source:
        s = line.strip()
        if not s:
            continue
        try:
            obj = json.loads(s)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            ctx.skip(getattr(ctx, "lineno", None), "not a JSON object")
            continue
        yield obj
