"""Hugging Face Trainer console output.

What is read:

- the metric dicts the Trainer prints (``{'loss': 2.157, 'grad_norm': 4.91,
  'learning_rate': 4.8e-05, 'epoch': 0.36}``, ``{'eval_loss': ..., 'epoch': ...}``),
  also when glued to the end of a tqdm bar or after a logging prefix. They are read
  by a small scanner for Python literals — never ``eval``/``literal_eval``. A scalar
  wrapper around one number literal (``tensor(2.1, device='cuda:0')``,
  ``np.float64(0.91)``) gives that literal, read as text; a dict that contains any
  other call (as a value or as a key) is skipped and counted (nothing in a log is ever run).
  A string where a metric's number belongs (``{'loss': 'abc', 'epoch': 0.1}``) is
  counted as a skipped line that names the key; the dict's other numbers are read.
  ``None``, ``True``/``False``, nested lists/dicts and strings under keys that are not
  metric names (``'model': 'bert'``) are legitimate non-numbers: not read, not counted.
  Dicts that are not metric dicts (``fsdp_config={...}``, label maps) are ignored:
  a metric dict has a key such as ``loss``, ``epoch``, ``learning_rate`` or an
  ``eval_``/``train_``/``test_`` prefix, and is not the value of an assignment;
- the final ``{'train_runtime': ..., 'train_loss': ...}`` dict: ``train_loss`` there is
  the mean over the whole run, not a point of the curve, so it goes to the run
  summary (``df.attrs['summary']``) with the other ``train_*`` figures, not to the
  records;
- ``***** eval metrics *****`` / ``***** test metrics *****`` /
  ``***** predict metrics *****`` blocks (``  eval_loss = 0.3083``): eval/test records
  at the last step of the run; a value that only repeats (rounded) what an eval dict
  already gave at that step is not recorded twice. ``***** train metrics *****``
  blocks go to the summary;
- hyper-parameters from ``TrainingArguments(...)`` dumps and the "Running training"
  banner: ``logging_steps``, ``max_steps``, ``num_train_epochs``,
  ``train_batch_size`` (``Total train batch size``), ``eval_steps``.

Steps: the dicts carry none. The k-th train dict of a run is step
``k × logging_steps`` when ``logging_steps`` was read from the log (with
``logging_first_step=True``: 1, then ``(k-1) × logging_steps``), else ``k``; an
eval dict takes the step of the last train dict. A new "***** Running training *****"
banner followed by train dicts starts a new run, unless the Trainer says it is
"Continuing training from global step N" (a resume: numbering continues from N).
Dicts are never merged because their rounded ``epoch`` is equal. The fp16 signature
(``loss 0.0`` with ``grad_norm nan``) is kept as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

from lossctl.logs import tidy
from lossctl.logs.base import ParseContext, Record

NAME = "hf-console"
DESCRIPTION = "Hugging Face Trainer console output (metric dicts, '***** eval metrics *****' blocks)"
EXAMPLE = "{'loss': 2.157, 'grad_norm': 4.91, 'learning_rate': 4.8e-05, 'epoch': 0.36}"
KIND = "lines"

# ------------------------------------------------------------------ the dict scanner

_NUM_RE = re.compile(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)")
_IDENT_RE = re.compile(r"[A-Za-z_][\w.]*")
_CALL_KEY_RE = re.compile(r"\{\s*[A-Za-z_][\w.]*\s*\(")  # a dict whose first key is a call
_SIMPLE_PAIR_RE = re.compile(r"'([^'\\]*)':\s*([^,]*?)\s*(?:,\s*|$)")
# scalar wrappers whose single number literal is read (as text, never evaluated)
NUMBER_WRAPPERS = frozenset(("tensor", "torch.tensor", "np.float64", "np.float32", "np.float16",
                             "numpy.float64", "numpy.float32", "np.int64", "np.int32"))
_WRAPPED_RE = re.compile(
    r"(?:tensor|torch\.tensor|np\.float64|np\.float32|np\.float16|numpy\.float64|numpy\.float32|np\.int64|np\.int32)"
    r"\(\s*(-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf))"
    r"(?:\s*,\s*(?:device|dtype|requires_grad|grad_fn)\s*=\s*(?:'[^'\n]*'|<[^>\n]*>|[\w.]+))*\s*\)")
_SPECIAL = {"nan": math.nan, "NaN": math.nan, "inf": math.inf, "Infinity": math.inf,
            "-inf": -math.inf, "-Infinity": -math.inf, "-nan": math.nan}
CALL = object()  # marker: the dict contains a call


def _skip_string(s: str, i: int) -> int:
    """``s[i]`` is a quote: index after the closing quote, or -1."""
    q = s[i]
    i += 1
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == q:
            return i + 1
        i += 1
    return -1


def _skip_nested(s: str, i: int) -> tuple[int, bool]:
    """``s[i]`` opens a bracket: (index after the matching close or -1, contains a call)."""
    depth = 0
    n = len(s)
    call = False
    prev_ident = False
    while i < n:
        c = s[i]
        if c in "'\"":
            i = _skip_string(s, i)
            if i < 0:
                return -1, call
            prev_ident = False
            continue
        if c in "([{":
            if c == "(" and prev_ident:
                call = True
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1, call
        prev_ident = c.isalnum() or c == "_" or c == "."
        i += 1
    return -1, call


def _call_key(s: str, i: int) -> bool:
    """Is ``s[i:]`` a key that is a call (``__import__('os').getcwd(): 1.0``), up to its ':'?"""
    n = len(s)
    j = i
    call = False
    while j < n:
        c = s[j]
        if c in "'\"":
            j = _skip_string(s, j)
            if j < 0:
                return False
            continue
        if c in "([{":
            if c == "(" and j > i and (s[j - 1].isalnum() or s[j - 1] in "_.)]"):
                call = True
            j, inner = _skip_nested(s, j)
            if j < 0:
                return False
            call = call or inner
            continue
        if c == ":":
            return call
        if c in ",}":
            return False
        j += 1
    return False


def scan_dict(s: str, i: int) -> tuple[list[tuple[str, object]] | object | None, int]:
    """Read the Python-literal dict that starts at ``s[i] == '{'``.

    Returns ``(pairs, end)``: ``pairs`` is a list of (key, value) where value is a
    float, a str, True/False/None, or None for nested containers; ``CALL`` when the
    dict contains a call; ``None`` when it is not a complete dict literal.
    """
    n = len(s)
    i += 1
    pairs: list[tuple[str, object]] = []
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return None, i
        if s[i] == "}":
            return pairs, i + 1
        if s[i] not in "'\"":
            return (CALL, i) if _call_key(s, i) else (None, i)
        j = _skip_string(s, i)
        if j < 0:
            return None, i
        key = s[i + 1: j - 1]
        i = j
        while i < n and s[i] in " \t":
            i += 1
        if i >= n or s[i] != ":":
            return None, i
        i += 1
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return None, i
        c = s[i]
        value: object
        if c in "'\"":
            j = _skip_string(s, i)
            if j < 0:
                return None, i
            value = s[i + 1: j - 1]
            i = j
        elif c in "[({":
            j, call = _skip_nested(s, i)
            if j < 0:
                return None, i
            if call:
                return CALL, j
            value = None
            i = j
        else:
            m = _NUM_RE.match(s, i)
            if m is not None and not (m.end() < n and (s[m.end()].isalpha() or s[m.end()] == "_")
                                      and s[m.end()] not in "eE"):
                value = float(m.group())
                i = m.end()
            else:
                neg = c == "-"
                m = _IDENT_RE.match(s, i + 1 if neg else i)
                if m is None:
                    return None, i
                word = m.group()
                j = m.end()
                if j < n and s[j] == "(":
                    # a scalar wrapper around one number literal: tensor(2.1, device='cuda:0'),
                    # np.float64(0.91). The literal is read as text; nothing is evaluated.
                    w = _WRAPPED_RE.match(s, i) if word in NUMBER_WRAPPERS and not neg else None
                    if w is None:
                        return CALL, j
                    value = float(w.group(1)) if w.group(1) not in _SPECIAL else _SPECIAL[w.group(1)]
                    i = w.end()
                    pairs.append((key, value))
                    while i < n and s[i] in " \t":
                        i += 1
                    if i < n and s[i] == ",":
                        i += 1
                        continue
                    if i < n and s[i] == "}":
                        return pairs, i + 1
                    return None, i
                if word in ("nan", "NaN", "inf", "Infinity"):
                    value = -_SPECIAL[word] if neg else _SPECIAL[word]
                elif word in ("True", "False", "None") and not neg:
                    value = {"True": True, "False": False, "None": None}[word]
                else:
                    return None, i
                i = j
        pairs.append((key, value))
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == ",":
            i += 1
            continue
        if i < n and s[i] == "}":
            return pairs, i + 1
        return None, i


def _value(tok: str):
    try:
        return float(tok)
    except ValueError:
        v = _SPECIAL.get(tok)
        if v is not None:
            return v
        return tok  # not a number (True/None/strings): ignored later


def dict_pairs(line: str, start: int):
    """Fast path for the usual flat dict of numbers; falls back to :func:`scan_dict`."""
    end = line.find("}", start)
    if end > 0:
        inner = line[start + 1: end]
        if not any(ch in inner for ch in "{[(\"\\"):
            pairs = _SIMPLE_PAIR_RE.findall(inner)
            # every comma-separated item must have been read as one pair
            if pairs and len(pairs) == inner.count(",") + 1 - inner.rstrip().endswith(","):
                return [(k, _value(v)) for k, v in pairs], end + 1
    return scan_dict(line, start)


# a metric dict has one of these keys (a config dict such as {'loss_scale': 1024} has not)
_METRIC_KEY_RE = re.compile(r"^loss$|_loss$|^epoch$|^learning_rate$|^grad_norm$|^(?:eval|train|test|predict)_")


def is_metric_dict(pairs) -> bool:
    return any(_METRIC_KEY_RE.search(k) for k, _ in pairs)


def _assigned(line: str, start: int) -> bool:
    """``name={...}`` or ``f({...`` — a dict that is a value, not a printed metric dict."""
    j = start - 1
    while j >= 0 and line[j] == " ":
        j -= 1
    return j >= 0 and line[j] in "=(,[{" or (j >= 0 and (line[j].isalnum() or line[j] == "_") and j == start - 1)


# ------------------------------------------------------------------ hparams and markers

_HP_PATTERNS = [
    (re.compile(r"\blogging_steps\s*[=:]\s*(\d+)"), "logging_steps"),
    (re.compile(r"\beval_steps\s*[=:]\s*(\d+)"), "eval_steps"),
    (re.compile(r"\bmax_steps\s*[=:]\s*(-?\d+)"), "max_steps"),
    (re.compile(r"\bnum_train_epochs\s*[=:]\s*([\d.]+)"), "num_train_epochs"),
    (re.compile(r"\bper_device_train_batch_size\s*[=:]\s*(\d+)"), "per_device_train_batch_size"),
    (re.compile(r"\bgradient_accumulation_steps\s*[=:]\s*(\d+)"), "gradient_accumulation_steps"),
    (re.compile(r"\blearning_rate\s*[=:]\s*([\d.eE+-]+)\s*,?\s*$|\blearning_rate=([\d.eE+-]+)"), "learning_rate"),
    (re.compile(r"Total optimization steps\s*=\s*([\d,]+)"), "max_steps"),
    (re.compile(r"Num Epochs\s*=\s*([\d,]+)"), "num_train_epochs"),
    (re.compile(r"Total train batch size[^=]*=\s*([\d,]+)"), "train_batch_size"),
    (re.compile(r"Instantaneous batch size per device\s*=\s*([\d,]+)"), "per_device_train_batch_size"),
]
_FIRST_STEP_RE = re.compile(r"\blogging_first_step\s*[=:]\s*(True|False|true|false)")
_HP_HINTS = ("logging_steps", "logging_first_step", "eval_steps", "max_steps", "num_train_epochs", "batch", "Num Epochs",
             "Total optimization", "gradient_accumulation", "learning_rate=", "learning_rate:")
_BLOCK_RE = re.compile(r"^\*{5} (train|eval|test|predict|validation)\S* metrics \*{5}$")
_BLOCK_ROW_RE = re.compile(r"^(\S+)\s+=\s+(\S+)$")
_CONTINUE_RE = re.compile(r"Continuing training from global step (\d+)")
_SKIP_KEYS = frozenset(("total_flos", "step", "global_step"))


def _hparam_number(text: str) -> float | int | None:
    text = text.replace(",", "")
    try:
        v = float(text)
    except ValueError:
        return None
    return int(v) if v == int(v) and "." not in text else v


def read_hparams(line: str, ctx: ParseContext) -> None:
    m = _FIRST_STEP_RE.search(line)
    if m is not None:
        ctx.hparams["logging_first_step"] = m.group(1).lower() == "true"
    for rx, key in _HP_PATTERNS:
        m = rx.search(line)
        if m is not None:
            val = _hparam_number(next(g for g in m.groups() if g is not None))
            if val is not None:
                if key == "max_steps" and isinstance(val, (int, float)) and val <= 0:
                    continue
                ctx.hparams[key] = val


# ------------------------------------------------------------------ detect


def detect(sample: str) -> float:
    # a metric dict: a loss-like first key with a number (a config dict {"loss": "xent"} is not one)
    n_train = len(re.findall(r"\{(['\"])(?:loss|train_loss|eval_loss|learning_rate)\1: (?:-?[\d.]|nan|inf|-inf)", sample))
    n_any = len(re.findall(r"\{'(?:eval|test|train)_\w+': |'epoch': [\d.]+\}", sample))
    blocks = len(re.findall(r"\*{5} (?:train|eval|test|predict) metrics \*{5}", sample))
    if n_train >= 2 or (n_train and n_any):
        return 0.95
    if n_train or n_any >= 2 or blocks:
        return 0.8
    if n_any:
        return 0.5
    if "Running training *****" in sample or "TrainingArguments(" in sample:
        return 0.3
    return 0.0


# ------------------------------------------------------------------ parse


# A tqdm frame glued right before a dict: "| 500/1000 [01:23<01:40,  7.41it/s]{'loss': ..."
_BAR_RE = re.compile(r"(\d+)/(\d+) \[[^\[\]]*\]\s*$")


def glued_bar(line: str, start: int) -> tuple[int, int] | None:
    """(counter, total) of the progress bar that ends right where the dict at ``start`` begins."""
    if start < 12 or line[start - 1] not in "] ":
        return None
    m = _BAR_RE.search(line, max(0, start - 120), start)
    return (int(m.group(1)), int(m.group(2))) if m is not None else None


class _State:
    __slots__ = ("run", "train_count", "last_train_step", "started", "banner", "entry",
                 "last_eval_step", "last_eval_values", "block", "block_rows", "block_line", "bar_total")

    def __init__(self) -> None:
        self.run = 0
        self.train_count = 0
        self.last_train_step = 0.0
        self.started = False
        self.banner = False
        self.entry = 0
        self.last_eval_step: float | None = None
        self.last_eval_values: dict[str, float] = {}  # the eval dict(s) of the last eval step
        self.block: str | None = None
        self.block_rows: list[tuple[str, str]] = []
        self.block_line = 0
        self.bar_total: int | None = None  # total of the training progress bar, once seen


def _logging_steps(ctx: ParseContext) -> float:
    ls = ctx.hparams.get("logging_steps")
    return float(ls) if isinstance(ls, (int, float)) and ls > 0 else 1.0


def next_train_step(st: _State, ctx: ParseContext, explicit_step: float | None = None) -> float:
    """The step of the next train dict (a banner before it starts a new run)."""
    if st.banner and st.started:
        st.run += 1
        st.train_count = 0
    st.banner = False
    st.started = True
    st.train_count += 1
    if explicit_step is not None:
        st.train_count = int(explicit_step / _logging_steps(ctx))
        step = explicit_step
    elif ctx.hparams.get("logging_first_step") and "logging_steps" in ctx.hparams:
        # logs at step 1, then at logging_steps, 2 x logging_steps, ...
        step = 1.0 if st.train_count == 1 else (st.train_count - 1) * _logging_steps(ctx)
    else:
        step = st.train_count * _logging_steps(ctx)
    st.last_train_step = step
    return step


def eval_step(st: _State, explicit_step: float | None = None) -> float:
    step = explicit_step if explicit_step is not None else st.last_train_step
    if st.last_eval_step != step:
        st.last_eval_values = {}
    st.last_eval_step = step
    return step


def _entry_records(pairs, st: _State, ctx: ParseContext, bar: tuple[int, int] | None = None) -> list[Record]:
    """Records of one metric dict (empty for the final summary dict).

    ``bar``: the (counter, total) of a tqdm frame glued to the dict. When the log does
    not say its ``logging_steps``, the training bar's counter is the step (the first
    train dict glued to a bar fixes which total is the training bar; an eval loop's own
    bar has another total and is not used). A counter that would go back is ignored.
    """
    keys = [k for k, _ in pairs]
    if "train_runtime" in keys or ("train_loss" in keys and "loss" not in keys
                                   and any(k.startswith("train_") and k != "train_loss" for k in keys)):
        for k, v in pairs:
            if isinstance(v, float):
                tidy.add_summary(ctx, k, v)
        if "train_loss" in keys:
            ctx.note("the final {'train_runtime': ..., 'train_loss': ...} dict is a run summary "
                     "(train_loss there is the mean over the run): kept in the summary, not as a curve point")
        return []
    epoch = None
    explicit_step = None
    numeric = []
    unreadable = []
    for k, v in pairs:
        if isinstance(v, str) and v not in ("True", "False", "None") and _METRIC_KEY_RE.search(k):
            unreadable.append((k, v))
            continue
        if k == "epoch":
            if isinstance(v, float):
                epoch = v
            continue
        if k in ("step", "global_step"):
            # an infinite or NaN step (a 400-digit number overflows to inf) says nothing
            # about where the dict is: it is ignored and the dict counted as if it had none
            if isinstance(v, float) and math.isfinite(v):
                explicit_step = v
            continue
        if k in _SKIP_KEYS or not isinstance(v, float):
            continue
        numeric.append((k, v))
    if unreadable:
        _count_unreadable(unreadable, ctx)
    if not numeric:
        return []
    named = [(k, v, tidy.canonical(k)) for k, v in numeric]
    is_train = any(sm[0] == "train" for _, _, sm in named)
    if bar is not None and explicit_step is None and "logging_steps" not in ctx.hparams:
        if st.bar_total is None and is_train:
            st.bar_total = bar[1]
        if bar[1] == st.bar_total and bar[0] >= st.last_train_step:
            explicit_step = float(bar[0])
    if is_train:
        step = next_train_step(st, ctx, explicit_step)
    else:
        step = eval_step(st, explicit_step)
    st.entry += 1
    out = []
    for k, v, (split, metric) in named:
        if split != "train":
            st.last_eval_values[k] = v
        out.append(Record(step=step, split=split, metric=metric, value=v, name=k, epoch=epoch,
                          line=getattr(ctx, "lineno", None), group=st.entry, run=st.run))
    return out


def _count_unreadable(items: list[tuple[str, str]], ctx: ParseContext) -> None:
    """A metric key with a string value ({'loss': 'abc'}): counted as a skipped line that
    names the key and the text; the dict's numbers are still read."""
    what = []
    for k, v in items[:3]:
        text = v[1:-1] if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"" else v
        what.append(f"{k!r} is the string {text[:40]!r}")
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    ctx.skip(getattr(ctx, "lineno", None), f"{'; '.join(what)}{more}, not a number: not read "
                                          "(the other values of the dict are)")


def _block_records(st: _State, ctx: ParseContext) -> list[Record]:
    kind = st.block
    rows = st.block_rows
    st.block, st.block_rows = None, []
    epoch = None
    vals = []
    for k, tok in rows:
        v = tidy.to_float(tok)
        if k == "epoch":
            epoch = v
            continue
        if v is None or k in _SKIP_KEYS:
            continue
        vals.append((k, v))
    if kind == "train":
        summary = ctx.__dict__.setdefault("summary", {})
        for k, v in vals:
            summary.setdefault(k, v)  # the final dict's unrounded values win
        return []
    default = "test" if kind in ("test", "predict") else "eval"
    step = st.last_train_step
    out = []
    repeated = 0
    differ = []
    tokens = dict(rows)
    st.entry += 1
    for k, v in vals:
        split, metric = tidy.canonical(k, default)
        if split == "train":
            split = default
        if split == "eval" and st.last_eval_step == step and k in st.last_eval_values:
            # the same step was evaluated by an eval dict: a rounded repeat of it, or a
            # separate final evaluation (of the best model, load_best_model_at_end)
            if _same_rounded(st.last_eval_values[k], v, tokens.get(k, "")):
                repeated += 1
            else:
                differ.append(f"{k}={tokens.get(k)}")
                tidy.add_summary(ctx, f"final {k}", v)
            continue
        out.append(Record(step=step, split=split, metric=metric, value=v, name=k, epoch=epoch,
                          line=st.block_line, group=st.entry, run=st.run))
    if repeated:
        ctx.note(f"the ***** {kind} metrics ***** block repeats (rounded) {repeated} value(s) of the "
                 "eval dict logged at the same step: kept the dict's values")
    if differ:
        ctx.note(f"the ***** {kind} metrics ***** block gives {', '.join(differ[:4])} at the end, unlike the "
                 "eval dict of that step (a final evaluation, e.g. of the best model): in the summary "
                 "('final ...'), not as a curve point")
    return out


def _same_rounded(dict_value: float, block_value: float, token: str) -> bool:
    """The block prints values rounded (4 decimals): is ``block_value`` the dict's value rounded?"""
    if dict_value != dict_value or block_value != block_value:
        return dict_value != dict_value and block_value != block_value
    decimals = len(token.split(".", 1)[1]) if "." in token and "e" not in token.lower() else None
    if decimals is None:
        return dict_value == block_value or abs(dict_value - block_value) <= 1e-4 * max(1.0, abs(dict_value))
    return abs(dict_value - block_value) <= 0.5 * 10 ** -decimals + 1e-12


def _resume(st: _State, ctx: ParseContext, global_step: int) -> None:
    """'Continuing training from global step N': the run goes on from step N."""
    st.banner = False
    if global_step > 2 ** 53:  # not a step a float can hold (and int // float would overflow)
        ctx.note(f"'Continuing training from global step ...' gives a {len(str(global_step))}-digit step: "
                 "ignored, steps go on in logging order")
        return
    ls = ctx.hparams.get("logging_steps")
    if isinstance(ls, (int, float)) and ls > 0:
        st.train_count = int(global_step // ls)
        st.last_train_step = float(st.train_count * ls)
    else:
        ctx.note(f"the run resumes from global step {global_step}, but logging_steps is not in the log: "
                 "steps go on in logging order")


def feed(line: str, st: _State, ctx: ParseContext) -> list[Record]:
    """Records read from one cleaned line (the parser's state is in ``st``)."""
    out: list[Record] = []
    if not line:
        if st.block is not None:
            out.extend(_block_records(st, ctx))
        return out
    if st.block is not None:
        m = _BLOCK_ROW_RE.match(line)
        if m is not None:
            st.block_rows.append((m.group(1), m.group(2)))
            return out
        out.extend(_block_records(st, ctx))
    start = line.find("{")
    if start < 0 or ("'" not in line and '"' not in line):
        first = line[0]
        if first == "*" and line.startswith("*****"):
            m = _BLOCK_RE.match(line)
            if m is not None:
                st.block = "eval" if m.group(1) == "validation" else m.group(1)
                st.block_line = getattr(ctx, "lineno", 0)
                return out
            if "Running training" in line:
                st.banner = True
            return out
        if "Continuing training" in line:
            m = _CONTINUE_RE.search(line)
            if m is not None:
                _resume(st, ctx, int(m.group(1)))
        elif ("=" in line or ":" in line) and any(h in line for h in _HP_HINTS):
            read_hparams(line, ctx)
        return out
    while start >= 0:
        if line.startswith("{'", start) or line.startswith('{"', start) or _CALL_KEY_RE.match(line, start):
            pairs, end = dict_pairs(line, start)
            if pairs is CALL:
                if not _assigned(line, start):
                    ctx.skip(getattr(ctx, "lineno", None),
                             "a dict that contains a call (not read: lossctl never evaluates log text)")
                start = line.find("{", max(end, start + 1))
                continue
            if pairs is None:
                if "loss" in line[start:start + 200] and not _assigned(line, start):
                    ctx.skip(getattr(ctx, "lineno", None), "an incomplete or malformed dict")
                start = line.find("{", start + 1)
                continue
            if is_metric_dict(pairs) and not _assigned(line, start):
                out.extend(_entry_records(pairs, st, ctx, glued_bar(line, start)))
            elif any(h in line for h in _HP_HINTS):
                read_hparams(line, ctx)
            start = line.find("{", end)
        else:
            start = line.find("{", start + 1)
    if "logging_steps" in line or "Total optimization" in line:
        read_hparams(line, ctx)
    return out


def finish(st: _State, ctx: ParseContext) -> list[Record]:
    """Records still held when the input ends (an unterminated metrics block)."""
    return _block_records(st, ctx) if st.block is not None else []


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    st = _State()
    ctx.__dict__["hf_state"] = st
    for line in source:
        recs = feed(line, st, ctx)
        if recs:
            yield from recs
    yield from finish(st, ctx)
