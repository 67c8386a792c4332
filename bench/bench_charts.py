"""Benchmark the chart renderables on large series (not a test: run it by hand).

    .venv/bin/python bench/bench_charts.py [N]

Prints the median wall time of several renders for each case. The point: the
line chart downsamples with vectorised numpy (per pixel column min and max), so
1,000,000 points render in well under a second; the EMA smoothing is blockwise
vectorised too.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from lossctl.charts import BarChart, LineChart, Series, Sparkline, tb_smooth


def bench(label: str, fn, repeat: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"{label:<55} median {med * 1000:8.1f} ms   (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})")
    return med


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = np.random.default_rng(0)
    x = np.arange(n, dtype=np.float64)
    train = 0.3 + 2.2 * np.exp(-x / (n / 5)) + 0.05 * rng.standard_normal(n)
    evalv = 0.6 + 2.0 * np.exp(-x / (n / 4)) + 0.05 * rng.standard_normal(n)
    train[rng.integers(0, n, 100)] = np.nan
    shuffled = rng.permutation(n)
    print(f"{n:,} points per series")
    bench("line chart, braille, 1 series, 200x50", lambda: LineChart([Series(x, train, "train")], height=50).to_text(200))
    bench("line chart, braille, 1 series, 80x15", lambda: LineChart([Series(x, train, "train")]).to_text(80))
    bench("line chart, ascii, 2 series, 120x30",
          lambda: LineChart([Series(x, train, "train"), Series(x, evalv, "eval")], ascii=True, height=30).to_text(120))
    bench("line chart, block, 2 series, 120x30",
          lambda: LineChart([Series(x, train, "train"), Series(x, evalv, "eval")], glyphs="block", height=30).to_text(120))
    bench("line chart, unsorted x (argsort), 80x15",
          lambda: LineChart([Series(x[shuffled], train[shuffled], "t")]).to_text(80))
    bench("line chart, --smooth 0.6 (EMA + raw layer), 80x15",
          lambda: LineChart([Series(x, train, "train")], smooth=0.6).to_text(80))
    bench("tb_smooth alone, w=0.6", lambda: tb_smooth(train, 0.6))
    bench("tb_smooth alone, w=0.99", lambda: tb_smooth(train, 0.99))
    bench("bar chart from points (30 buckets)", lambda: BarChart.from_points(x, train).to_text(80))
    bench("sparkline, 40 cells", lambda: Sparkline(train, width=40).to_text())


if __name__ == "__main__":
    main()
