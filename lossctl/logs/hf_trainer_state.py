"""Hugging Face ``trainer_state.json``: its ``log_history`` and the run's settings.

Every ``log_history`` entry has its own ``step`` (and ``epoch``). Train entries give
train records (``loss``, ``grad_norm``, ``learning_rate``, ...), ``eval_*`` entries eval
records, ``test_*``/``predict_*`` test records. The last entry
(``train_runtime``, ``train_loss`` = mean over the run, ...) is a run summary
(``df.attrs['summary']``), not a curve point. Hyper-parameters read from the top
level: ``logging_steps``, ``eval_steps``, ``save_steps``, ``train_batch_size``,
``num_train_epochs``, ``max_steps``, ``global_step``, ``best_metric``,
``best_model_checkpoint``, ``best_global_step``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from lossctl.errors import InputError
from lossctl.logs import tidy
from lossctl.logs.base import ParseContext, Record

NAME = "hf-trainer-state"
DESCRIPTION = "Hugging Face trainer_state.json (log_history and training settings)"
EXAMPLE = '{"log_history": [{"epoch": 0.36, "grad_norm": 4.91, "learning_rate": 4.8e-05, "loss": 2.157, "step": 500}], "logging_steps": 500, ...}'
KIND = "document"

HPARAMS = ("logging_steps", "eval_steps", "save_steps", "train_batch_size", "num_train_epochs",
           "max_steps", "global_step", "best_metric", "best_model_checkpoint", "best_global_step")
_SKIP = frozenset(("step", "epoch", "total_flos", "num_input_tokens_seen"))


def detect(sample: str) -> float:
    head = sample.lstrip()[:1]
    if head == "{" and '"log_history"' in sample:
        return 0.98
    return 0.0


def parse(text: str, ctx: ParseContext) -> Iterator[Record]:
    try:
        state = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e.msg})", source=ctx.source, line=e.lineno,
                         hint="is the file complete? trainer_state.json is written at each checkpoint") from None
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise InputError("no 'log_history' list in this JSON file", source=ctx.source, key="log_history")
    for key in HPARAMS:
        if key in state and state[key] is not None:
            ctx.hparams[key] = state[key]
    for i, entry in enumerate(state["log_history"]):
        if not isinstance(entry, dict):
            ctx.skip(None, f"log_history[{i}] is not an object")
            continue
        step = tidy.to_float(entry.get("step"))
        epoch = tidy.to_float(entry.get("epoch"))
        if "train_runtime" in entry or ("train_loss" in entry and "loss" not in entry):
            for k, v in entry.items():
                f = tidy.to_float(v) if not isinstance(v, str) else None
                if f is not None and k not in ("step", "epoch"):
                    tidy.add_summary(ctx, k, f)
            continue
        for k, v in entry.items():
            if k in _SKIP or isinstance(v, (str, bool)) or v is None:
                continue
            f = tidy.to_float(v)
            if f is None:
                continue
            split, metric = tidy.canonical(k)
            yield Record(step=step, split=split, metric=metric, value=f, name=k, epoch=epoch, group=i)
