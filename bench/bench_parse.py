"""Benchmark `lossctl parse` on big Hugging Face console logs (not a test).

    .venv/bin/python bench/bench_parse.py [--runs 5] [--skip-1m]

Logs are generated in bench/out/ with ../shared/bench/make_hf_log.py (deterministic):
hf-1m.log (1,000,000 steps, ~110 MB) and hf-200k.log. Measured, alternating lossctl and
its baseline in each round, median of the rounds (absolute times drift on shared
machines: the ratios are what counts):

1. loss only: ``lossctl parse hf-1m.log --metric loss --split train --format csv`` vs the
   awk one-liner of baselines.md; the row count must be exactly 1,000,000.
2. all metrics: ``lossctl parse hf-200k.log --format csv`` vs a Python loop that finds
   each dict with a regex, reads it with ``ast.literal_eval`` and writes its items with
   ``csv.writer`` (baselines.md).
3. memory: peak RSS of ``lossctl parse --format csv`` (all metrics) on 200k vs 1M steps,
   and of the record path (``--format ndjson``) on both: bounded means "does not grow
   with the log".
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SHARED = Path(os.environ.get("LOSSCTL_SHARED", ROOT.parent / "shared"))
RELEASE = OUT / "release-venv"  # lossctl installed as the README installs it (not editable)


def release_lossctl() -> list[str]:
    """The lossctl of a regular ``pip install .`` in bench/out/release-venv (made once, and
    again with --reinstall). An editable install is not what users run: with
    PYTHONDONTWRITEBYTECODE=1 (as on these machines) it compiles lossctl on every start."""
    exe = RELEASE / "bin" / "lossctl"
    if not exe.exists():
        print(f"installing lossctl into {RELEASE} (pip install .) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(RELEASE)], check=True)
        subprocess.run([str(RELEASE / "bin" / "pip"), "install", "-q", str(ROOT)], check=True)
    return [str(exe)]

LITERAL_EVAL_LOOP = r'''
import ast, csv, re, sys
w = csv.writer(sys.stdout)
pat = re.compile(r"\{'.*?\}")
with open(sys.argv[1]) as f:
    for line in f:
        for m in pat.finditer(line):
            for k, v in ast.literal_eval(m.group(0)).items():
                w.writerow([k, v])
'''


def ensure_log(name: str, steps: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    if not path.exists():
        gen = SHARED / "bench" / "make_hf_log.py"
        print(f"generating {path} ({steps:,} steps) ...", flush=True)
        subprocess.run([sys.executable, str(gen), str(path), str(steps)], check=True)
    return path


def run(cmd: list[str], out_path: Path | None = None) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MB, output lines) of one run of ``cmd``."""
    out = open(out_path, "wb") if out_path else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if out_path:
        out.close()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    lines = 0
    if out_path:
        with open(out_path, "rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b""))
    return wall, usage.ru_maxrss // 1024, lines


def compare(title: str, ours: list[str], base: list[str], rounds: int, check_rows: int | None = None) -> dict:
    t_ours, t_base, rss = [], [], []
    rows = None
    for i in range(rounds):
        w, r, n = run(ours, OUT / "ours.out")
        t_ours.append(w)
        rss.append(r)
        rows = n - 1
        w, _, _ = run(base, OUT / "base.out")
        t_base.append(w)
    mo, mb = statistics.median(t_ours), statistics.median(t_base)
    print(f"\n{title}")
    print(f"  lossctl : median {mo:.3f} s  (runs: {', '.join(f'{x:.2f}' for x in t_ours)})  peak RSS {max(rss)} MB")
    print(f"  baseline: median {mb:.3f} s  (runs: {', '.join(f'{x:.2f}' for x in t_base)})")
    print(f"  ratio lossctl/baseline: {mo / mb:.2f}")
    if check_rows is not None:
        status = "ok" if rows == check_rows else "WRONG"
        print(f"  rows: {rows:,} (expected {check_rows:,}: {status})")
    return {"ours": mo, "base": mb, "ratio": mo / mb, "rss": max(rss), "rows": rows}


def check_loss_column(log: Path) -> None:
    """The value column of lossctl's CSV equals the numbers awk prints (as floats), in order."""
    ours = subprocess.run(LOSSCTL + ["parse", str(log), "--metric", "loss", "--split", "train", "--format", "csv"],
                          capture_output=True, check=True).stdout.split(b"\n")[1:-1]
    awk = subprocess.run(["awk", "-F'loss': ", "NF>1 {split($2,a,\",\"); print a[1]}", str(log)],
                         capture_output=True, check=True).stdout.split()
    same = len(ours) == len(awk) and all(float(o.rsplit(b",", 1)[1]) == float(a) for o, a in zip(ours, awk))
    print(f"loss column of lossctl = awk's numbers ({len(ours):,} vs {len(awk):,} rows): {'ok' if same else 'DIFFERENT'}")
    if not same:
        raise SystemExit(1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--lossctl", help="the lossctl executable to time (default: a release install, see release_lossctl)")
    ap.add_argument("--reinstall", action="store_true", help="reinstall the release venv from this checkout first")
    args = ap.parse_args()
    global LOSSCTL
    if args.reinstall and RELEASE.exists():
        import shutil

        shutil.rmtree(RELEASE)
    LOSSCTL = [args.lossctl] if args.lossctl else release_lossctl()
    log200 = ensure_log("hf-200k.log", 200_000)
    log1m = None if args.skip_1m else ensure_log("hf-1m.log", 1_000_000)
    lit = OUT / "literal_eval_loop.py"
    lit.write_text(LITERAL_EVAL_LOOP)

    if log1m:
        compare("1. loss only, 1M steps: lossctl parse --metric loss --split train --format csv  vs  awk",
                LOSSCTL + ["parse", str(log1m), "--metric", "loss", "--split", "train", "--format", "csv"],
                ["awk", "-F'loss': ", "NF>1 {split($2,a,\",\"); print a[1]}", str(log1m)],
                args.runs, check_rows=1_000_000)
    compare("2. all metrics, 200k steps: lossctl parse --format csv  vs  ast.literal_eval loop",
            LOSSCTL + ["parse", str(log200), "--format", "csv"],
            [sys.executable, str(lit), str(log200)], max(1, min(args.runs, 3)))

    print("\n3. peak RSS (MB), all metrics")
    for label, fmt in (("csv (fast path)", "csv"), ("ndjson (record path)", "ndjson")):
        sizes = []
        for log in (log200, log1m):
            if log is None:
                continue
            _, r, n = run(LOSSCTL + ["parse", str(log), "--format", fmt], OUT / "rss.out")
            sizes.append(f"{log.name}: {r} MB ({n:,} lines)")
        print(f"  {label:22s} " + "   ".join(sizes))
    if log1m:
        # last: this process's own peak would show in the RSS of every child started after
        # it (Linux keeps the peak across exec)
        check_loss_column(log1m)
    for f in ("ours.out", "base.out", "rss.out"):
        (OUT / f).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
