"""Keras ``model.fit()`` console output (verbose 1 and 2, Keras 2 and 3).

::

    Epoch 3/10
    250/250 [==============================] - 3s 12ms/step - loss: 0.5012 - acc: 0.81 - val_loss: 0.6123
    250/250 - 3s - loss: 0.5012 - val_loss: 0.6123 - 3s/epoch - 12ms/step      (verbose 2)
    67s - loss: 2.4808 - acc: 0.2275 - val_loss: 2.1192 - val_acc: 0.4365      (old Keras)
    250/250 ━━━━━━━━━━━━━━━━━━━━ 3s 12ms/step - accuracy: 0.81 - loss: 0.50   (Keras 3)

Rules:

- step = epoch = the number in the last ``Epoch k/N`` header (as printed, from 1).
  A header that goes back to 1 starts a new run (split by post-processing).
- Verbose 1 prints progress frames (``12/250 [==>...] - ETA: 3s - loss: 0.71``) joined
  by ``\\r`` or ``\\b``: only the epoch's final frame counts. A frame is in progress
  when it shows ``ETA`` or its counter is below its total (Keras 3 has no ``ETA``).
  Frames are held until the next header (or the end of the file); the last finished
  frame wins. An epoch with only in-progress frames (a cut log) is dropped with a
  note. A later finished frame of the same bar replaces the earlier one (Keras 3
  prints the last batch, then the line with the validation metrics). A finished
  line with another batch count after the epoch's final line (``model.evaluate()``)
  -> split test at that epoch.
- ``val_X`` -> split eval, metric X; ``acc`` -> accuracy, ``lr`` -> learning_rate.
- Lines with metrics but no header before them (``model.evaluate()`` output) keep
  step None (numbered by post-processing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, canonical, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "keras-console"
DESCRIPTION = "Keras model.fit() console output ('Epoch 3/10' + '- loss: 0.5 - val_loss: 0.6')"
EXAMPLE = "250/250 [==============================] - 3s 12ms/step - loss: 0.5012 - val_loss: 0.6123"
KIND = "lines"

_EPOCH = re.compile(r"^\s*Epoch (\d+)/(\d+)\s*$")
_PAIR = re.compile(r"(?:^|\s)-\s+([A-Za-z_][\w./@]*): (" + NUM + r")(?=\s|$)")
_PAIR_FIRST = re.compile(r"^\s*([A-Za-z_][\w./@]*): (" + NUM + r")(?=\s|$)")
_FRAME_HEAD = re.compile(r"^\s*(?:\d+/\d+\b|\d+s\s+-\s)")
_BS = re.compile("\x08+")
_COUNTER = re.compile(r"^\s*(\d+)/(\d+) ")
# where a progress frame starts: "  12/250 [" / "12/250 ━" (frames glued together
# once the reader removed the backspaces between them)
# (Keras prints values with 4 decimals, so a glued frame starts right after ".dddd")
_FRAME_START = re.compile(r"(?:^|(?<=\s)|(?<=\.\d{4}))\d+/\d+ (?=\[|━|─)")


_D_HEADER = re.compile(r"(?m)^\s*Epoch \d+/\d+\s*$")
_D_FRAME = re.compile(r"(?m)(?:^|\s)- (?:[a-z_]*loss|loss): " + NUM)
_D_BAR = re.compile(r"\d+/\d+ \[[=>.]+\]|\d+/\d+ ━")


def detect(sample: str) -> float:
    headers = len(_D_HEADER.findall(sample))
    frames = len(_D_FRAME.findall(sample))
    if headers and frames:
        return 0.9
    if frames >= 2 and _D_BAR.search(sample):
        return 0.7
    return 0.0


def _frames(line: str) -> list[str]:
    if "\x08" in line:
        return [f for f in _BS.split(line) if f.strip()]
    starts = [m.start() for m in _FRAME_START.finditer(line)]
    if len(starts) > 1:
        return [line[a:b] for a, b in zip(starts, starts[1:] + [len(line)])]
    return [line]


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    epoch: float | None = None
    pending: tuple[int, list[tuple[str, float]], bool] | None = None  # lineno, pairs, eta
    epoch_total: str | None = None  # the batch count of the epoch's progress bar

    def flush() -> Iterator[Record]:
        nonlocal pending
        if pending is None:
            return
        lineno, pairs, eta = pending
        pending = None
        if eta:
            ctx.note(f"epoch {epoch:g} has only progress frames (log cut?); left out"
                     if epoch is not None else "a progress frame without its final line; left out")
            return
        for key, value in pairs:
            split, metric = canonical(key, "train")
            yield Record(epoch, split, metric, value, key, epoch=epoch, line=lineno, group=lineno)

    for lineno, line in numbered(source, ctx):
        if "Epoch" in line:
            m = _EPOCH.match(line)
            if m is not None:
                yield from flush()
                epoch = float(m.group(1))
                epoch_total = None
                continue
        if "loss" not in line:  # fit() and evaluate() always report the loss
            continue
        for frame in _frames(line):
            if "loss" not in frame:
                continue
            pairs = [(k, to_float(v)) for k, v in _PAIR.findall(frame)]
            if not pairs:
                first = _PAIR_FIRST.match(frame)
                if first is None:
                    continue
                pairs = [(first.group(1), to_float(first.group(2)))]
            if not _FRAME_HEAD.match(frame) and not any("loss" in k for k, _ in pairs):
                continue
            cm = _COUNTER.match(frame)
            total = cm.group(2) if cm is not None else None
            # in progress: Keras 2 prints "ETA:", Keras 3 only a counter below its total
            eta = "ETA" in frame or (cm is not None and int(cm.group(1)) < int(cm.group(2)))
            clean = [(k, v) for k, v in pairs if v is not None]
            if pending is not None and not pending[2]:
                if total == epoch_total:
                    if eta:
                        continue  # never replaces the epoch's finished line
                    # a later finished frame of the same bar (Keras 3 prints the last
                    # batch, then the line with the validation metrics): it wins
                    pending = (lineno, clean, eta)
                    continue
                # another bar after the epoch's final line: model.evaluate()
                if eta:
                    continue
                yield from flush()
                for key, value in clean:
                    _, metric = canonical(key, "test")
                    yield Record(epoch, "test", metric, value, key, epoch=epoch,
                                 line=lineno, group=lineno)
                continue
            if pending is None:
                epoch_total = total
            pending = (lineno, clean, eta)
            if epoch is None and not eta:
                yield from flush()
    yield from flush()
