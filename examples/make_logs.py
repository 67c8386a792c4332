"""Regenerate the bundled example training logs (deterministic): python examples/make_logs.py

- hf-trainer.log  a Hugging Face Trainer console log (tqdm frames, loss dicts every 10 steps,
                  an eval dict every 100 steps, the final summary): 4 epochs of fine-tuning
                  where the eval loss bottoms out in epoch 2 and then climbs — overfitting.
- tutorial.log    the tutorial's five epochs: Epoch 1: Loss = 2.5 ... Epoch 5: Loss = 0.5
"""

import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(11)

steps, per_epoch, log_every, eval_every, lr0, warmup = 1000, 250, 10, 100, 5e-5, 50
lines = []
for s in range(log_every, steps + 1, log_every):
    lr = lr0 * s / warmup if s <= warmup else lr0 * (steps - s) / (steps - warmup)
    train = (0.05 + 2.2 * math.exp(-s / 180)) * math.exp(rng.normal(0, 0.04))
    bar = f"{100 * s // steps:3d}%|{'█' * (s * 10 // steps):<10}| {s}/{steps} [01:{s % 60:02d}<02:10,  7.41it/s]"
    grad = abs(rng.normal(0.6, 0.15)) * (1.0 if s > 100 else 2.5)
    lines.append(f"\r{bar}{{'loss': {train:.4f}, 'grad_norm': {grad:.6f}, "
                 f"'learning_rate': {lr:.4e}, 'epoch': {s / per_epoch:.2f}}}")
    if s % eval_every == 0:
        ev = 0.55 + 1.9 * math.exp(-s / 160) + 0.00055 * max(0, s - 420) + rng.normal(0, 0.01)
        lines.append(f"\r{bar}{{'eval_loss': {ev:.6f}, 'eval_runtime': 4.2131, "
                     f"'eval_samples_per_second': 237.35, 'eval_steps_per_second': 29.669, 'epoch': {s / per_epoch:.2f}}}")
lines.append("\r100%|██████████| 1000/1000 [02:15<00:00,  7.38it/s]{'train_runtime': 135.2, "
             "'train_samples_per_second': 59.17, 'train_steps_per_second': 7.396, 'train_loss': 0.4617, 'epoch': 4.0}")
(HERE / "hf-trainer.log").write_text("\n".join(lines) + "\n", encoding="utf-8")

(HERE / "tutorial.log").write_text(
    "".join(f"Epoch {i}: Loss = {v}\n" for i, v in enumerate([2.5, 1.8, 1.2, 0.8, 0.5], 1)), encoding="utf-8"
)
