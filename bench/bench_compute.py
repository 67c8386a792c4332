"""Benchmark `lossctl compute` (not a test): big-file throughput and start-up time.

usage: python bench/bench_compute.py [--runs 5] [--rows 2000000] [--skip-big] [--skip-startup]

1. cross-entropy over the 2,000,000 × 10 logits CSV of /work/shared/bench/make_preds_csv.py
   (~170 MB, generated once into bench/out/): `lossctl compute cross-entropy FILE --format json`
   end to end (a subprocess), with pyarrow parsing on several threads and on one
   (LOSSCTL_CSV_THREADS=1/0), with the pandas fallback (LOSSCTL_CSV_ENGINE=pandas) and with the
   default choice, against a baseline script doing pandas.read_csv +
   torch.nn.functional.cross_entropy (torch is needed only here: pip install torch==2.13.0).
   Runs alternate; each is measured with /usr/bin/time -v (wall time, peak RSS); the table shows
   medians and ratios to the baseline. Every run's value must match torch within rtol 1e-9.
2. start-up: `lossctl compute cross-entropy --input 2,1,0.5 --target 0` (table and json)
   against `python -c "import typer, numpy"`, alternating, median of many runs.

Absolute times drift on shared machines: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SHARED = Path(os.environ.get("LOSSCTL_SHARED", ROOT.parent / "shared"))
PY = sys.executable
LOSSCTL = str(Path(PY).with_name("lossctl"))

BASELINE = """\
import sys, pandas, torch
df = pandas.read_csv(sys.argv[1])
y = torch.tensor(df["label"].to_numpy())
x = torch.tensor(df[[c for c in df.columns if c.startswith("logit_")]].to_numpy())
print(repr(torch.nn.functional.cross_entropy(x, y).item()))
"""


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MB, stdout) of one run under /usr/bin/time -v."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd, capture_output=True, text=True,
                           env={**os.environ, **(env or {})})
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr}")
        report = Path(tf.name).read_text()
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    return wall, rss_kb // 1024, r.stdout


def bench_big(runs: int, rows: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"preds-{rows}.csv"
    if not csv_path.exists():
        print(f"generating {csv_path} ...", flush=True)
        subprocess.run([PY, str(SHARED / "bench" / "make_preds_csv.py"), str(csv_path), str(rows)], check=True)
    base_py = OUT / "baseline_pandas_torch.py"
    base_py.write_text(BASELINE)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"\n== cross-entropy over {csv_path.name} ({rows:,} rows × 10 logits, {size_mb:.0f} MB), {runs} runs each ==")

    lossctl = [LOSSCTL, "compute", "cross-entropy", str(csv_path), "--format", "json"]
    cases = {
        "baseline (pandas.read_csv + torch)": ([PY, str(base_py), str(csv_path)], None),
        "lossctl (pyarrow, threads)": (lossctl, {"LOSSCTL_CSV_ENGINE": "pyarrow", "LOSSCTL_CSV_THREADS": "1"}),
        "lossctl (pyarrow, one thread)": (lossctl, {"LOSSCTL_CSV_ENGINE": "pyarrow", "LOSSCTL_CSV_THREADS": "0"}),
        "lossctl (pandas reader)": (lossctl, {"LOSSCTL_CSV_ENGINE": "pandas"}),
        "lossctl (default)": (lossctl, {"LOSSCTL_CSV_ENGINE": "", "LOSSCTL_CSV_THREADS": ""}),
    }
    results: dict[str, list[tuple[float, int]]] = {k: [] for k in cases}
    values: dict[str, list[float]] = {k: [] for k in cases}
    picked: list[str] = []
    probe = "from lossctl.inputs import csv_engine, csv_threads; print(csv_engine(), int(csv_threads()))"
    for i in range(runs):
        picked.append(subprocess.run([PY, "-c", probe], capture_output=True, text=True,
                                     env={**os.environ, "LOSSCTL_CSV_ENGINE": "", "LOSSCTL_CSV_THREADS": ""}
                                     ).stdout.strip().replace(" 1", " threads").replace(" 0", " one thread"))
        for name, (cmd, env) in cases.items():
            wall, rss, out = timed(cmd, env)
            results[name].append((wall, rss))
            values[name].append(float(out) if name.startswith("baseline") else json.loads(out)["value"])
        print(f"  run {i + 1}/{runs}: " + ", ".join(f"{n}={results[n][-1][0]:.2f}s" for n in cases), flush=True)

    ref = values["baseline (pandas.read_csv + torch)"][0]
    base_wall = statistics.median(w for w, _ in results["baseline (pandas.read_csv + torch)"])
    base_rss = statistics.median(r for _, r in results["baseline (pandas.read_csv + torch)"])
    print(f"\n  {'':38} {'median wall':>11} {'÷ baseline':>10} {'peak RSS':>9} {'÷ baseline':>10}  value")
    ok = True
    for name in cases:
        wall = statistics.median(w for w, _ in results[name])
        rss = statistics.median(r for _, r in results[name])
        worst = max(abs(v - ref) / abs(ref) for v in values[name])
        match = worst <= 1e-9
        ok &= match
        print(f"  {name:38} {wall:10.2f}s {wall / base_wall:10.2f} {rss:7d}MB {rss / base_rss:10.2f}  "
              f"{values[name][0]!r} ({'matches torch, rel err ' + format(worst, '.1e') if match else 'MISMATCH'})")
    print(f"\n  the default reader (asked just before each round): {', '.join(picked)}")
    print(f"  all values match torch within rtol 1e-9: {'yes' if ok else 'NO'}")
    if not ok:
        raise SystemExit(1)


def bench_startup(runs: int) -> None:
    # an installed package has its bytecode cached; this environment may set PYTHONDONTWRITEBYTECODE
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "lossctl")], check=True, capture_output=True)
    cases = {
        'python -c "import typer, numpy"': [PY, "-c", "import typer, numpy"],
        "lossctl compute ... (table)": [LOSSCTL, "compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0"],
        "lossctl compute ... --format json": [LOSSCTL, "compute", "cross-entropy", "--input", "2,1,0.5", "--target", "0",
                                              "--format", "json"],
        "lossctl --help": [LOSSCTL, "--help"],
    }
    if shutil.which("hyperfine"):
        print(f"\n== start-up (hyperfine, {runs} runs each) ==")
        cmds = [" ".join(f"'{a}'" if " " in a or "," in a else a for a in c) for c in cases.values()]
        with tempfile.NamedTemporaryFile("r", suffix=".json") as tf:
            subprocess.run(["hyperfine", "-N", "-w", "3", "-r", str(runs), "--export-json", tf.name, *cmds],
                           check=True, capture_output=True)
            data = json.loads(Path(tf.name).read_text())["results"]
        times = {name: (r["median"], r["user"] + r["system"]) for name, r in zip(cases, data)}
    else:
        print(f"\n== start-up (timing loop, {runs} alternating runs each) ==")
        samples: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(runs):
            for name, cmd in cases.items():
                t0 = time.perf_counter()
                subprocess.run(cmd, capture_output=True, check=True)
                samples[name].append(time.perf_counter() - t0)
        times = {name: (statistics.median(v), float("nan")) for name, v in samples.items()}
    base = times['python -c "import typer, numpy"']
    print(f"  {'':38} {'median wall':>11} {'÷ baseline':>10} {'cpu (mean)':>10} {'÷ baseline':>10}")
    for name, (wall, cpu) in times.items():
        print(f"  {name:38} {wall * 1000:9.0f}ms {wall / base[0]:10.2f} {cpu * 1000:8.0f}ms {cpu / base[1]:10.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--startup-runs", type=int, default=40)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-startup", action="store_true")
    a = ap.parse_args()
    if not a.skip_startup:
        bench_startup(a.startup_runs)
    if not a.skip_big:
        bench_big(a.runs, a.rows)


if __name__ == "__main__":
    main()
