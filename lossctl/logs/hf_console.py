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
  A metric dict cut at the end of its line (a hard-wrapped terminal capture, pprint)
  is read together with the next few lines (:data:`WRAP_LINES`).
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
``logging_first_step=True``: 1, then ``(k-1) × logging_steps``), else ``k``.

An eval dict is at a step in ``[L, L + logging_steps - 1]`` (L: the last train dict;
the Trainer evaluates after the log of its step). When the log says enough, it goes
on its real step (see ``_place_eval``): with ``eval_strategy=steps``, the one multiple
of ``eval_steps`` in that window (``eval_steps=None``: logging_steps; a ratio < 1: of
the run's steps); with ``eval_strategy=epoch``, ``epoch × S`` for an epoch end (S =
update steps per epoch, exact from a ``num_update_steps_per_epoch`` line, or from
``Total optimization steps = N`` with ``max_steps=-1``: ``N = ceil(num_train_epochs × S)``),
or the run's last step for a fractional epoch (training stopped mid-epoch). When S is
not in the log, the eval's records (and every record after them) are held until the
train dicts that follow (epoch = step / S, rounded as printed) and the held evals'
windows leave one whole S; the end of the run (a new banner, a resume, new
hyper-parameters, the final summary dict, the end of input) or ``HOLD_MAX`` held
records end the wait. With no strategy but an exact S, the one step of the window
whose epoch rounds to the printed one. Whatever stays ambiguous (or contradicts the
window) takes the step of the last train dict, as before. This assumes S is a whole
number of steps (the dataloader's length a multiple of gradient_accumulation_steps).

A new "***** Running training *****"
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
                    j = w.end()
                elif word in ("nan", "NaN", "inf", "Infinity"):
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
             "Total optimization", "gradient_accumulation", "learning_rate=", "learning_rate:", "_strategy",
             "num_update_steps")
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


# What places an eval dict on its step (kept apart from ``ctx.hparams``, which is
# reported as it was read): the TrainingArguments' own max_steps (-1: "train by
# epochs"), num_train_epochs and eval_steps (None, a count, or a ratio < 1), the
# strategies, the banner's "Total optimization steps" and "Num Epochs", and a
# num_update_steps_per_epoch line when a script prints one.
_HINT_PATTERNS = [
    (re.compile(r"\b(?:eval_strategy|evaluation_strategy)\s*[=:]\s*(?:IntervalStrategy\.)?['\"]?([A-Za-z]+)"),
     "eval_strategy"),
    (re.compile(r"\blogging_strategy\s*[=:]\s*(?:IntervalStrategy\.)?['\"]?([A-Za-z]+)"), "logging_strategy"),
    (re.compile(r"\bmax_steps\s*[=:]\s*(-?\d+)\b(?!\.)"), "max_steps_arg"),
    (re.compile(r"\bnum_train_epochs\s*[=:]\s*(\d+(?:\.\d*)?)"), "num_train_epochs"),
    (re.compile(r"\beval_steps\s*[=:]\s*(None|\d+(?:\.\d*)?(?:[eE]-?\d+)?)"), "eval_steps"),
    (re.compile(r"Total optimization steps\s*=\s*([\d,]+)"), "total_steps"),
    (re.compile(r"Num Epochs\s*=\s*([\d,]+)"), "num_epochs"),
    (re.compile(r"\bnum_update_steps_per_epoch\s*[=:]\s*(\d+)"), "steps_per_epoch"),
]


def _read_hints(line: str, ctx: ParseContext) -> None:
    hints = None
    for rx, key in _HINT_PATTERNS:
        m = rx.search(line)
        if m is None:
            continue
        tok = m.group(1).replace(",", "")
        val: object
        if key in ("eval_strategy", "logging_strategy"):
            val = tok.lower()
        elif tok == "None":
            val = None
        else:
            try:
                val = float(tok)
            except ValueError:
                continue
            if not math.isfinite(val):
                continue
        if hints is None:
            hints = ctx.__dict__.setdefault("hf_hints", {})
        hints[key] = val


