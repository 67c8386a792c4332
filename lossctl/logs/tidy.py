"""Shared post-processing of parsed records: names, steps, runs, duplicates.

Format modules call :func:`canonical` to name what they read; everything else
happens once, here, on the record stream (lazily, memory bounded):

1. **step numbering** — records with ``step=None`` (formats whose entries carry no
   step) are numbered per entry (``Record.group``): the k-th entry with a train
   record gets step ``k × logging_steps`` (``ctx.hparams['logging_steps']`` when the
   log says it, else 1); an entry with only eval/test records takes the step of the
   last train entry. Two entries are never merged because their (rounded) epoch is
   equal.
2. **run splitting** — per series (split, metric), a step that goes back to (or
   below) the first step of the current run starts a new run; a step that goes
   back less far is a *resume*: the re-logged steps replace the earlier ones (3.).
   A format that knows run boundaries itself (a new "Running training" banner) sets
   ``Record.run`` to its own counter; a change of that counter also starts a run.
   Runs are numbered from 1.
3. **duplicates** — the same (run, split, metric, step) twice: the last value is
   kept, at the position of the first (so a resumed run stays in step order), and the earlier ones are counted in a
   note. The stream keeps a look-back window of records (``window``); a duplicate
   of a record that already left the window cannot be taken back: both are kept
   and that is noted too. ``window=None`` (``parse_log``) is exact.
4. NaN and ±inf values are kept as they are.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from typing import Iterable, Iterator

from lossctl.logs.base import ParseContext, Record

# ------------------------------------------------------------------ naming

_SPLIT_WORDS = {
    "train": "train", "training": "train", "trn": "train", "tr": "train",
    "eval": "eval", "evaluation": "eval", "val": "eval", "valid": "eval",
    "validation": "eval", "dev": "eval", "vali": "eval",
    "test": "test", "testing": "test", "predict": "test", "prediction": "test",
}
_PREFIX_RE = re.compile(
    r"^(train|training|trn|eval|evaluation|val|valid|validation|dev|test|testing|predict|prediction)"
    r"(?:[_/ .:-]+)(.+)$",
    re.I,
)
_SUFFIX_RE = re.compile(
    r"^(.+?)(?:[_/ .:-]+)(train|training|eval|val|valid|validation|dev|test)$", re.I
)
_METRIC_ALIASES = {
    "loss": "loss",
    "total_loss": "loss",
    "lm_loss": "loss",
    "lm loss": "loss",
    "objective": "loss",
    "lr": "learning_rate",
    "learning_rate": "learning_rate",
    "learning rate": "learning_rate",
    "learningrate": "learning_rate",
    "grad_norm": "grad_norm",
    "gradnorm": "grad_norm",
    "grad-norm": "grad_norm",
    "grad norm": "grad_norm",
    "gnorm": "grad_norm",
    "acc": "accuracy",
    "accuracy": "accuracy",
    "ppl": "perplexity",
    "perplexity": "perplexity",
}
_LR_RE = re.compile(r"^(?:lr|learning_rate)[-_/](?:[A-Za-z][\w]*|pg\d+|group\d+|\d+)$")
_cache: dict[tuple[str, str], tuple[str, str]] = {}


def _metric(name: str) -> str:
    low = name.lower()
    m = _METRIC_ALIASES.get(low)
    if m is not None:
        return m
    if _LR_RE.match(name):  # lr-Adam, lr-AdamW, lr_pg0, lr/group0
        return "learning_rate"
    norm = re.sub(r"[\s\-]+", "_", low) if (" " in low or "-" in low) else low
    m = _METRIC_ALIASES.get(norm)
    if m is not None:
        return m
    if norm.endswith("_step") and norm[:-5] in _METRIC_ALIASES:  # Lightning train_loss_step
        return _METRIC_ALIASES[norm[:-5]]
    return norm if norm != low or " " in name else name


def canonical(name: str, default_split: str = "train") -> tuple[str, str]:
    """``(split, metric)`` for a metric name as written in a log.

    ``eval_loss``, ``val_loss``, ``valid_loss``, ``validation loss``, ``val/box_loss`` →
    split ``eval``; ``train/box_loss`` → (train, box_loss); ``test_*``/``predict_*`` →
    test; ``lr``, ``lr-Adam`` → learning_rate; ``total_loss`` → loss; Lightning's
    ``train_loss_step`` → (train, loss) while ``train_loss_epoch`` stays a separate
    series (train, loss_epoch).
    """
    key = (name, default_split)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    raw = name.strip()
    split = default_split
    rest = raw
    m = _PREFIX_RE.match(raw)
    if m is not None:
        split = _SPLIT_WORDS[m.group(1).lower()]
        rest = m.group(2)
    else:
        m = _SUFFIX_RE.match(raw)
        if m is not None and m.group(1).lower() in _METRIC_ALIASES or (
            m is not None and "loss" in m.group(1).lower()
        ):
            split = _SPLIT_WORDS[m.group(2).lower()]
            rest = m.group(1)
    out = (split, _metric(rest))
    if len(_cache) < 10000:
        _cache[key] = out
    return out


_LOSS_PART_RE = re.compile(r"^(?:box|cls|dfl|seg|pose|kobj|obj|giou|l1)_(?:om|oo)$")


def is_loss(metric: str) -> bool:
    """Whether a canonical metric is a loss: ``loss``, ``*loss*`` (``box_loss``,
    ``nll_loss``), or a YOLOv10 loss part (``box_om``, ``cls_oo``)."""
    return "loss" in metric.lower() or bool(_LOSS_PART_RE.match(metric))


# metrics whose best value is the highest (a whole word of the name: "accuracy",
# "hellaswag_accuracy", "acc@1", "metrics/mAP50-95(B)", "bbox/AP50", "rouge_l", "eval_f1"; throughput:
# "samples_per_second", "tokens_per_sec", "mfu")
_HIGHER_RE = re.compile(
    r"(?:^|[^a-z])(?:acc(?:uracy)?|top-?\d+(?:_acc\w*)?|f1|f_?score|f_1|(?:sacre)?bleu|rouge\w*|m?ap(?:\d+(?:-\d+)?)?"
    r"|auc|auroc|roc_auc|pr_auc|precision|recall|m?iou|dice|r2|exact_match|em|meteor|chrf\w*|psnr|ssim|mcc"
    r"|matthews\w*|spearman\w*|pearson\w*|kappa|ndcg\w*|mrr|hit_?rate|win_?rate|reward\w*"
    r"|\w*per_sec(?:ond)?|throughput\w*|tflops|mfu)(?:$|[^a-z])")
_LOWER_RE = re.compile(r"loss|(?:^|[^a-z])(?:err(?:or)?|wer|cer|ter|mse|mae|rmse|perplexity|ppl)(?:$|[^a-z])")


def higher_is_better(metric: str) -> bool:
    """Whether the best value of a canonical metric is its highest (accuracy, f1, bleu,
    rouge, mAP/AP, auc, precision, recall, IoU, ..., throughput); False for losses, errors,
    times and metrics without a direction (learning_rate, grad_norm, runtime)."""
    low = metric.lower()
    return bool(_HIGHER_RE.search(low)) and not _LOWER_RE.search(low)


# names that are coordinates, not metrics
STEP_KEYS = ("step", "global_step", "current_steps", "iteration", "iter", "it", "steps", "trainer/global_step")
EPOCH_KEYS = ("epoch", "epochs")


def to_float(value) -> float | None:
    """A number from a JSON/CSV/text value; None when it is not one. NaN/inf kept."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            low = s.lower()
            if low in ("nan", "-nan", "+nan"):
                return math.nan
            if low in ("inf", "+inf", "infinity", "+infinity"):
                return math.inf
            if low in ("-inf", "-infinity"):
                return -math.inf
            return None
    return None


