"""lossctl: loss calculator and training-log analyzer.

Python API (imported lazily, so ``import lossctl`` stays cheap)::

    lossctl.compute("cross-entropy", [[2.0, 1.0, 0.5]], [0])   # -> ComputeResult
    lossctl.parse_log("train.log")                             # -> pandas.DataFrame
    lossctl.diagnose("train.log")                              # -> Diagnosis
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["compute", "parse_log", "diagnose", "__version__"]


def _callable_module(module: str, fn) -> None:
    """Make the submodule ``module`` callable as ``fn``.

    ``import lossctl.compute`` binds the *module* to ``lossctl.compute``, shadowing the
    function of the same name that :func:`__getattr__` hands out; a callable module keeps
    ``lossctl.compute(...)`` and ``lossctl.diagnose(...)`` working however the package
    was imported.
    """
    import sys
    import types

    class _CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return fn(*args, **kwargs)

    sys.modules[module].__class__ = _CallableModule


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