def read_hparams(line: str, ctx: ParseContext) -> None:
    _read_hints(line, ctx)
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
                 "last_eval_step", "last_eval_values", "block", "block_rows", "block_line", "bar_total",
                 "ctx", "held", "pending", "ready", "tried", "spe", "spe_lo", "spe_hi", "wrap")

    def __init__(self, ctx: ParseContext | None = None) -> None:
        self.ctx = ctx  # where the hints are (feed() sets it too)
        # a metric dict cut at the end of its line (a hard-wrapped terminal capture, pprint):
        # (its first line, where the dict starts, the next lines read so far); see _wrapped
        self.wrap: tuple[str, int, list[str], int | None] | None = None  # + the first line's number
        # eval dicts whose step waits for the steps per epoch (see _place_eval): while
        # ``held`` is a list, every record read is held in it, in log order
        self.held: list[Record] | None = None
        self.pending: list[_Pending] = []
        self.ready = False  # the held records can go (after the current line)
        self.tried: tuple | None = None  # what _decide last found undecided
        self.spe: int | None = None  # steps per epoch of this run, once known exactly (0: not exact)
        self.spe_lo = 0.0  # what the train dicts read while holding say about it
        self.spe_hi = math.inf
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
        st.spe, st.spe_lo, st.spe_hi = None, 0.0, math.inf
    st.banner = False
    st.started = True
    st.train_count += 1
    if explicit_step is not None:
        st.train_count = int(explicit_step / _logging_steps(ctx))
        step = explicit_step
    elif ctx.hparams.get("logging_first_step") and "logging_steps" in ctx.hparams and _logging_steps(ctx) != 1:
        # logs at step 1, then at logging_steps, 2 x logging_steps, ... (with logging_steps=1
        # the first step is logged once, like every other: the plain rule below)
        step = 1.0 if st.train_count == 1 else (st.train_count - 1) * _logging_steps(ctx)
    else:
        step = st.train_count * _logging_steps(ctx)
    st.last_train_step = step
    return step


class NeedsRecordPath(ValueError):
    """An eval dict whose step is only known once later lines are read (the fast CSV
    writer hands such a chunk to :func:`feed`)."""


def eval_step(st: _State, explicit_step: float | None = None, epoch: float | None = None,
              fast: bool = False) -> float:
    """The step of an eval dict: its own, else where the log places it (:func:`_place_eval`),
    else the last train step. ``fast``: raise :class:`NeedsRecordPath` (before changing
    anything) when the step waits for later lines."""
    step = explicit_step
    if step is None:
        step, hold = _place_eval(st, epoch)
        if hold and fast:
            raise NeedsRecordPath("the step of this eval dict is known later")
        if step is None:
            step = st.last_train_step
    _set_eval_step(st, step)
    return step


def _set_eval_step(st: _State, step: float) -> None:
    if st.last_eval_step != step:
        st.last_eval_values = {}
    st.last_eval_step = step


# ------------------------------------------------------------------ where an eval dict goes
#
# The Trainer logs a train dict every logging_steps steps and evaluates after the log
# of its step, so an eval dict read after the train dict of step L (and before the
# next one) is at a step in [L, L + logging_steps - 1]. Which one:
# - eval every eval_steps: the one multiple of eval_steps in that window;
# - eval every epoch: epoch k ends at step k x S (S = update steps per epoch), and an
#   eval at a fractional epoch (training stopped mid-epoch) is at the last step N;
#   S is exact from num_update_steps_per_epoch, or from "Total optimization steps = N"
#   when the arguments say max_steps=-1 (N = ceil(num_train_epochs x S)); else the
#   train dicts that follow tell it (epoch = step / S, rounded as printed), and the
#   records are held until one S is left (or the run ends: then the old rule);
# - otherwise, with an exact S: the one step of the window whose epoch rounds to the
#   printed one.
# Anything ambiguous keeps the old rule: the step of the last train dict.

HOLD_MAX = 100_000  # records held at most while waiting for the steps per epoch


