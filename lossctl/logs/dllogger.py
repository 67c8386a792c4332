"""NVIDIA DLLogger output (DeepLearningExamples): JSON-stream lines and the stdout text format.

::

    DLLL {"timestamp": "1600000000.1", "elapsedtime": "10.2", "datetime": "...", "type": "LOG", "step": [0, 10], "data": {"loss": 2.3}}
    DLLL {"type": "LOG", "step": "PARAMETER", "data": {"lr": 0.001, "batch_size": 256}}
    DLL 2020-05-12 14:06:54.466458 - Epoch: 0 Iteration: 10  loss : 2.3  lr : 0.001
    Epoch: 0 Iteration: 10  train.loss : 2.3
    Epoch: 0 Validation Iteration: 5  val.loss : 2.9
    (0, 10) loss : 2.3

Rules:

- ``step: [epoch, iteration]``: DLLogger's iteration usually restarts every epoch, so
  the step is made global: when the epoch changes and the iteration goes back, an
  offset of (last iteration - first iteration of the log + logging stride) is added —
  exact when iterations are logged at a regular stride up to the end of the epoch,
  approximately right otherwise. ``[epoch]`` alone (an epoch summary)
  gets step = epoch when the log has no iteration records, else the last global step
  with its train metrics prefixed ``epoch_`` (epoch means, not iteration points).
  An int step is the step. ``[]`` (the final summary) is not a curve point: it is
  kept in hparams as ``final_<key>``. ``PARAMETER`` data goes to hparams.
- keys: ``val.loss``/``validation.loss``/``eval_loss`` -> split eval, ``train.loss``
  -> train, ``test.*`` -> test; with a ``Validation Iteration`` the default is eval.
  Throughput and time keys (``*ips``, ``*time*``, ``*latency*``) are left out.
- ``elapsedtime`` is kept as the record time (seconds).
- ``METADATA`` lines are not data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, canonical, hit_score, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "dllogger"
DESCRIPTION = "NVIDIA DLLogger ('DLLL {...json...}' lines and 'Epoch: 0 Iteration: 10  loss : 2.3')"
EXAMPLE = 'DLLL {"timestamp": "1600000000.1", "elapsedtime": "10.2", "type": "LOG", "step": [0, 10], "data": {"loss": 2.3}}'
KIND = "lines"

_TEXT = re.compile(
    r"^(?:DLL \S+ \S+ - )?(?P<step>PARAMETER|\(\s*[\d,\s]*\)|"
    r"(?:(?:Training |Train )?Epoch: (?P<e>\d+)\s*)?(?:(?:Training |Train )?Iteration: (?P<i>\d+)\s*)?"
    r"(?:Validation Iteration: (?P<v>\d+)\s*)?)\s*(?P<rest>\S.* : .*)$"
)
_PAIR = re.compile(r"([\w./@\-]+) : (" + NUM + r")(?=\s|$)")
_DROP = ("ips", "time", "latency", "throughput", "samples_per", "_per_sec", "speed")


_D_DLL = re.compile(r"(?m)^DLL \S+ \S+ - ")
_D_TEXT = re.compile(r"(?m)^(?:Training )?Epoch: \d+ (?:Training )?Iteration: \d+ +[\w./]+ : " + NUM)
_INTS = re.compile(r"\d+")


def detect(sample: str) -> float:
    if "DLLL {" in sample:
        return 0.97
    n = len(_D_DLL.findall(sample)) + len(_D_TEXT.findall(sample))
    return hit_score(n, one=0.5, many=0.85)


def _dropped(key: str) -> bool:
    k = key.lower()
    return any(d in k for d in _DROP)


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    offset = 0.0
    cur_epoch: float | None = None
    last_it: float | None = None
    stride: float | None = None
    global_step: float | None = None
    has_iters = False
    first_it: float | None = None  # the first iteration number of the log (0 or 1)

    def locate(step) -> tuple[float | None, float | None, str] | None:
        """(step, epoch, default split) for a DLLogger step value; None = not a point."""
        nonlocal offset, cur_epoch, last_it, stride, global_step, has_iters, first_it
        if isinstance(step, (int, float)) and not isinstance(step, bool):
            global_step = float(step)
            return global_step, None, "train"
        if not isinstance(step, (list, tuple)) or not step:
            return None
        nums = [to_float(str(x)) for x in step]
        if any(x is None for x in nums):
            return None
        epoch = nums[0]
        split = "eval" if len(nums) > 2 else "train"
        if len(nums) == 1:
            if not has_iters:
                global_step = epoch
            return global_step, epoch, split
        it = nums[1]
        has_iters = True
        if split == "eval":  # a validation iteration: the point belongs to the current step
            return global_step, epoch, split
        if first_it is None:
            first_it = it
        if cur_epoch is not None and epoch != cur_epoch and last_it is not None and it <= last_it:
            offset += last_it - first_it + (stride or 1.0)
        elif last_it is not None and it > last_it and epoch == cur_epoch:
            d = it - last_it
            stride = d if stride is None else min(stride, d)
        cur_epoch, last_it = epoch, it
        global_step = offset + it
        return global_step, epoch, split

    def emit(step_value, data: dict, lineno: int, time: float | None) -> Iterator[Record]:
        if step_value == "PARAMETER":
            ctx.hparams.update({k: v for k, v in data.items() if isinstance(v, (int, float, str, bool))})
            return
        where = locate(step_value)
        if where is None:
            if isinstance(step_value, (list, tuple)) and not step_value:
                for k, v in data.items():
                    fv = to_float(str(v))
                    if fv is not None:
                        ctx.hparams[f"final_{k}"] = fv
            return
        step, epoch, default = where
        # an epoch summary ([epoch]) next to per-iteration records: its train values
        # are epoch means, kept apart from the iteration points at the same step
        summary = isinstance(step_value, (list, tuple)) and len(step_value) == 1 and has_iters
        for key, raw in data.items():
            if _dropped(key):
                continue
            value = to_float(str(raw)) if not isinstance(raw, bool) else None
            if value is None:
                continue
            split, metric = canonical(key, default)
            if summary and split == "train":
                metric = "epoch_" + metric
            yield Record(step, split, metric, value, key, epoch=epoch, time=time, line=lineno, group=lineno)

    for lineno, line in numbered(source, ctx):
        if " : " not in line and "DLLL" not in line:
            continue
        if line.startswith("DLLL") or line.lstrip().startswith("DLLL {"):
            try:
                obj = json.loads(line[line.index("{"):])
            except ValueError:
                ctx.skip(lineno, "unreadable DLLL JSON line")
                continue
            if not isinstance(obj, dict) or obj.get("type", "LOG") != "LOG":
                continue
            data = obj.get("data")
            if not isinstance(data, dict):
                continue
            time = to_float(str(obj.get("elapsedtime"))) if "elapsedtime" in obj else None
            yield from emit(obj.get("step"), data, lineno, time)
            continue
        m = _TEXT.match(line.strip())
        if m is None:
            continue
        pairs = _PAIR.findall(m.group("rest"))
        if not pairs:
            continue
        st = m.group("step").strip()
        if st == "PARAMETER":
            step_value: object = "PARAMETER"
        elif st.startswith("("):
            step_value = [int(x) for x in _INTS.findall(st)]
        else:
            step_value = [int(g) for g in (m.group("e"), m.group("i"), m.group("v")) if g is not None]
            if m.group("v") is not None and m.group("i") is None and m.group("e") is not None:
                step_value = [int(m.group("e")), 0, int(m.group("v"))]
            if not step_value:
                continue
        yield from emit(step_value, dict(pairs), lineno, None)
