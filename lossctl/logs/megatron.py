"""Megatron-LM / Megatron-DeepSpeed training logs.

Train lines (one per ``--log-interval``)::

     iteration       20/    1000 | consumed samples: 640 | elapsed time per iteration (ms): 812.3 |
     learning rate: 6.000E-05 | global batch size: 32 | lm loss: 1.210588E+01 | loss scale: 4096.0 |
     grad norm: 1.234 | number of skipped iterations: 0 | number of nan iterations: 0 |

Validation blocks::

     validation loss at iteration 100 | lm loss value: 5.6E+00 | lm loss PPL: 2.7E+02 |
     validation loss at the end of training for test data | lm loss value: ... |

Rules:

- step = the iteration; every ``... loss: V`` field is a loss (``lm loss`` -> metric
  ``loss``, ``mlm loss`` -> ``mlm_loss``); ``loss scale`` is the fp16 loss scale,
  kept as metric ``loss_scale``, never as a loss.
- Megatron leaves the loss fields out of a line when every iteration of the interval
  was skipped or NaN; such a line gives loss = NaN for each loss key seen before
  (``lm loss`` if none), so the divergence stays visible. A printed ``nan``/``NAN``
  value is kept as NaN.
- ``number of skipped iterations`` / ``number of nan iterations`` are kept as
  ``skipped_iterations`` / ``nan_iterations``; learning rate, grad norm, params
  norm and loss scale as ``learning_rate``, ``grad_norm``, ``params_norm``,
  ``loss_scale``. Throughput/time/sample counters are left out.
- validation ``X value`` -> split eval (test when the line says test), metric
  from X; ``X PPL`` -> ``perplexity`` (``<x>_perplexity`` for other losses); the
  step is the iteration in the line, else the last train iteration.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "megatron"
DESCRIPTION = "Megatron-LM / Megatron-DeepSpeed 'iteration N/ M | lm loss: ...' lines"
EXAMPLE = (
    " iteration       20/    1000 | consumed samples:          640 | learning rate: 6.000E-05 |"
    " lm loss: 1.210588E+01 | loss scale: 4096.0 | grad norm: 1.234 |"
    " number of skipped iterations:   0 | number of nan iterations:   0 |"
)
KIND = "lines"

_ITER = re.compile(r"\biteration\s+(\d+)\s*/\s*(\d+)\s*\|(.*)")
_VALID = re.compile(r"\bvalidation loss at (?:iteration (\d+))?([^|]*)\|(.*)")

_KEEP = {
    "learning rate": "learning_rate",
    "grad norm": "grad_norm",
    "params norm": "params_norm",
    "loss scale": "loss_scale",
    "number of skipped iterations": "skipped_iterations",
    "number of nan iterations": "nan_iterations",
}


def _loss_metric(key: str) -> str:
    """'lm loss' -> 'loss', 'mlm loss' -> 'mlm_loss', 'loss' -> 'loss'."""
    k = key.strip().lower()
    if k in ("lm loss", "loss", "lm-loss"):
        return "loss"
    return "_".join(k.replace("-", " ").split())


def _is_loss_key(key: str) -> bool:
    k = key.lower()
    return "loss" in k and "scale" not in k


def detect(sample: str) -> float:
    hits = 0
    for m in _ITER.finditer(sample):
        if "loss" in m.group(3) or "learning rate" in m.group(3):
            hits += 1
            if hits >= 2:
                return 0.95
    if hits or "validation loss at iteration" in sample:
        return 0.8
    return 0.0


def _fields(text: str) -> Iterator[tuple[str, str]]:
    """``key: value`` fields of a ``| ``-separated Megatron line (str ops, no regex)."""
    for field in text.split("|"):
        key, sep, raw = field.rpartition(":")
        if sep:
            yield key.strip(), raw.strip()


def _classify(key: str) -> tuple[str, str] | None:
    """("loss" | "keep", metric) for a train-line key, None when it is left out."""
    kl = key.lower()
    if _is_loss_key(kl):
        return "loss", _loss_metric(key)
    if kl in _KEEP:
        return "keep", _KEEP[kl]
    return None


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    loss_keys: list[str] = []  # loss field names seen so far, in order
    last_iter: float | None = None
    kinds: dict[str, tuple[str, str] | None] = {}
    for lineno, line in numbered(source, ctx):
        if "iteration" not in line and "validation loss" not in line:
            continue
        m = _ITER.search(line)
        if m is not None:
            step = float(m.group(1))
            last_iter = step
            found_loss = False
            bad_loss = None
            for key, raw in _fields(m.group(3)):
                kind = kinds.get(key, False)
                if kind is False:
                    kind = kinds[key] = _classify(key)
                if kind is None:
                    continue
                value = to_float(raw)
                if value is None:
                    if kind[0] == "loss" and bad_loss is None:
                        bad_loss = (key, raw)
                    continue
                if kind[0] == "loss":
                    found_loss = True
                    if key not in loss_keys:
                        loss_keys.append(key)
                yield Record(step, "train", kind[1], value, key, line=lineno, group=lineno)
            if not found_loss:
                if bad_loss is not None:
                    # the loss is there but unreadable (garbled bytes): not the NaN of a skipped interval
                    ctx.skip(lineno, f"unreadable {bad_loss[0]} value {bad_loss[1].strip()[:40]!r}")
                    continue
                if not line.rstrip().endswith("|"):
                    # a complete Megatron line always ends with '|': this one was cut
                    ctx.skip(lineno, "cut Megatron iteration line")
                    continue
                for key in loss_keys or ["lm loss"]:
                    yield Record(step, "train", _loss_metric(key), math.nan, key,
                                 line=lineno, group=lineno)
            continue
        v = _VALID.search(line)
        if v is not None:
            step = float(v.group(1)) if v.group(1) else last_iter
            where = v.group(2).lower()
            split = "test" if "test" in where else "eval"
            got = False
            for k, raw in _fields(v.group(3)):
                value = to_float(raw)
                if value is None:
                    continue
                kl = k.lower()
                if kl.endswith(" value"):
                    metric = _loss_metric(k[: -len(" value")])
                elif kl.endswith(" ppl"):
                    base = _loss_metric(k[: -len(" ppl")])
                    metric = "perplexity" if base == "loss" else base + "_perplexity"
                else:
                    continue
                got = True
                yield Record(step, split, metric, value, k, line=lineno, group=lineno)
            if not got:
                ctx.skip(lineno, "validation line without a value")
