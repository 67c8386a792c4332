"""Benchmarks for ``lossctl diagnose`` (not run by the test suite).

    .venv/bin/python bench/bench_diagnose.py speed [--points 1000000] [--repeat 5]
    .venv/bin/python bench/bench_diagnose.py suite [--seeds 0:300]
    .venv/bin/python bench/bench_diagnose.py suite --held-out

``speed``: a tidy frame of N train-loss points (plus learning rate and grad norm
at every step and an eval every N/1000 steps, i.e. 3N + 1000 rows, as parse_log
returns it) is diagnosed; the time after parsing is reported as the median of
``--repeat`` runs, split into picking the curves from the frame and the
statistics + rules. Target: ≤ 2 s for 1,000,000 points.

``suite``: the labelled synthetic generator (tests/synth.py) over many seeds,
long curves (up to 100,000 points) included: agreement, false alarms on healthy
runs, confusion matrix. ``--held-out`` uses ``synth.HELD_OUT_SEEDS``, seeds the
rules were never tuned on.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def big_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = np.arange(1, n + 1, dtype=np.float64)
    t = steps / n
    loss = (2.5 * np.exp(-3 * t) + 0.3) * (1 + 0.05 * rng.standard_normal(n))
    loss[rng.integers(n // 5, n, 20)] *= 3.0  # a few recovering spikes
    lr = np.where(t < 0.02, 5e-5 * t / 0.02, 5e-5 * (1 - t))
    gn = np.abs(1 + 0.3 * rng.standard_normal(n))
    ev_idx = np.arange(n // 1000 - 1, n, n // 1000)
    ev = 2.5 * np.exp(-3 * t[ev_idx]) + 0.4 + 0.3 * np.maximum(t[ev_idx] - 0.6, 0)
    epoch = t * 3
    parts = [
        pd.DataFrame({"step": steps, "epoch": epoch, "split": "train", "metric": "loss", "value": loss, "name": "loss"}),
        pd.DataFrame({"step": steps, "epoch": epoch, "split": "train", "metric": "learning_rate", "value": lr, "name": "learning_rate"}),
        pd.DataFrame({"step": steps, "epoch": epoch, "split": "train", "metric": "grad_norm", "value": gn, "name": "grad_norm"}),
        pd.DataFrame({"step": steps[ev_idx], "epoch": epoch[ev_idx], "split": "eval", "metric": "loss", "value": ev, "name": "eval_loss"}),
    ]
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "run", 1)
    df["time"] = np.nan
    df["line"] = np.arange(len(df)) + 1
    df.attrs["hparams"] = {"logging_steps": 1, "learning_rate": 5e-5}
    df.attrs["format"] = "hf-console"
    return df


def speed(n: int, repeat: int) -> None:
    from lossctl.diagnose import curves_from_frame, diagnose, diagnose_curves

    df = big_frame(n)
    diagnose(df)  # warm-up (imports, first-call costs)
    pick, rules, total = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        c = curves_from_frame(df)
        t1 = time.perf_counter()
        d = diagnose_curves(c)
        t2 = time.perf_counter()
        pick.append(t1 - t0)
        rules.append(t2 - t1)
        total.append(t2 - t0)
    print(f"points={n:,} rows={len(df):,} verdict={d.verdict} findings={[f.code for f in d.findings]}")
    print(f"median of {repeat}: total {statistics.median(total):.3f}s = frame→curves {statistics.median(pick):.3f}s"
          f" + statistics/rules {statistics.median(rules):.3f}s (max total {max(total):.3f}s)")


def suite(seeds, held_out: bool) -> None:
    import synth
    from lossctl.diagnose import diagnose

    conf = Counter()
    t0 = time.perf_counter()
    n = ok = 0
    for c in synth.suite(seeds, long_ok=True):
        v = diagnose(c.df).verdict
        conf[(c.label, v)] += 1
        n += 1
        ok += v == c.label
    dt = time.perf_counter() - t0
    healthy = sum(v for (a, _), v in conf.items() if a == "converging")
    alarms = sum(v for (a, b), v in conf.items() if a == "converging" and b != "converging")
    nan_conv = conf[("diverged", "converging")]
    print(f"{'held-out' if held_out else 'suite'} seeds {seeds.start}..{seeds.stop - 1}: {n} curves in {dt:.1f}s")
    print(f"agreement {ok}/{n} = {ok / n:.3f}; false alarms on healthy {alarms}/{healthy} = {alarms / max(healthy, 1):.3f};"
          f" diverged called converging: {nan_conv}")
    labs = synth.LABELS
    print("true \\ predicted".ljust(18) + "".join(b[:11].rjust(12) for b in labs))
    for a in labs:
        print(a.ljust(18) + "".join(str(conf[(a, b)]).rjust(12) for b in labs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--points", type=int, default=1_000_000)
    sp.add_argument("--repeat", type=int, default=5)
    ss = sub.add_parser("suite")
    ss.add_argument("--seeds", default="0:300")
    ss.add_argument("--held-out", action="store_true")
    a = ap.parse_args()
    if a.cmd == "speed":
        speed(a.points, a.repeat)
    else:
        import synth

        if a.held_out:
            seeds = synth.HELD_OUT_SEEDS
        else:
            lo, hi = (int(x) for x in a.seeds.split(":"))
            seeds = range(lo, hi)
        suite(seeds, a.held_out)


if __name__ == "__main__":
    main()