def add_summary(ctx: ParseContext, key: str, value) -> None:
    """Run-level values that are not curve points (HF's final ``train_loss``, runtime)."""
    summary = ctx.__dict__.setdefault("summary", {})
    summary[key] = value


# ------------------------------------------------------------------ the pipeline


def number_steps(records: Iterable[Record], ctx: ParseContext) -> Iterator[Record]:
    """Give a step to records that have none (see module docstring, 1.)."""
    last_group: object = None
    train_count = 0
    last_train_step: float = 0.0
    pending: list[Record] = []

    def flush() -> Iterator[Record]:
        nonlocal train_count, last_train_step
        if not pending:
            return
        if any(r.split == "train" for r in pending):
            train_count += 1
            ls = ctx.hparams.get("logging_steps")
            mult = float(ls) if isinstance(ls, (int, float)) and ls > 0 else 1.0
            step = train_count * mult
            last_train_step = step
        else:
            step = last_train_step
        for r in pending:
            r.step = step
            yield r
        pending.clear()

    for rec in records:
        if rec.step is not None:
            yield from flush()
            yield rec
            continue
        if pending and (rec.group is None or rec.group != last_group):
            yield from flush()
        last_group = rec.group
        pending.append(rec)
    yield from flush()


def split_runs(records: Iterable[Record]) -> Iterator[Record]:
    """Assign ``run`` (from 1) by watching for step counters that restart."""
    run = 1
    hint = None
    first: dict[tuple[str, str], float] = {}
    last: dict[tuple[str, str], float] = {}
    for rec in records:
        if rec.run is not None:
            if hint is not None and rec.run != hint:
                run += 1
                first.clear()
                last.clear()
            hint = rec.run
        step = rec.step
        if step is not None and step == step:
            key = (rec.split, rec.metric)
            prev = last.get(key)
            if prev is not None and step < prev and step <= first[key]:
                run += 1
                first.clear()
                last.clear()
            if key not in first:
                first[key] = step
            last[key] = step
        rec.run = run
        yield rec


