"""Plain-text training logs: the generic fallback for hand-written ``print``/``logging`` lines.

::

    Epoch 1: Loss = 2.5
    Epoch [1/50], Train Loss: 1.9463, Train Acc: 20.34%, Val Loss: 1.9097, Val Acc: 17.37%
    Epoch 0 |   Train Loss: 11.2338 | Token Acc: 0.0490 |   Val Loss: 10.9681 | Token Acc: 0.0660
    epoch 3 | loss 0.5
    Step 100/1000 - loss: 2.3
    训练次数：100, Loss：1.98
    Training Epoch: 1, Loss: 0.2149.
    Validating Epoch: 1, accuracy: 0.9444, Pk: 0.3352
    100 2.345                      (bare "<step> <loss>" pairs, 3 or more in a row)

Rules:

- A line is read when it has a ``label: value`` / ``label = value`` / ``label value``
  pair whose label names a loss or an accuracy (``loss``, ``acc``, ``ppl``, 损失,
  准确率, ...). Then every pair of the line is kept except timing/throughput/config
  ones (time, eta, speed, memory, ``loss_scale``, ``loss_weight``, ...). Lines that
  are dicts, JSON, ``Namespace(...)`` or ``name ...... value`` argument dumps are not
  read (other formats own them). Full-width colons and commas work.
- Split: a split word in the label (``Train Loss``, ``Val Acc``, 验证损失) sets it and
  it carries on to the next labels of the line (``Val Loss: .. | Token Acc: ..`` is an
  eval accuracy); otherwise a split word before the first pair (``Validating Epoch:``,
  ``Testing ...``) gives the line's split; else train.
- ``Epoch N`` / ``Epoch [N/M]`` / 第N轮 is the epoch; ``step``/``iter``/``iteration``/
  ``batch`` N (also 训练次数/步数/迭代) is the step. A step that starts again when the
  epoch changes (``Epoch [2/5], Step [100/600]``) counts within the epoch: it is made
  global by adding, at each such restart, the step total (``/600``) or else the last
  step + the logging stride.
- Step when a line has only an epoch: if each epoch has one train loss line, step =
  epoch; if an epoch has several (``Epoch 1 - Batch loss: ..`` per batch), step = the
  count of train loss lines so far, restarted when the epoch number goes back. In
  that case an epoch-level train loss (``Average Train Loss``, ``Epoch loss``) is
  kept as metric ``epoch_loss`` at the step of the batch line before it; otherwise it
  is the loss. Once the log has printed a step, lines with only an epoch and eval/test
  lines with no anchor take the last printed step (train values of such epoch lines
  are epoch summaries: ``epoch_loss``, ...). Other lines with neither keep
  step None (numbered by post-processing).
- ``%`` after a value is dropped, the number kept as printed (``20.34%`` -> 20.34);
  a trailing ``.`` ends a sentence, not a number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

from lossctl.logs._textutil import NUM, SPLIT_WORDS, canonical, numbered, to_float
from lossctl.logs.base import ParseContext, Record

NAME = "plaintext"
DESCRIPTION = "generic text lines: 'Epoch [1/50], Train Loss: 1.94, Val Loss: 1.90', 'step 100 loss 2.3'"
EXAMPLE = "Epoch [1/50], Train Loss: 1.9463, Train Acc: 20.34%, Val Loss: 1.9097, Val Acc: 17.37%"
KIND = "lines"

_CONFIG = re.compile(r"""\{\s*['"]|=\s*dict\(|Namespace\(|\.{4,}|^\s*[-\w]+\s*=\s*\[""")

_EPOCH = re.compile(
    r"(?:\b(?:epoch|Epoch|EPOCH|ep|Ep|EP)\b\s*[:=：]?\s*\[?\s*(\d+)(?:\s*/\s*(\d+))?(?:\s*\])?"
    r"|第\s*(\d+)\s*(?:轮|个?\s*epoch|次迭代)|轮次?\s*[:：]\s*(\d+))"
)
_STEP = re.compile(
    r"(?:(?<!/)\b(?:global[_ ]step|steps|Steps|step|Step|STEP|iteration|Iteration|iter|Iter|batch|Batch|it)\b"
    r"\s*[:=：#]?\s*\[?\s*(\d+)(?:\s*/\s*(\d+))?(?:\s*\])?"
    r"|(?:训练次数|步数|迭代次数|迭代|步)\s*[:=：]?\s*(\d+))"
)
# pieces of a line: separators, 2+ spaces (not before a number: "loss  7.64" is one
# pair), a number followed by a word, two numbers in a row ("loss 8.73 11136 ms/iter"), and a
# closing bracket followed by a word ("Train Epoch: 1 [0/60000 (0%)] Loss: 2.46")
_SEG_SPLIT = re.compile(
    r"\s*(?:[,;|\t，；]|\]\s*\[|\s-\s|\s{2,}(?!\s*[-+]?\d)|(?<=\d)\s+(?=[A-Za-z\u4e00-\u9fff])"
    r"|(?<=\d)\s+(?=[-+]?\d)|(?<=[\])])\s+(?=[A-Za-z\u4e00-\u9fff]))\s*"
)
_PAIR = re.compile(
    r"^(?P<label>[A-Za-z\u4e00-\u9fff][\w@/\-. \u4e00-\u9fff]*?)\s*(?:[:=：]\s*|\s+)"
    r"(?P<val>" + NUM + r")(?P<pct>%)?(?:\.(?!\d))?(?:\s*[A-Za-z%/]*)?(?:\s*\([^()]*\))?\s*\.?$"
)
_BARE = re.compile(r"^\s*(\d+)[\s,;:\t]+(" + NUM + r")\s*$")
_LEAD_SPLIT = re.compile(
    r"\b(train(?:ing)?|val(?:id(?:ation)?)?|validating|eval(?:uation|uating)?|dev|test(?:ing)?)\b"
    r"|(训练|验证|测试)",
    re.I,
)
# a line that starts a new training process in the same file
_BANNER = re.compile(
    r"(?i)\b(?:running with config|start(?:ing)? training|training start(?:s|ed)?|"
    r"begin(?:ning)? training|resum(?:e|ing) training)\b|开始训练"
)
_CORE = re.compile(r"loss|acc|ppl|perplexity|损失|准确|精度", re.I)
_DROP_WORDS = {
    "time", "eta", "elapsed", "speed", "memory", "mem", "data", "throughput", "samples",
    "tokens", "dt", "tok/sec", "it/s", "s/it", "seed", "workers", "gpu", "bs",
    "batch_size", "batchsize", "duration", "secs", "seconds", "sec", "ms", "iters", "eta_s",
    "id", "idx", "index",
}
_DROP_PARTS = ("scale", "weight", "type", "_fn", "function", "coef", "ratio_", "size", "time")
# timing rates: "ms/batch 12.12", "s/it", "img/s"
_RATE = re.compile(r"^(?:ms|s|sec|secs|it|img|imgs|samples|tokens|tok)/|/(?:s|sec|second|it|iter)$")
# a tqdm progress bar: "Epoch 1/50 [FT]: 100%|██████████| 157/157 [13:51<00:00, 5.30s/it, loss=0.919]"
_BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+\s*\[")
_BAR_HOLD = 2000
# an epoch header (a line with no metric that starts with its epoch): "Epoch 1/50",
# "#### Epoch 0/99", "Epoch 1 of 20", "Epoch [1/100] - Time: 0.93s", "Epoch: 01 | Epoch Time: 0m 53s",
# "Training Epoch: 1/4" (a "Validation Epoch" header is not taken: its lines would read as train)
_EPOCH_HEADER = re.compile(r"^[\W_]*(?:(?:Training|Train|TRAINING|TRAIN)\s+)?(?:epoch|Epoch|EPOCH)\s*[:\[]?\s*(\d+)(?:\s*(?:/|of)\s*\d+)?\s*\]?(?:[^\w.]|$)")
# a pair that reports a record, not a point: "New best model saved with loss 1.16",
# "Saving model at Epoch 1 with Validation Accuracy: 33.73%"
_NOT_A_POINT = {"best", "saved", "saving", "lowest", "improved", "improve", "decreased", "increased",
                "previous", "prev", "with"}
_AGGREGATE = {"avg", "average", "mean", "epoch", "total", "overall", "running"}
_BATCHY = {"batch", "step", "iter", "current", "minibatch"}
_ZH = {"损失": "loss", "准确率": "accuracy", "正确率": "accuracy", "准确度": "accuracy",
       "精度": "accuracy", "学习率": "learning_rate"}
_ZH_SPLIT = {"训练": "train", "验证": "eval", "测试": "test"}


_D_LABELLED = re.compile(
    r"(?i)(?:^|[\s,|\-\[(])(?:train(?:ing)?\s*|val(?:id(?:ation)?)?\s*|test\s*|batch\s*|avg\s*|average\s*)?"
    r"loss[ \t]*[:=：]?[ \t]*" + NUM + r"|损失[ \t]*[:：=][ \t]*" + NUM
)


def detect(sample: str) -> float:
    labelled = len(_D_LABELLED.findall(sample))
    if labelled >= 3:
        return 0.45
    if labelled:
        return 0.3
    lines = [ln for ln in sample.splitlines() if ln.strip()]
    if len(lines) >= 5:
        bare = sum(1 for ln in lines if _BARE.match(ln))
        if bare >= 0.8 * len(lines):
            return 0.4
    return 0.0


def _label_meaning(label: str) -> tuple[str | None, str | None, bool, bool]:
    """(split or None, metric or None when not kept, aggregate?, core?) of a pair label."""
    raw = " ".join(label.split())
    split = None
    for zh, sp in _ZH_SPLIT.items():
        if raw.startswith(zh):
            split, raw = sp, raw[len(zh):].strip()
            break
    if raw in _ZH:
        return split, _ZH[raw], False, raw != "学习率"
    words = [w.strip(".") for w in re.split(r"[\s_]+", raw.lower())]  # "Val. Loss"
    kept = []
    aggregate = False
    if _NOT_A_POINT.intersection(words):
        return split, None, False, False
    for w in words:
        if not any(c.isalnum() for c in w):
            continue  # "VALIDATION -- Loss"
        if w in SPLIT_WORDS and split is None:
            split = SPLIT_WORDS[w]
        elif w in _AGGREGATE:
            aggregate = True
        elif w in _BATCHY:
            continue
        else:
            kept.append(w)
    if not kept:
        return split, None, aggregate, False
    name = "_".join(kept)
    if name in _DROP_WORDS or any(p in name for p in _DROP_PARTS) or _RATE.search(name):
        return split, None, aggregate, False
    metric = canonical(name, "train")[1]
    core = _CORE.search(name) is not None
    return split, metric, aggregate, core


# numbers as the template cache sees them: not inside a word ("F1", "Acc@1", "BLEU-1")
_TNUM = re.compile(
    r"(?<![\w@.\-])([-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
    r"|[-+]?(?:nan|NaN|NAN|inf|Inf|INF|Infinity|infinity)(?!\w))"
)
_MARK = 1_000_000  # the k-th number of a line is analysed as the integer _MARK + k
_CACHE_MAX = 4096
_HOLD_MAX = 10_000  # records held while deciding between one-line-per-epoch and batches

# (epoch index, step index, step total index, line pairs): indices into the line's numbers
Analysis = tuple  # (int | None, int | None, list[tuple[str, str, str, bool, bool, int]])


def _analyze(marked: str) -> Analysis | None:
    """What a line means, computed on the line with its k-th number replaced by
    ``_MARK + k``: (epoch index, step index, index of the step's "/total", [(label,
    split, metric, fine, aggregate, value index)]), or None when the line holds no
    loss/accuracy pair."""
    epoch_i = step_i = total_i = None
    rest = marked
    em = _EPOCH.search(rest)
    if em is not None:
        g = next(g for g in (em.group(1), em.group(3), em.group(4)) if g is not None)
        epoch_i = int(g) - _MARK
        rest = rest[: em.start()] + " , " + rest[em.end():]
    sm = _STEP.search(rest)
    if sm is not None:
        step_i = int(sm.group(1) if sm.group(1) is not None else sm.group(3)) - _MARK
        if sm.group(2) is not None:
            total_i = int(sm.group(2)) - _MARK
        rest = rest[: sm.start()] + " , " + rest[sm.end():]
    pairs = []
    first_pair_at = None
    pos = 0
    for seg in _SEG_SPLIT.split(rest):
        seg = seg.strip(" -:：[].")  # ". Loss: 0.72" after "Epoch 0"
        idx = rest.find(seg, pos) if seg else -1
        if idx >= 0:
            pos = idx + len(seg)
        pm = _PAIR.match(seg) if seg else None
        cut = seg.find(": ") if pm is None and seg else -1
        while pm is None and cut >= 0:
            # a heading before the pair: "Test set: Average loss: 0.0496"
            sub = seg[cut + 2:].lstrip()
            pm = _PAIR.match(sub)
            if pm is not None:
                idx += len(seg) - len(sub)
            cut = seg.find(": ", cut + 2)
        if pm is None:
            continue
        value = to_float(pm.group("val"))
        if value is None or not math.isfinite(value) or value < _MARK or value != int(value):
            continue  # not one of the marked numbers
        value_i = int(value) - _MARK
        meaning = _label_meaning(pm.group("label"))
        if meaning[1] is None:
            continue
        if first_pair_at is None:
            first_pair_at = idx
        pairs.append((pm.group("label").strip(), value_i, meaning))
    if not any(m[3] for _, _, m in pairs):
        return None
    line_split = None
    lm = _LEAD_SPLIT.search(rest[: first_pair_at or 0])
    if lm is not None:
        word = (lm.group(1) or "").lower()
        line_split = _ZH_SPLIT.get(lm.group(2) or "") or SPLIT_WORDS.get(word)
        if word.startswith("valid"):
            line_split = "eval"
    cur = line_split or "train"
    out = []
    for label, value_i, (split, metric, aggregate, _core) in pairs:
        if split is not None:
            cur = split
        fine = cur == "train" and metric == "loss" and not aggregate
        out.append((label, cur, metric, fine, aggregate, value_i))
    # two pairs of one line that mean the same series ("loss: 5.55 lm loss: 5.51"): the
    # one labelled exactly as its metric keeps it, the other keeps its own name
    keys = [(o[1], o[2]) for o in out]
    for n, o in enumerate(out):
        if keys.count(keys[n]) > 1 and o[0].strip().lower() != o[2]:
            same = [m for m in range(len(out)) if keys[m] == keys[n]]
            if any(out[m][0].strip().lower() == o[2] for m in same):
                own = re.sub(r"\W+", "_", o[0].strip().lower()).strip("_")
                out[n] = (o[0], o[1], own, False, o[4], o[5])
    return (epoch_i, step_i, total_i, out)


def _analysis_of(line: str, cache: dict) -> tuple[Analysis | None, list[str]]:
    """The (cached) analysis of a line and its number tokens."""
    pieces = _TNUM.split(line)  # text, number, text, number, ..., text
    tokens = pieces[1::2]
    texts = pieces[0::2]
    template = "\x00".join(texts)
    analysis = cache.get(template, False)
    if analysis is False:
        marked = texts[0] + "".join(str(_MARK + k) + part for k, part in enumerate(texts[1:]))
        analysis = _analyze(marked)
        if len(cache) < _CACHE_MAX:
            cache[template] = analysis
    return analysis, tokens


def _without_bars(lines: Iterable[tuple[int, str]], cache: dict) -> Iterator[tuple[int, str]]:
    """The lines, less the progress bars when the log prints its train loss elsewhere.

    A tqdm bar's postfix (``157/157 [13:51<00:00, 5.30s/it, loss=0.919]``) is a running
    value shown while the epoch runs; a log that also prints ``Train Loss: 0.9780`` per
    epoch has its points there. Bars are held (with the lines after them, to keep the
    order) until a line with a train loss that is not a bar decides: then bars are
    dropped; at the end of the log or after ``_BAR_HOLD`` held lines, they are kept
    (the only loss the log prints)."""
    decided: str | None = None
    held: list[tuple[int, str, bool]] = []
    for lineno, line in lines:
        bar = "%|" in line and _BAR.search(line) is not None and _is_candidate(line)
        if decided == "keep" or (decided == "drop" and not bar):
            yield lineno, line
            continue
        if decided is None and not bar and _is_candidate(line):
            analysis = _analysis_of(line, cache)[0]
            if analysis is not None and any(p[3] for p in analysis[3]):
                decided = "drop"
                yield from ((n, t) for n, t, b in held if not b)
                held.clear()
        if decided == "drop" and bar:
            continue
        if decided is None and (bar or held):
            held.append((lineno, line, bar))
            if len(held) > _BAR_HOLD:
                decided = "keep"
                yield from ((n, t) for n, t, _ in held)
                held.clear()
            continue
        yield lineno, line
    yield from ((n, t) for n, t, _ in held)


def _is_candidate(line: str) -> bool:
    low = line.lower()
    return ("loss" in low or "acc" in low or "ppl" in low or "perplexity" in low
            or "损失" in line or "准确" in line or "精度" in line)


def parse(source: Iterable, ctx: ParseContext) -> Iterator[Record]:
    mode: str | None = None  # epoch-only lines: None (undecided) | "epoch" | "batch"
    held: list[tuple[Record, float, bool, bool, bool]] = []  # undecided: (record, epoch, fine, aggregate, line fine)
    first: tuple[int, float] | None = None  # (banner count, epoch) of the first train loss
    banners = 0
    counter = 0.0
    last_epoch: float | None = None
    last_run: int | None = None
    has_fine = False
    bare: list[Record] = []
    bare_on = False
    cache: dict[str, Analysis | None] = {}
    last_step: float | None = None  # the last step anchor seen
    w_epoch: float | None = None  # within-epoch steps: last epoch, last raw step,
    w_last: float | None = None  # offset added, logging stride
    w_offset = 0.0
    w_stride: float | None = None

    counted: int | None = None  # the line whose train loss was last counted

    def place(rec: Record, epoch: float, fine: bool, aggregate: bool, line_fine: bool = False) -> Record:
        nonlocal counter, last_epoch, has_fine, last_run, counted
        if mode == "epoch":
            rec.step = epoch
        else:
            if (last_epoch is not None and epoch < last_epoch) or rec.run != last_run:
                counter = 0.0
            if (fine or line_fine) and rec.group != counted:
                # the line's batch loss counts once, for every value of the line (an
                # 'lr' printed before the loss is at the same step as the loss)
                counter += 1
                counted = rec.group
            if fine:
                has_fine = True
            if aggregate and rec.split == "train" and rec.metric == "loss" and has_fine:
                rec.metric = "epoch_loss"
            rec.step = counter
        last_epoch = epoch
        last_run = rec.run
        return rec

    def release() -> Iterator[Record]:
        for rec, epoch, fine, aggregate, line_fine in held:
            yield place(rec, epoch, fine, aggregate, line_fine)
        held.clear()

    header_epoch: float | None = None  # "Epoch 1/50" alone on a line, for the lines after it
    for lineno, line in _without_bars(numbered(source, ctx), cache):
        if not _is_candidate(line):
            h = _EPOCH_HEADER.match(line) if "poch" in line or "POCH" in line else None
            if h is not None:
                header_epoch = float(h.group(1))
                continue
            if ("rain" in line or "RAIN" in line or "onfig" in line or "训练" in line) and _BANNER.search(line):
                banners += 1
                continue
            c0 = line[:1]
            b = _BARE.match(line) if (c0.isdigit() or c0 == " ") and len(line) < 64 else None
            if b is not None:
                rec = Record(float(b.group(1)), "train", "loss", to_float(b.group(2)), "loss",
                             line=lineno, group=lineno)
                if bare_on:
                    yield rec
                else:
                    bare.append(rec)
                    if len(bare) >= 3:
                        bare_on = True
                        yield from bare
                        bare.clear()
            elif bare and line.strip():
                bare.clear()
                bare_on = False
            elif bare_on and line.strip():
                bare_on = False
            continue
        if ("{" in line or "...." in line or "(" in line or "[" in line) and _CONFIG.search(line):
            continue
        analysis, tokens = _analysis_of(line, cache)
        if analysis is None:
            continue
        epoch_i, step_i, total_i, pairs = analysis
        epoch = to_float(tokens[epoch_i]) if epoch_i is not None else None
        step = to_float(tokens[step_i]) if step_i is not None else None
        if epoch is None and step is None:
            epoch = header_epoch
        if step is not None and epoch is not None:
            # "Epoch [2/5], Step [100/600]": a step that starts again when the epoch
            # changes counts within the epoch; make it global
            if w_epoch is not None and epoch < w_epoch:
                w_offset, w_stride = 0.0, None  # a new run
            elif w_epoch is not None and epoch > w_epoch and w_last is not None and step <= w_last:
                total = to_float(tokens[total_i]) if total_i is not None else None
                w_offset += total if total else w_last + (w_stride or 1.0)
            elif w_last is not None and epoch == w_epoch and step > w_last:
                w_stride = min(w_stride or step - w_last, step - w_last)
            w_epoch, w_last = epoch, step
            step += w_offset
        run = banners or None
        recs: list[tuple[Record, bool, bool]] = []
        for label, split, metric, fine, aggregate, value_i in pairs:
            value = to_float(tokens[value_i])
            if value is None:
                continue
            recs.append((Record(step, split, metric, value, label, epoch=epoch, line=lineno,
                                group=lineno, run=run), fine, aggregate))
        if step is not None:
            last_step = step
            yield from (r for r, _, _ in recs)
            continue
        if last_step is not None:
            # the log counts steps: an evaluation line without its own step (or with
            # only an epoch) belongs to the last step printed
            for r, _, _ in recs:
                if epoch is not None or r.split != "train":
                    r.step = last_step
                    if r.split == "train":
                        # an epoch summary next to per-step train points
                        r.metric = "epoch_" + r.metric
                yield r
            continue
        if epoch is None:
            if mode is not None and last_epoch is not None:
                # an eval/test summary after epoch lines ("| End of training | test loss
                # 5.13"): at the last step of those lines, not numbered apart
                for r, _, _ in recs:
                    if r.split != "train":
                        r.step = last_epoch if mode == "epoch" else counter
            yield from (r for r, _, _ in recs)
            continue
        # epoch-only line
        if mode is None:
            if any(f for _, f, _ in recs):
                if first is None:
                    first = (banners, epoch)
                elif first == (banners, epoch):
                    mode = "batch"
                else:
                    mode = "epoch"
            if mode is None and len(held) < _HOLD_MAX:
                line_fine = any(f for _, f, _ in recs)
                held.extend((r, epoch, f, agg, line_fine) for r, f, agg in recs)
                continue
            if mode is None:  # no second train loss line for a long time: one per epoch
                mode = "epoch"
            yield from release()
        line_fine = any(f for _, f, _ in recs)
        for r, f, agg in recs:
            yield place(r, epoch, f, agg, line_fine)
    if mode is None:
        mode = "epoch"
    yield from release()