class _Pending:
    __slots__ = ("records", "epoch", "lo", "hi")

    def __init__(self, records: list[Record], epoch: float, lo: int, hi: int) -> None:
        self.records, self.epoch, self.lo, self.hi = records, epoch, lo, hi


def _epoch_tol(e: float) -> float:
    """How far the true epoch can be from the printed one (HF rounds to 2 decimals)."""
    r = repr(e)
    if "e" in r or "." not in r:
        return max(1e-9 * abs(e), 1e-12)
    d = len(r.split(".", 1)[1])
    return max(0.5 * 10.0 ** -max(d, 2), 1e-12 * max(1.0, abs(e))) * (1 + 1e-9)


def _hints(st: _State) -> dict | None:
    ctx = st.ctx
    return ctx.__dict__.get("hf_hints") if ctx is not None else None


def _total_steps(h: dict, spe: int) -> int | None:
    """The run's last step N for S = ``spe`` steps per epoch (None: not known)."""
    n = h.get("total_steps")
    if isinstance(n, float) and n > 0:
        return int(n)
    ms = h.get("max_steps_arg")
    if isinstance(ms, float) and ms > 0:
        return int(ms)
    nte = h.get("num_train_epochs")
    if isinstance(ms, float) and isinstance(nte, float) and nte > 0:
        return math.ceil(nte * spe)
    return None


def _knows_total(h: dict) -> bool:
    return (isinstance(h.get("total_steps"), float) or isinstance(h.get("max_steps_arg"), float)
            and (h["max_steps_arg"] > 0 or isinstance(h.get("num_train_epochs"), float)))