def duplicates_note(n: int) -> str:
    return (f"{n} duplicated record(s) (same run, step, split and metric logged again, e.g. a resumed "
            "run): kept the last of each")


class Deduper:
    """Keep the last of records with the same (run, split, metric, step)."""

    def __init__(self, ctx: ParseContext, window: int | None) -> None:
        self.ctx = ctx
        self.window = window
        self.buffer: OrderedDict = OrderedDict()
        self.duplicates = 0
        self.late = 0
        self.emitted_max: dict[tuple, float] = {}

    def feed(self, records: Iterable[Record]) -> Iterator[Record]:
        buf = self.buffer
        window = self.window
        for rec in records:
            key = (rec.run, rec.split, rec.metric, rec.step)
            if rec.step is None or rec.step != rec.step:
                key = (rec.run, rec.split, rec.metric, rec.step, id(rec))
            old = buf.get(key)
            if old is not None:
                # keep the last value at the place of the first: a resumed run
                # re-logs steps it had logged; the curve stays in step order
                self.duplicates += 1
                buf[key] = rec
                continue
            elif window is not None and rec.step is not None:
                s = (rec.run, rec.split, rec.metric)
                mx = self.emitted_max.get(s)
                if mx is not None and rec.step <= mx:
                    self.late += 1
            buf[key] = rec
            if window is not None and len(buf) > window:
                _, out = buf.popitem(last=False)
                s = (out.run, out.split, out.metric)
                if out.step is not None:
                    mx = self.emitted_max.get(s)
                    if mx is None or out.step > mx:
                        self.emitted_max[s] = out.step
                yield out
        while buf:
            yield buf.popitem(last=False)[1]
        self.finish()

    def finish(self) -> None:
        if self.duplicates:
            self.ctx.note(duplicates_note(self.duplicates))
        if self.late:
            self.ctx.__dict__["late_duplicates"] = self.late
            self.ctx.note(
                f"{self.late} record(s) repeat a step written more than {self.window} records "
                "earlier; both were kept in this streamed output (parse_log() de-duplicates exactly)"
            )


def fill_lines(records: Iterable[Record], ctx: ParseContext) -> Iterator[Record]:
    for rec in records:
        if rec.line is None:
            rec.line = getattr(ctx, "lineno", None) or None
        yield rec


def postprocess(
    records: Iterable[Record],
    ctx: ParseContext,
    *,
    run: int | None = None,
    window: int | None = 50_000,
) -> Iterator[Record]:
    """The whole pipeline: lines → step numbering → runs → de-duplication → run filter."""
    stream = split_runs(number_steps(fill_lines(records, ctx), ctx))
    stream = Deduper(ctx, window).feed(stream)
    if run is not None:
        stream = (r for r in stream if r.run == run)
    return stream


def step_value(step: float | None):
    """Steps print as integers when they are whole numbers."""
    if step is None:
        return None
    if step == step and step != math.inf and step == int(step):
        return int(step)
    return step
