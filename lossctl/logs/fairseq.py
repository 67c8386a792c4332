"""fairseq training logs (``--log-format simple``/``tqdm``/``json``, old and hydra versions).

::

    epoch 001:    100 / 1563 loss=9.8, nll_loss=9.1, ppl=551.2, wps=9000, num_updates=100, lr=1.25e-05, gnorm=2.5
    epoch 001:  10%|█         | 100/1000 [00:30<04:30, 3.33it/s, loss=11.469, ppl=2830, num_updates=100]
    epoch 001 | loss 9.5 | nll_loss 8.9 | ppl 478 | wps 9100 | num_updates 1563 | lr 0.0002 | gnorm 1.8
    epoch 001 | valid on 'valid' subset | loss 8.9 | nll_loss 8.1 | ppl 274.4 | num_updates 1563 | best_loss 8.9
    | valid on 'valid' subset | valid_loss 4.28 | valid_ppl 19.4 | num_updates 100
    {"epoch": 1, "update": 0.064, "loss": "9.8", "nll_loss": "9.1", "num_updates": "100", "lr": "1.25e-05"}
    {"epoch": 1, "valid_loss": "8.9", "valid_ppl": "274.4", "valid_num_updates": "1563"}

(with or without the ``| INFO | train_inner |`` prefix of newer versions).

Rules:

- step = ``num_updates`` (``train_``/``valid_num_updates`` in JSON); the epoch is kept.
  A line without num_updates takes the last one seen.
- ``train_inner`` lines (``epoch E: i / N k=v, ...``, tqdm postfixes, JSON with
  ``update``) are the training curve: loss, nll_loss, ppl -> perplexity, lr ->
  learning_rate, gnorm -> grad_norm, loss_scale, and other scores.
- the end-of-epoch ``train`` summary repeats those as epoch means: it gives the
  train curve when there are no inner lines; otherwise its scores are kept with an
  ``epoch_`` prefix (``epoch_loss``) so they never overwrite an inner point, and its
  lr/gnorm/loss_scale (already in the inner lines) are left out.
- ``valid on 'X' subset`` and ``valid_*`` keys -> split eval (test when X contains
  "test"). Throughput, wall-clock, counters and ``best_*`` fields are left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, canonical, hit_score, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "fairseq"
DESCRIPTION = "fairseq 'epoch 001 | loss 4.28 | ... | num_updates 100' and train_inner lines"
EXAMPLE = "epoch 001:    100 / 1563 loss=9.8, nll_loss=9.1, ppl=551.2, num_updates=100, lr=1.25e-05"
KIND = "lines"

_INNER = re.compile(r"\bepoch (\d+):\s+(\d+) / (\d+) (.*)")
_TQDM = re.compile(r"\bepoch (\d+):\s+\d+%\|.*\[[^\[\]]*?,\s*([^\[\]]*=[^\[\]]*)\]\s*$")
_SUMMARY = re.compile(r"(?:^|\|\s*)epoch (\d+) \|(.*)")
_VALID_ONLY = re.compile(r"(?:^|\|\s*)valid on '([^']*)' subset \|(.*)")
_EQ = re.compile(r"(\w+)=(" + NUM + r")(?=[,\s\]]|$)")
_PIPE = re.compile(r"^\s*(\w+) (" + NUM + r")\s*$")
_VALID_IN = re.compile(r"valid on '([^']*)' subset")

_SKIP = {
    "wps", "ups", "wpb", "bsz", "wall", "train_wall", "gb_free", "oom", "clip", "num_updates",
    "epoch", "update", "sample_size", "nsentences", "ntokens", "cuda_gb_allocated",
    "cuda_gb_reserved", "cuda_gb_free", "valid_num_updates", "train_num_updates",
}

# fairseq prints the epoch zero-padded ("epoch 001"): "epoch 3 | loss 0.5" is not fairseq
_DETECT = re.compile(
    r"(?m)(?:^|\|\s*)epoch \d{3,}(?::\s+\d+ / \d+ \w+=| \| (?:loss|valid on))"
    r"|valid on '[^']*' subset|epoch \d{3,}:\s+\d+%\|.*loss="
)


def detect(sample: str) -> float:
    n = len(_DETECT.findall(sample))
    if '"num_updates"' in sample or '_num_updates"' in sample:
        if '"epoch"' in sample and "loss" in sample:
            return 0.96
    return hit_score(n)


def _keep(key: str) -> bool:
    for prefix in ("valid_", "train_", "test_"):
        if key.startswith(prefix) and key != "train_wall":
            key = key[len(prefix):]
            break
    return key not in _SKIP and not key.startswith("best_")


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    last_updates: float | None = None
    has_inner = False

    def emit(pairs, kind: str, epoch: float | None, lineno: int, subset: str = "valid"):
        """kind: inner | summary | valid."""
        nonlocal last_updates, has_inner
        values = {}
        for k, raw in pairs:
            v = to_float(raw) if isinstance(raw, str) else (float(raw) if isinstance(raw, (int, float)) else None)
            if v is not None:
                values[k] = v
        for k in ("num_updates", "train_num_updates", "valid_num_updates"):
            if k in values:
                last_updates = values[k]
                break
        step = last_updates
        if kind == "inner":
            has_inner = True
        default = "train"
        if kind == "valid":
            default = "test" if "test" in subset else "eval"
        out = []
        for k, v in values.items():
            if not _keep(k):
                continue
            split, metric = canonical(k, default)
            if kind == "valid" and split == "train":
                split = default
            if kind == "summary" and has_inner:
                if metric in ("learning_rate", "grad_norm", "loss_scale"):
                    continue  # the inner lines have them at their steps
                metric = "epoch_" + metric
            out.append(Record(step, split, metric, v, k, epoch=epoch, line=lineno, group=lineno))
        return out

    for lineno, line in numbered(source, ctx):
        if "epoch" not in line and "valid" not in line:
            continue
        if "{" in line and "num_updates" in line:
            try:
                obj = json.loads(line[line.index("{"): line.rindex("}") + 1])
            except ValueError:
                ctx.skip(lineno, "unreadable fairseq JSON line")
                continue
            if not isinstance(obj, dict):
                continue
            epoch = to_float(str(obj.get("epoch"))) if "epoch" in obj else None
            keys = list(obj)
            if any(k.startswith("valid_") for k in keys):
                kind = "valid"
            elif any(k.startswith("train_") for k in keys) or "update" not in obj:
                kind = "summary"
                obj = {(k[len("train_"):] if k.startswith("train_") else k): v for k, v in obj.items()}
            else:
                kind = "inner"
            yield from emit(obj.items(), kind, epoch, lineno)
            continue
        m = _INNER.search(line)
        if m is not None and "=" in m.group(4):
            yield from emit(_EQ.findall(m.group(4)), "inner", float(m.group(1)), lineno)
            continue
        if "%|" in line:
            m = _TQDM.search(line)
            if m is not None:
                yield from emit(_EQ.findall(m.group(2)), "inner", float(m.group(1)), lineno)
            continue
        m = _SUMMARY.search(line)
        if m is not None:
            rest = m.group(2)
            v = _VALID_IN.search(rest)
            fields = [p for f in rest.split("|") if (p := _PIPE.match(f))]
            pairs = [(p.group(1), p.group(2)) for p in fields]
            if not pairs:
                continue
            if v is not None:
                yield from emit(pairs, "valid", float(m.group(1)), lineno, v.group(1))
            else:
                yield from emit(pairs, "summary", float(m.group(1)), lineno)
            continue
        m = _VALID_ONLY.search(line)
        if m is not None:
            fields = [p for f in m.group(2).split("|") if (p := _PIPE.match(f))]
            pairs = [(p.group(1), p.group(2)) for p in fields]
            if pairs:
                yield from emit(pairs, "valid", None, lineno, m.group(1))