def _spe_from_hints(h: dict) -> int | None:
    """Update steps per epoch said exactly by the log's hyper-parameters."""
    s = h.get("steps_per_epoch")
    if isinstance(s, float) and s >= 1:
        return int(s)
    n, ms, nte = h.get("total_steps"), h.get("max_steps_arg"), h.get("num_train_epochs")
    if isinstance(n, float) and n >= 1 and isinstance(ms, float) and ms <= 0 and isinstance(nte, float) and nte > 0:
        # max_steps = ceil(num_train_epochs x S): one S at most when num_train_epochs >= 1
        base = int(n // nte)
        fits = [c for c in (base - 1, base, base + 1) if c >= 1 and math.ceil(nte * c) == n]
        if len(fits) == 1 and nte >= 1:
            return fits[0]
    return None


def _epoch_candidates(h: dict, spe: int, epoch: float, lo: int, hi: int) -> set[int]:
    """Steps in [lo, hi] where an every-epoch evaluation printing ``epoch`` can be."""
    out = set()
    if epoch >= 1 and epoch == int(epoch) and lo <= int(epoch) * spe <= hi:
        out.add(int(epoch) * spe)
    n = _total_steps(h, spe)
    if n is not None and lo <= n <= hi and abs(n / spe - epoch) <= _epoch_tol(epoch):
        out.add(n)
    return out


def _window(st: _State) -> tuple[int, int] | None:
    """[L, L + logging_steps - 1]: where an eval dict read now can be (None: unknown)."""
    ctx = st.ctx
    h = _hints(st)
    if ctx is None or not h:
        return None
    ls = ctx.hparams.get("logging_steps")
    if (not isinstance(ls, int) or ls < 2 or ctx.hparams.get("logging_first_step")
            or h.get("logging_strategy") in ("epoch", "no")):
        return None
    last = st.last_train_step
    if last != int(last) or last < 0:
        return None
    return int(last), int(last) + ls - 1


def _place_eval(st: _State, epoch: float | None) -> tuple[float | None, bool]:
    """(step, hold) for an eval dict with no step of its own: ``step`` None keeps the
    old rule; ``hold``: the steps per epoch that would place it are not known yet."""
    win = _window(st)
    if win is None:
        return None, False
    lo, hi = win
    h = _hints(st)
    strategy = h.get("eval_strategy")
    spe = _spe_from_hints(h) or st.spe or None
    if strategy == "steps":
        every = h.get("eval_steps", math.nan)
        ls = st.ctx.hparams["logging_steps"]
        if every is None:
            every = float(ls)
        elif isinstance(every, float) and 0 < every < 1:  # a ratio of the whole run
            n = _total_steps(h, 1) if isinstance(h.get("total_steps"), float) or (
                isinstance(h.get("max_steps_arg"), float) and h["max_steps_arg"] > 0) else None
            every = float(math.ceil(every * n)) if n else math.nan
        if not (isinstance(every, float) and every >= 1 and every == int(every)):
            return None, False
        every = int(every)
        first = -(-lo // every) * every
        if first > hi:
            return None, False
        if first + every > hi:
            return float(first), False
        if spe and epoch is not None:
            tol = _epoch_tol(epoch)
            fits = [s for s in range(first, hi + 1, every) if abs(s / spe - epoch) <= tol]
            if len(fits) == 1:
                return float(fits[0]), False
        return None, False
    if epoch is None or not math.isfinite(epoch) or epoch < 0:
        return None, False
    if strategy == "epoch":
        if not _knows_total(h) or epoch == 0:  # epoch 0: evaluated before training (eval_on_start)
            return None, False
        if spe:
            c = _epoch_candidates(h, spe, epoch, lo, hi)
            return (float(c.pop()), False) if len(c) == 1 else (None, False)
        if st.spe == 0:
            return None, False
        return None, True
    if spe:
        tol = _epoch_tol(epoch)
        first = max(lo, math.ceil((epoch - tol) * spe))
        last = min(hi, math.floor((epoch + tol) * spe))
        if first == last:
            return float(first), False
    return None, False


def _hold(st: _State, records: list[Record], epoch: float) -> None:
    lo, hi = _window(st)
    if st.held is None:
        st.held = []
        st.spe_lo, st.spe_hi = 0.0, math.inf
    st.pending.append(_Pending(records, epoch, lo, hi))


def _train_evidence(st: _State, step: float, epoch: float | None) -> None:
    """A train dict read while holding: epoch = step / S (rounded as printed) bounds S."""
    if epoch is None or not math.isfinite(epoch) or epoch <= 0 or step <= 0:
        return
    tol = _epoch_tol(epoch)
    st.spe_lo = max(st.spe_lo, step / (epoch + tol) * (1 - 1e-12))
    if epoch - tol > 0:
        st.spe_hi = min(st.spe_hi, step / (epoch - tol) * (1 + 1e-12))


def _resolve(st: _State, final: bool) -> bool:
    """Place the held eval dicts if the steps per epoch is now known; ``final``: the run
    (or what was known about it) ends here, so the undecided ones keep the old rule.
    True when the held records can go."""
    if st.held is None:
        return False
    st.ready = _decide(st, final)
    return st.ready


def _decide(st: _State, final: bool) -> bool:
    h = _hints(st) or {}
    first, last = max(1, math.ceil(st.spe_lo)), math.floor(st.spe_hi)
    if not final:
        # most train dicts leave the whole numbers that fit as they were: nothing new to try
        key = (first, last, len(st.pending))
        if key == st.tried:
            return False
        st.tried = key
    bounded = first <= last and (last - first + 1) * len(st.pending) <= 20_000
    fits = [s for s in range(first, last + 1)
            if all(_epoch_candidates(h, s, p.epoch, p.lo, p.hi) for p in st.pending)] if bounded else []
    if len(fits) == 1:
        spe = fits[0]
        for p in st.pending:
            c = _epoch_candidates(h, spe, p.epoch, p.lo, p.hi)
            if len(c) == 1:  # else (epoch end and last step both fit): the old rule
                step = float(c.pop())
                for r in p.records:
                    r.step = step
        if st.pending:
            _set_eval_step(st, st.pending[-1].records[0].step)
        st.spe = spe
        return True
    if final:
        return True  # the held records keep the old rule's step
    if first > last or (bounded and not fits):
        st.spe = 0  # no whole number of steps per epoch fits the log: the old rule for this run
        return True
    return False


def _release(st: _State) -> list[Record]:
    out = st.held or []
    st.held = None
    st.pending = []
    st.ready = False
    st.tried = None
    return out


def plan_key(st: _State) -> str:
    """What eval dicts are placed with (the hints, the known steps per epoch, whether
    records are held): two readers of one log agree on eval steps when this is equal."""
    return repr((sorted((_hints(st) or {}).items()), st.spe, st.held is not None))


def _through_hold(st: _State, out: list[Record]) -> list[Record]:
    """While eval dicts wait for their step, the records of every line wait with them
    (the output stays in log order)."""
    if st.held is None:
        return out
    st.held.extend(out)
    if not st.ready and len(st.held) > HOLD_MAX:
        _resolve(st, final=True)
        if st.spe is None:
            st.spe = 0  # not worth holding again in this run
    return _release(st) if st.ready else []


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
        _resolve(st, final=True)  # training is over: held eval dicts are placed now or never
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
    hold = False
    if is_train:
        if st.held is not None and st.banner and st.started:
            _resolve(st, final=True)  # a new run starts: the held eval dicts of the last one are placed
        step = next_train_step(st, ctx, explicit_step)
    elif explicit_step is not None:
        step = eval_step(st, explicit_step)
    else:
        placed, hold = _place_eval(st, epoch)
        step = st.last_train_step if placed is None else placed
        _set_eval_step(st, step)
    st.entry += 1
    out = []
    for k, v, (split, metric) in named:
        if split != "train":
            st.last_eval_values[k] = v
        out.append(Record(step=step, split=split, metric=metric, value=v, name=k, epoch=epoch,
                          line=getattr(ctx, "lineno", None), group=st.entry, run=st.run))
    if hold:
        _hold(st, out, epoch)
    elif is_train and st.held is not None:
        _train_evidence(st, step, epoch)
        _resolve(st, final=False)
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
    _resolve(st, final=True)
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
    st.ctx = ctx
    out = _wrapped(line, st, ctx) if st.wrap is not None else _feed(line, st, ctx)
    return _through_hold(st, out) if st.held is not None else out


# A metric dict whose line ends before the dict does is read together with the next lines
# (at most WRAP_LINES more, WRAP_CHARS in all): terminal captures hard-wrap long lines
# ("...'eval_samples_per_sec" / "ond': 100.1, 'epoch': 0.15}") and pprint breaks long
# dicts after a comma. The lines are joined as they are (the reader has stripped them,
# so a pprint break loses only a space). A dict that does not end within them is counted
# as an incomplete dict and its lines are read one by one, as if nothing was joined.
WRAP_LINES = 4
WRAP_CHARS = 8192
# (only a dict with a loss key is waited for: a pprint'ed config dict has learning_rate, epochs...)
_WRAP_KEY_RE = re.compile(r"""['"][\w./-]*loss['"]\s*:""")


def _wrapped(line: str, st: _State, ctx: ParseContext) -> list[Record]:
    first, start, more, first_no = st.wrap
    if line:
        more.append(line)
        text = first[start:] + "".join(more)
        pairs, end = dict_pairs(text, 0)
        if pairs is not None:
            st.wrap = None
            out: list[Record] = []
            if pairs is CALL:
                ctx.skip(getattr(ctx, "lineno", None),
                         "a dict that contains a call (not read: lossctl never evaluates log text)")
            elif is_metric_dict(pairs):
                out.extend(_entry_records(pairs, st, ctx, glued_bar(first, start)))
            rest = text[end:].strip()
            if rest:
                out.extend(_feed(rest, st, ctx))
            return out
        if (end >= len(text) or "}" not in text) and len(more) < WRAP_LINES and len(text) <= WRAP_CHARS:
            return []  # still open: wait for the next line
    # not a dict after all (or an empty line): read the lines as they are, each with its
    # own line number
    st.wrap = None
    now = getattr(ctx, "lineno", None)
    if first_no is not None:
        ctx.lineno = first_no
    out = _feed(first, st, ctx, start=start + 1, count_cut=start)
    for i, m in enumerate(more, start=1):
        if first_no is not None:
            ctx.lineno = first_no + i
        out.extend(_feed(m, st, ctx) if st.wrap is None else _wrapped(m, st, ctx))
    if now is not None:
        ctx.lineno = now
    if not line:
        out.extend(_feed(line, st, ctx) if st.wrap is None else _wrapped(line, st, ctx))
    return out


def _hparams_line(line: str, st: _State, ctx: ParseContext) -> None:
    """Hyper-parameters. Eval dicts held under the old values are placed (or given the old
    rule) before new values take over: those are for what follows."""
    if st.held is not None:
        probe = ParseContext(hparams=dict(ctx.hparams))
        hints = dict(ctx.__dict__.get("hf_hints", {}))
        probe.__dict__["hf_hints"] = dict(hints)
        read_hparams(line, probe)
        if probe.hparams != ctx.hparams or probe.__dict__["hf_hints"] != hints:
            _resolve(st, final=True)
    read_hparams(line, ctx)


def _feed(line: str, st: _State, ctx: ParseContext, start: int | None = None,
          count_cut: int | None = None) -> list[Record]:
    """``start``: go on reading ``line`` from there (the rest of a line whose dict was
    waited for in vain; ``count_cut``: where that dict began, counted as incomplete)."""
    out: list[Record] = []
    if start is not None:
        if "loss" in line[count_cut:count_cut + 200] and not _assigned(line, count_cut):
            ctx.skip(getattr(ctx, "lineno", None), "an incomplete or malformed dict")
        return _dicts(line, line.find("{", start), st, ctx, out, wrap=False)
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
                _resolve(st, final=True)  # held eval dicts of the run before are placed now or never
            return out
        if "Continuing training" in line:
            m = _CONTINUE_RE.search(line)
            if m is not None:
                _resume(st, ctx, int(m.group(1)))
        elif ("=" in line or ":" in line) and any(h in line for h in _HP_HINTS):
            _hparams_line(line, st, ctx)
        return out
    return _dicts(line, start, st, ctx, out, wrap=True)


def _dicts(line: str, start: int, st: _State, ctx: ParseContext, out: list[Record], wrap: bool) -> list[Record]:
    """The dicts of ``line`` from ``start`` on."""
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
                if (wrap and (end >= len(line) or line.find("}", start) < 0) and len(line) - start <= WRAP_CHARS and _WRAP_KEY_RE.search(line, start)
                        and not _assigned(line, start)):
                    st.wrap = (line, start, [], getattr(ctx, "lineno", None))  # the dict goes on below
                    return out
                if "loss" in line[start:start + 200] and not _assigned(line, start):
                    ctx.skip(getattr(ctx, "lineno", None), "an incomplete or malformed dict")
                start = line.find("{", start + 1)
                continue
            if is_metric_dict(pairs) and not _assigned(line, start):
                out.extend(_entry_records(pairs, st, ctx, glued_bar(line, start)))
            elif any(h in line for h in _HP_HINTS):
                _hparams_line(line, st, ctx)
            start = line.find("{", end)
        else:
            start = line.find("{", start + 1)
    if "logging_steps" in line or "Total optimization" in line:
        _hparams_line(line, st, ctx)
    return out


def finish(st: _State, ctx: ParseContext) -> list[Record]:
    """Records still held when the input ends (eval dicts waiting for their step, an
    unterminated metrics block)."""
    st.ctx = ctx
    out = _wrapped("", st, ctx) if st.wrap is not None else []
    if st.block is not None:
        out.extend(_block_records(st, ctx))
    if st.held is not None:
        _resolve(st, final=True)
        out = _through_hold(st, out)
    return out


def parse(source: Iterable[str], ctx: ParseContext) -> Iterator[Record]:
    st = _State(ctx)
    ctx.__dict__["hf_state"] = st
    for line in source:
        recs = feed(line, st, ctx)
        if recs:
            yield from recs
    yield from finish(st, ctx)
