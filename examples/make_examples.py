"""Regenerate the bundled example predictions (deterministic): python examples/make_examples.py

- preds.csv    300 rows: label,logit_0..logit_4 (a 5-class classifier that is right ~70% of the time)
- preds.json   the first 8 of those rows as {"input": [[...], ...], "target": [...]}
- tokens.json  a language model's per-token log-probabilities for 3 sequences of different lengths
"""

import csv
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(2024)

n, c = 300, 5
label = rng.integers(0, c, n)
logits = rng.normal(0.0, 1.0, (n, c))
logits[np.arange(n), label] += 1.8  # the model leans towards the right class
logits = np.round(logits, 4)

with open(HERE / "preds.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["label"] + [f"logit_{i}" for i in range(c)])
    for y, row in zip(label.tolist(), logits.tolist()):
        w.writerow([y] + [repr(v) for v in row])

with open(HERE / "preds.json", "w") as f:
    json.dump({"input": logits[:8].tolist(), "target": label[:8].tolist()}, f, indent=1)
    f.write("\n")

lengths = [12, 5, 30]
seqs = [np.round(np.log(rng.uniform(0.05, 0.99, k)), 4).tolist() for k in lengths]
with open(HERE / "tokens.json", "w") as f:
    json.dump({"input": seqs}, f)
    f.write("\n")
