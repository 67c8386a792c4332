"""lossctl: loss calculator and training-log analyzer.

Python API (imported lazily, so ``import lossctl`` stays cheap)::

    lossctl.compute("cross-entropy", [[2.0, 1.0, 0.5]], [0])   # -> ComputeResult
    lossctl.parse_log("train.log")                             # -> pandas.DataFrame
    lossctl.diagnose("train.log")                              # -> Diagnosis
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["compute", "parse_log", "diagnose", "__version__"]


def __getattr__(name: str):
    if name == "compute":
        from lossctl.compute import compute

        return compute
    if name == "parse_log":
        from lossctl.logs import parse_log

        return parse_log
    if name == "diagnose":
        from lossctl.diagnose import diagnose

        return diagnose
    raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
