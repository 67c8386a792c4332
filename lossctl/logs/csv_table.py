"""CSV / TSV tables of metrics.

- PyTorch Lightning ``CSVLogger`` ``metrics.csv``: sparse rows (train rows, val rows and
  ``lr-Adam`` rows each fill only their own columns), ``train_loss``/``val_loss``,
  ``train/...``/``val/...``, ``*_step``/``*_epoch`` variants;
- Keras ``CSVLogger``: ``epoch,loss,val_loss,accuracy,...`` (one row per epoch);
- Ultralytics YOLO ``results.csv``: headers padded with spaces, ``train/box_loss``,
  ``val/box_loss``, ``metrics/mAP50(B)`` (validation metrics), ``lr/pg0``;
- any table with a step or epoch column and loss-like columns. A column named
  ``type``/``split``/``mode``/``phase``/``stage`` whose values are ``train``/``val``/
  ``test`` gives the split of its row.

Steps: the ``step`` (``global_step``, ``iteration``, ``iter``) column when there is one,
else the epoch (tables with one row per epoch), else the row number. The delimiter
(comma, tab, semicolon) is sniffed from the header; a table printed with frames
(markdown ``| Epoch | Train Loss | Val Loss |`` with a ``----`` rule, after a short title)
or aligned with spaces (``Step    Loss      Grad Norm`` over rows of numbers) is read the same. Empty cells are "not logged";
``nan``/``inf`` cells are kept as NaN/inf; a ``%`` after a number is dropped (``0.11%`` -> 0.11). A row with the wrong number of cells is
skipped and counted (its values cannot be matched to columns; a short row is often a
line cut by a crash).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from lossctl.logs import tidy
from lossctl.logs.base import ParseContext, Record

NAME = "csv-table"
DESCRIPTION = "CSV/TSV metric tables (Lightning metrics.csv, Keras CSVLogger, YOLO results.csv, any step/epoch table)"
EXAMPLE = "epoch,loss,val_loss,accuracy,val_accuracy"
KIND = "document"

STEP_COLS = ("step", "global_step", "iteration", "iter", "steps", "trainer/global_step", "it", "_step")
EPOCH_COLS = ("epoch", "epochs")
SPLIT_COLS = ("type", "split", "mode", "phase", "stage", "subset")
TIME_COLS = ("time",)
_YOLO_PART = re.compile(r"^(?:box|cls|dfl|seg|pose|kobj|obj|giou|l1)_(?:om|oo|loss)$")


_RULE = re.compile(r"^[\s|:+=\-]*[-=][\s|:+=\-]*$")


def _framed(line: str) -> bool:
    t = line.strip()
    return t.startswith("|") and t.endswith("|") and t.count("|") >= 3


_PREAMBLE = 30  # lines of title/notes a printed table may follow


def _unframe(lines: list[str]) -> list[str]:
    """A table printed for people as tab-delimited lines; other text as it is.

    - with frames (markdown ``| Epoch | Train Loss |``, ``|---|`` / ``-----`` / ``+---+``
      rules), possibly after a short preamble (``# Training Log``, ``**Started:** ...``);
    - aligned with spaces (``Step    Loss      Grad Norm``, a Trainer table pasted from a
      notebook): a header of names two or more spaces apart over rows of as many numbers.
    Lines that are not table rows are blanked (line numbers are kept)."""
    body = [i for i, ln in enumerate(lines) if ln.strip() and not _RULE.match(ln)]
    if not body:
        return lines
    first = next((i for i in body[:_PREAMBLE] if _framed(lines[i])), None)
    if first is not None and all(not _framed(lines[i]) for i in body if i < first):
        out = []
        for i, ln in enumerate(lines):
            t = ln.strip()
            if i < first or _RULE.match(t) or not _framed(t):
                out.append("")
            else:
                out.append("\t".join(c.strip() for c in t[1:-1].split("|")))
        return out
    head = lines[body[0]].strip()
    if any(d in head for d in (",", "\t", ";", "|")):
        return lines
    names = re.split(r"\s{2,}", head)
    rows = [_cells(lines[i]) for i in body[1:50]]
    if (len(names) >= 2 and not any(re.search(r"\d", n) and re.fullmatch(r"[-+.\deE%]+", n) for n in names)
            and rows and sum(len(r) == len(names) for r in rows) >= 0.8 * len(rows)
            and all(re.fullmatch(r"[-+]?[\d.]+(?:[eE][-+]?\d+)?%?|nan|NaN|inf|-|N/A|None", c)
                    for r in rows if len(r) == len(names) for c in r)):
        out = [""] * len(lines)
        out[body[0]] = "\t".join(names)
        for i in body[1:]:
            out[i] = "\t".join(_cells(lines[i]))
        return out
    return lines


def _cells(line: str) -> list[str]:
    # the Trainer's notebook table prints "No log" where no train loss was logged yet
    return line.replace("No log", "-").split()


def _delimiter(header: str) -> str | None:
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    d, n = max(counts.items(), key=lambda kv: kv[1])
    return d if n >= 1 else None


def _is_lossy(name: str) -> bool:
    low = name.lower()
    return "loss" in low or bool(_YOLO_PART.match(low.split("/")[-1]))


def detect(sample: str) -> float:
    lines = [ln for ln in _unframe(sample.splitlines()) if ln.strip()]
    if len(lines) < 2:
        return 0.0
    d = _delimiter(lines[0])
    if d is None:
        return 0.0
    header = [h.strip().strip('"') for h in lines[0].split(d)]
    if len(header) < 2 or any(re.fullmatch(r"[-+.\deE]+", h) for h in header if h):
        return 0.0
    if any(re.search(r"=|%\||<\d\d:\d\d|:\s*[-+]?\.?\d|[A-Za-z]\s+[-+]?\.?\d[\d.eE+-]*$", h) for h in header):
        return 0.0  # a progress bar or "key=value" / "Loss: 2.30" / "loss 0.04" text, not column names
    low = [h.lower() for h in header]
    n = len(header)
    # the parser skips (and counts) a row with the wrong number of cells, so a couple of
    # ragged rows (or a fifth of them) do not make the table unrecognisable
    checked = lines[1:50]
    bad = sum(1 for ln in checked if ln.count(d) != lines[0].count(d))
    if bad > max(2, 0.2 * len(checked)) or bad == len(checked):
        return 0.0
    has_coord = any(h in STEP_COLS or h in EPOCH_COLS for h in low)
    has_loss = any(_is_lossy(h) for h in low)
    if has_coord and has_loss:
        return 0.85
    if has_loss and n >= 2:
        return 0.6
    if has_coord:
        return 0.3
    return 0.0


def _yolo_split(name: str, yolo: bool) -> tuple[str, str]:
    if yolo and name.lower().startswith("metrics/"):
        return "eval", name.split("/", 1)[1]
    m = re.match(r"^lr(?:-\w+)?/pg(\d+)$", name)
    if m:
        return "train", "learning_rate" if m.group(1) == "0" else f"learning_rate_pg{m.group(1)}"
    return tidy.canonical(name)


def parse(text: str, ctx: ParseContext) -> Iterator[Record]:
    lines = _unframe(text.splitlines())
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines):
        return
    d = _delimiter(lines[start]) or ","
    reader = csv.reader(lines[start:], delimiter=d)
    header = [h.strip() for h in next(reader)]
    while header and header[-1] == "":
        header.pop()  # YOLO's trailing comma
    low = [h.lower() for h in header]
    step_i = next((i for i, h in enumerate(low) if h in STEP_COLS), None)
    epoch_i = next((i for i, h in enumerate(low) if h in EPOCH_COLS), None)
    split_i = next((i for i, h in enumerate(low) if h in SPLIT_COLS), None)
    yolo = any(h.startswith("metrics/") for h in low) and any(h.startswith(("train/", "val/")) for h in low)
    time_i = next((i for i, h in enumerate(low) if h in TIME_COLS), None) if yolo else None
    skip_cols = {i for i in (step_i, epoch_i, split_i, time_i) if i is not None}
    names = [(i, h, _yolo_split(h, yolo)) for i, h in enumerate(header) if i not in skip_cols and h]
    # two columns that mean the same series ('loss' and the Trainer's final 'train_loss'
    # average in one table) would overwrite each other row by row: the one named exactly
    # as its metric keeps it, the other keeps its own name
    seen: dict[tuple[str, str], list[int]] = {}
    for n, (_i, _h, key) in enumerate(names):
        seen.setdefault(key, []).append(n)
    for key, idx in seen.items():
        if len(idx) > 1:
            keep = next((n for n in idx if names[n][1].strip().lower() == key[1]), idx[0])
            for n in idx:
                if n != keep:
                    i, h, (split, _metric) = names[n]
                    names[n] = (i, h, (split, re.sub(r"\W+", "_", h.strip().lower()).strip("_")))
                    ctx.note(f"columns {names[keep][1]!r} and {h!r} are both {key[0]} {key[1]}: "
                             f"{h!r} is kept as metric {names[n][2][1]!r}")
    if step_i is None and epoch_i is None:
        ctx.note("no step or epoch column: rows are numbered from 1")
    elif step_i is None:
        ctx.note("no step column: the epoch is used as the step")
    for rowno, row in enumerate(reader, start=start + 2):
        ctx.lineno = rowno  # type: ignore[attr-defined]
        while len(row) > len(header) and row[-1].strip() == "":
            row.pop()
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            ctx.skip(rowno, f"{len(row)} cells where the header has {len(header)}")
            continue
        epoch = tidy.to_float(row[epoch_i]) if epoch_i is not None else None
        if step_i is not None:
            step = tidy.to_float(row[step_i])
        elif epoch_i is not None:
            step = epoch
        else:
            step = float(rowno - start - 1)
        split_override = None
        if split_i is not None:
            sv = row[split_i].strip().lower()
            split_override = tidy._SPLIT_WORDS.get(sv)
        t = tidy.to_float(row[time_i]) if time_i is not None else None
        for i, name, (split, metric) in names:
            cell = row[i].strip()
            if not cell:
                continue
            if cell.endswith("%"):
                cell = cell[:-1].rstrip()  # "0.11%" is 0.11, as printed (plaintext does the same)
            v = tidy.to_float(cell)
            if v is None:
                continue
            if split_override is not None and split == "train":
                split = split_override
            yield Record(step=step, split=split, metric=metric, value=v, name=name, epoch=epoch,
                         time=t, line=rowno, group=rowno)
