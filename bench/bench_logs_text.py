"""Benchmark the text log parsers (not a test: run it by hand).

    .venv/bin/python bench/bench_logs_text.py [N]

For every text format: lines per second of ``parse()`` on N generated lines of that
format (every line a loss line), and on N lines of unrelated chatter (what most of a
real log is). The parsers get already-cleaned lines, as from the reader, so this
measures the format modules alone. Target: well over 500k lines/s on chatter.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time

from lossctl.logs.base import ParseContext

LINES = {
    "megatron": lambda i: (
        f" iteration {i:8d}/ 1000000 | consumed samples: {i * 64:12d} | elapsed time per iteration (ms): 812.4 |"
        f" learning rate: 1.875E-05 | global batch size:    64 | lm loss: {2 + 1 / (i + 1):.6E} | loss scale: 65536.0 |"
        " grad norm: 1.408 | number of skipped iterations:   0 | number of nan iterations:   0 |"),
    "keras_console": lambda i: (
        f"Epoch {i + 1}/1000000" if i % 2 == 0 else
        f"250/250 [==============================] - 3s 12ms/step - loss: {1 / (i + 1):.4f} - accuracy: 0.8000 - val_loss: 0.6000"),
    "nanogpt": lambda i: f"step {i:5d} | loss: {3 + 1 / (i + 1):.6f} | lr 6.0000e-04 | norm: 0.3356 | dt: 404.01ms | tok/sec: 1297697.25",
    "mmdet_text": lambda i: (
        f"Epoch(train)  [{i // 1000 + 1}][{i % 1000 + 1}/1000]  lr: 1.0000e-02  eta: 0:59:17  time: 0.4132  data_time: 0.0130"
        f"  memory: 3200  grad_norm: 4.1  loss: {1 / (i + 1):.4f}  loss_cls: 0.6000  acc: 90.0000"),
    "fairseq": lambda i: (
        f"epoch {i // 1000 + 1:03d}:    {i % 1000} / 1000 loss=9.8, nll_loss=9.1, ppl=551.2, wps=9000, ups=2.1,"
        f" num_updates={i + 1}, lr=1.25e-05, gnorm=2.5, train_wall=44, wall=48"),
    "timm": lambda i: (
        f"Train: {i // 1000} [{i % 1000:4d}/1000 ( 50%)]  Loss: {5 + 1 / (i + 1):.3f} (5.330)  Time: 0.312s, 410.21/s"
        "  (0.320s, 400.00/s)  LR: 1.000e-03  Data: 0.001 (0.002)"),
    "caffe": lambda i: f"I0412 10:23:45.602117  4821 solver.cpp:218] Iteration {i}, loss = {1 / (i + 1):.6f}",
    "dllogger": lambda i: f'DLLL {{"elapsedtime": "{i}.0", "type": "LOG", "step": [0, {i}], "data": {{"loss": {1 / (i + 1)}}}}}',
    "avgmeter": lambda i: (
        f"Epoch: [{i // 1000}][{i % 1000:4d}/1000]\tTime  0.214 ( 0.511)\tData  0.001 ( 0.215)\tLoss {1 / (i + 1):.4e} (6.9e+00)"
        "\tAcc@1   0.00 (  0.10)\tAcc@5   0.78 (  0.49)"),
    "plaintext": lambda i: f"Epoch [{i + 1}/1000000], Train Loss: {1 / (i + 1):.4f}, Train Acc: 20.34%, Val Loss: 1.9097, Val Acc: 17.37%",
}

CHATTER = [
    "INFO - Saving model checkpoint to output/checkpoint-{i}",
    "rank 1 sample 0: Hello, I'm a language model, and the {i} students are here.",
    "[Rank 12] (after {i} iterations) memory (MB) | allocated: 15492.8 | max allocated: 15492.8",
    "time (ms) | forward-compute: 28097.78 | forward-recv: 1499.86 | backward-compute: {i}.06",
    "trainable parameter:  module.Mixed_5b.branch5x5_{i}.conv.weight",
    "Downloading shard {i} of 99 from the hub (this may take a while)",
]


def bench(mod, lines: list[str], repeat: int = 5) -> tuple[float, int]:
    times = []
    n = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = sum(1 for _ in mod.parse(lines, ParseContext()))
        times.append(time.perf_counter() - t0)
    return statistics.median(times), n


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    chatter = [CHATTER[i % len(CHATTER)].format(i=i) for i in range(n)]
    print(f"{'format':<15}{'loss lines/s':>15}{'records':>10}{'chatter lines/s':>18}")
    for name, make in LINES.items():
        mod = importlib.import_module(f"lossctl.logs.{name}")
        lines = [make(i) for i in range(n)]
        t_loss, recs = bench(mod, lines)
        t_chat, junk = bench(mod, chatter)
        assert junk == 0, f"{name} read {junk} records from chatter"
        print(f"{name:<15}{n / t_loss:>15,.0f}{recs:>10}{n / t_chat:>18,.0f}")


if __name__ == "__main__":
    main()
