"""The one place where log formats are registered.

Each entry is a module in ``lossctl/logs/`` following the contract in
``lossctl/logs/base.py``. Auto-detection scores a sample of the text with every
module's ``detect()`` and takes the best; ``--log-format NAME`` forces one.
Order matters only to break ties: more specific formats first.

Adding a format = one module here + one fixture pair in ``tests/fixtures/logs/``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# module names (files in lossctl/logs/), most specific first
FORMAT_MODULES: tuple[str, ...] = (
    # structured / document formats (logs-core)
    "hf_trainer_state",
    "detectron2",
    "mmdet_json",
    "jsonl",
    "csv_table",
    "tensorboard",
    "hf_console",
    # text formats (logs-text)
    "megatron",
    "keras_console",
    "nanogpt",
    "mmdet_text",
    "fairseq",
    "timm",
    "caffe",
    "dllogger",
    "avgmeter",
    "plaintext",
)

_loaded: list[ModuleType] | None = None


def modules() -> list[ModuleType]:
    """All format modules, imported once."""
    global _loaded
    if _loaded is None:
        _loaded = [importlib.import_module(f"lossctl.logs.{m}") for m in FORMAT_MODULES]
    return _loaded


def by_name() -> dict[str, ModuleType]:
    return {m.NAME: m for m in modules()}
