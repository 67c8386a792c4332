"""Coverage-guided fuzzing of the log parsers (and the predictions reader) with atheris.

Not a test and not run in CI: it runs for a bounded time and reports executions and findings.

    .venv/bin/pip install atheris
    .venv/bin/python bench/fuzz_logs.py -max_total_time=300            # the log parsers
    .venv/bin/python bench/fuzz_logs.py --preds -max_total_time=120    # compute's file reader
    make fuzz                                                          # both, 5 + 2 minutes

Each input's first byte picks the log format (0 = auto-detection, else one of
``--list-formats``), the rest is the log's bytes, read through ``iter_records`` (the same
path as ``lossctl parse``) to the last record. A :class:`lossctl.errors.LossctlError` is an
accepted answer (exit 2 for the user); any other exception is a finding. Findings do not
stop the run: each distinct one (exception type + innermost lossctl frame) is written to
``bench/out/fuzz/findings/`` with the input that caused it, and listed at the end.

Seeds: every fixture log under tests/fixtures/logs and the real logs of ../shared (first
8 KB each), into ``bench/out/fuzz/corpus-*`` (libFuzzer adds what it finds there).
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "fuzz"
SHARED = Path(os.environ.get("LOSSCTL_SHARED", ROOT.parent / "shared"))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["lossctl"]):
    from lossctl import errors
    from lossctl.logs import format_modules, iter_records, list_formats
    from lossctl import inputs
    from lossctl.logs import base, reader, tidy  # noqa: F401
    format_modules()  # the format modules are imported lazily: import them here, instrumented

FORMATS = [None] + [f["name"] if isinstance(f, dict) else getattr(f, "NAME", str(f)) for f in list_formats()]
FINDINGS = OUT / "findings"
_seen: dict[str, int] = {}
_stats = {"runs": 0, "errors": 0, "records": 0}


def _signature(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    ours = [f for f in tb if "/lossctl/" in f.filename]
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(e).__name__}@{where}"


def _record(e: BaseException, data: bytes, what: str) -> None:
    sig = _signature(e)
    _seen[sig] = _seen.get(sig, 0) + 1
    if _seen[sig] == 1:
        FINDINGS.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha1(data).hexdigest()[:12]
        (FINDINGS / f"{sig.replace('@', '_').replace(':', '_')}-{h}.input").write_bytes(data)
        (FINDINGS / f"{sig.replace('@', '_').replace(':', '_')}-{h}.txt").write_text(
            f"{what}\n" + "".join(traceback.format_exception(e)))
        sys.stderr.write(f"\n[fuzz] NEW FINDING {sig}: {type(e).__name__}: {str(e)[:200]}\n")


def one_log(data: bytes) -> None:
    _stats["runs"] += 1
    if not data:
        return
    fmt = FORMATS[data[0] % len(FORMATS)]
    body = data[1:]
    try:
        for _ in iter_records(io.BytesIO(body), log_format=fmt):
            _stats["records"] += 1
    except errors.LossctlError:
        _stats["errors"] += 1
    except (RecursionError, MemoryError):
        _stats["errors"] += 1  # main() turns these into input errors
    except Exception as e:  # noqa: BLE001 - a finding
        _record(e, data, f"log format {fmt!r}")


_PRED_PATH = Path("/dev/shm" if os.path.isdir("/dev/shm") else "/tmp") / f"lossctl-fuzz-{os.getpid()}"
_LOSS_KIND = ["class", "same", "tokens"]


def one_preds(data: bytes) -> None:
    _stats["runs"] += 1
    if not data:
        return
    kind = _LOSS_KIND[data[0] % 3]
    _PRED_PATH.write_bytes(data[1:])
    preds = None
    try:
        preds = inputs.read_predictions(str(_PRED_PATH), target_kind=kind)
        for _ in preds.chunks():
            pass
    except errors.LossctlError:
        _stats["errors"] += 1
    except (RecursionError, MemoryError):
        _stats["errors"] += 1
    except Exception as e:  # noqa: BLE001 - a finding
        _record(e, data, f"predictions, target kind {kind}")
    finally:
        if preds is not None:
            try:
                preds.close()
            except Exception:  # noqa: BLE001
                pass


def _seed(corpus: Path, preds: bool) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    files: list[Path] = []
    if preds:
        for p in [ROOT / "examples", ROOT / "tests" / "data", SHARED / "seed"]:
            if p.exists():
                files += [f for f in p.rglob("*") if f.is_file() and f.suffix in (".csv", ".json", ".jsonl", ".tsv", ".npy")]
        for i, f in enumerate(files[:60]):
            (corpus / f"seed-{i}").write_bytes(bytes([i % 3]) + f.read_bytes()[:8192])
        return
    files = sorted((ROOT / "tests" / "fixtures" / "logs").glob("*"))
    files = [f for f in files if not f.name.endswith(".expected.csv")]
    if (SHARED / "real-logs").exists():
        files += sorted(f for f in (SHARED / "real-logs").iterdir() if f.suffix not in (".md", ".tsv"))
    for i, f in enumerate(files):
        head = f.read_bytes()[:8192]
        (corpus / f"seed-{i}-auto").write_bytes(b"\x00" + head)
        # the same text forced through every format: each parser meets foreign lines
        (corpus / f"seed-{i}-forced").write_bytes(bytes([1 + i % (len(FORMATS) - 1)]) + head)


def main() -> None:
    preds = "--preds" in sys.argv
    argv = [a for a in sys.argv if a != "--preds"]
    corpus = OUT / ("corpus-preds" if preds else "corpus-logs")
    _seed(corpus, preds)
    if not any(a.startswith("-timeout") for a in argv):
        argv.append("-timeout=20")
    if not any(a.startswith("-rss_limit_mb") for a in argv):
        argv.append("-rss_limit_mb=2048")
    if not any(a.startswith("-max_len") for a in argv):
        argv.append("-max_len=16384")
    argv.append(str(corpus))
    import atexit

    def summary() -> None:
        sys.stderr.write(f"\n[fuzz] {'predictions' if preds else 'logs'}: {_stats['runs']} executions, "
                         f"{_stats['errors']} clean input errors, {_stats['records']} records, "
                         f"{len(_seen)} distinct finding(s): {dict(_seen)}\n")
        try:
            _PRED_PATH.unlink()
        except OSError:
            pass

    atexit.register(summary)
    atheris.Setup(argv, one_preds if preds else one_log)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
