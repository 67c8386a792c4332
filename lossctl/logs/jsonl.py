"""JSON lines (and JSON arrays) of metric records.

LLaMA-Factory's ``trainer_log.jsonl`` (``current_steps``, ``loss``, ``lr``/``learning_rate``,
``epoch``, ``elapsed_time``), and any JSONL whose objects have a step-like key
(``step``, ``global_step``, ``current_steps``, ``iteration``, ``iter``, ``_step``) or an
``epoch`` and at least one loss-like key. A file that is one JSON array of such
objects is read the same way. Nested objects are flattened one level
(``{"train": {"loss": 1.2}}`` → ``train/loss``). Progress fields (``total_steps``,
``percentage``, ``remaining_time``, ``eta``) are not metrics; ``elapsed_time``
(``"1 day, 0:08:23"``) becomes the time column in seconds. Lines that are not JSON
objects are skipped and counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from lossctl.logs import tidy
from lossctl.logs.base import ParseContext, Record

NAME = "jsonl"
DESCRIPTION = "JSON lines / JSON arrays of metric records (LLaMA-Factory trainer_log.jsonl, custom loggers)"
EXAMPLE = '{"current_steps": 10, "total_steps": 2178, "loss": 2.2964, "lr": 4.13e-06, "epoch": 0.0046}'
KIND = "lines"

STEP_KEYS = ("current_steps", "global_step", "step", "iteration", "iter", "_step", "steps",
             "trainer/global_step", "it")
EPOCH_KEYS = ("epoch", "epochs")
NOT_METRICS = frozenset(("total_steps", "percentage", "remaining_time", "elapsed_time", "eta",
                         "eta_seconds", "_runtime", "_timestamp", "timestamp", "max_steps",
                         "total_epochs", "num_epochs") + STEP_KEYS + EPOCH_KEYS)
_LOSSY = re.compile(r"loss|^l$", re.I)
_ELAPSED_RE = re.compile(r"^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")


def _elapsed(v) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        m = _ELAPSED_RE.match(v.strip())
        if m:
            d, h, mi, s = m.groups()
            return int(d or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + float(s)
    return None


def _looks_like_record(obj) -> tuple[bool, bool]:
    """(has a step-like key, has a loss-like key)."""
    if not isinstance(obj, dict):
        return False, False
    keys = list(obj)
    for v in obj.values():
        if isinstance(v, dict):
            keys.extend(v)
    return (any(k in STEP_KEYS or k in EPOCH_KEYS for k in keys),
            any(_LOSSY.search(k) for k in keys))


def detect(sample: str) -> float:
    lines = [ln for ln in sample.splitlines() if ln.strip()]
    if not lines:
        return 0.0
    first = lines[0].lstrip()
    if first.startswith("["):
        return 0.6 if re.search(r'"[^"]*loss[^"]*"\s*:', sample) and re.search(
            r'"(?:step|global_step|epoch|iteration|iter|current_steps|_step)"\s*:', sample) else 0.0
    objs = steps = losses = 0
    for ln in lines[:200]:
        s = ln.strip()
        if not s.startswith("{"):
            continue
        try:
            obj = json.loads(s)
        except ValueError:
            continue
        objs += 1
        st, lo = _looks_like_record(obj)
        steps += st
        losses += lo
    if not objs or objs < 0.5 * min(len(lines), 200):
        return 0.0
    if '"current_steps"' in sample and '"total_steps"' in sample:
        return 0.9
    if steps and losses:
        return 0.7
    if steps:
        return 0.3
    return 0.0


def _records(obj: dict, ctx: ParseContext, group: int) -> Iterator[Record]:
    step = None
    for k in STEP_KEYS:
        if k in obj:
            step = tidy.to_float(obj[k])
            if step is not None:
                break
    epoch = None
    for k in EPOCH_KEYS:
        if k in obj:
            epoch = tidy.to_float(obj[k])
            break
    t = _elapsed(obj.get("elapsed_time"))
    if t is None and "time" in obj and isinstance(obj.get("time"), str):
        t = None
    items = []
    for k, v in obj.items():
        if isinstance(v, dict):
            items.extend((f"{k}/{k2}", v2) for k2, v2 in v.items())
        else:
            items.append((k, v))
    line = getattr(ctx, "lineno", None) or None
    for k, v in items:
        if k in NOT_METRICS or isinstance(v, (str, bool, list, dict)) or v is None:
            continue
        f = tidy.to_float(v)
        if f is None:
            continue
        split, metric = tidy.canonical(k)
        yield Record(step=step, split=split, metric=metric, value=f, name=k, epoch=epoch,
                     time=t, line=line, group=group)


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    group = 0
    array_lines: list[str] | None = None
    for line in source:
        s = line.strip()
        if array_lines is not None:
            array_lines.append(line)
            continue
        if not s:
            continue
        if s.startswith("[") and group == 0:
            array_lines = [line]
            continue
        try:
            obj = json.loads(s)
        except ValueError:
            ctx.skip(getattr(ctx, "lineno", None), "not a JSON object")
            continue
        if not isinstance(obj, dict):
            ctx.skip(getattr(ctx, "lineno", None), "not a JSON object")
            continue
        group += 1
        yield from _records(obj, ctx, group)
    if array_lines is not None:
        try:
            data = json.loads("\n".join(array_lines))
        except ValueError as e:
            from lossctl.errors import InputError

            raise InputError(f"not valid JSON ({e})", source=ctx.source) from None
        if not isinstance(data, list):
            data = [data]
        ctx.lineno = 0  # type: ignore[attr-defined]  # items of one JSON document: no line of their own
        for i, obj in enumerate(data):
            if isinstance(obj, dict):
                yield from _records(obj, ctx, i + 1)
            else:
                ctx.skip(None, f"item {i} of the JSON array is not an object")
