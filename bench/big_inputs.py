"""Big inputs: a ~2 GB training log and a ~2 GB predictions CSV with bounded memory.

usage: python bench/big_inputs.py [--dir DIR] [--gb 2.0] [--keep]

Builds the inputs by concatenating the bench generators' outputs (generated once in
bench/out/ if missing): the HF console log of /work/shared/bench/make_hf_log.py (1M steps,
110 MB) and the CSV of make_preds_csv.py (2M x 10 logits, 172 MB; header written once).
Each command runs as a subprocess under /usr/bin/time -v; the script prints wall time,
peak RSS and the first bytes of stdout, checks the CSV's value against the known mean of
one copy (the copies are identical, so the mean over N copies equals one copy's mean),
and deletes the big files afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SHARED = Path(os.environ.get("LOSSCTL_SHARED", ROOT.parent / "shared")) / "bench"
PY = sys.executable


def ensure_seed(name: str, make: list[str]) -> Path:
    path = OUT / name
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run([PY, *make, str(path), *([] if "hf" not in name else [])], check=True)
    return path


def concat(seed: Path, dest: Path, target_bytes: int, skip_header: bool) -> int:
    """Write copies of seed into dest until target_bytes; return the number of copies."""
    data = seed.read_bytes()
    header, body = b"", data
    if skip_header:
        nl = data.index(b"\n") + 1
        header, body = data[:nl], data[nl:]
    copies = max(1, -(-target_bytes // len(body)))
    with open(dest, "wb") as f:
        f.write(header)
        for _ in range(copies):
            f.write(body)
    return copies


def timed(cmd: list[str], stdout_path: Path, limit_gb: float | None = None) -> dict:
    def limit() -> None:
        if limit_gb:
            import resource

            n = int(limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (n, n))

    t0 = time.perf_counter()
    with open(stdout_path, "wb") as out:
        p = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=out, stderr=subprocess.PIPE, preexec_fn=limit)
    wall = time.perf_counter() - t0
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    rss_mb = int(m.group(1)) / 1024 if m else float("nan")
    lossctl_err = "\n".join(l for l in err.splitlines() if not l.startswith("\t") and "Command being timed" not in l)
    return {"cmd": " ".join(cmd[2:]), "code": p.returncode, "wall_s": round(wall, 1),
            "peak_rss_mb": round(rss_mb), "stderr": lossctl_err.strip()[:400]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/tmp/lossctl-big")
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only", choices=["log", "csv"], default=None)
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    target = int(a.gb * 1e9)
    results = []
    lossctl = [PY, "-m", "lossctl"]
    if a.only in (None, "log"):
        seed = OUT / "hf-1m.log"
        if not seed.exists():
            subprocess.run([PY, str(SHARED / "make_hf_log.py"), str(seed), "1000000"], check=True)
        big = d / "big.log"
        n = concat(seed, big, target, skip_header=False)
        size = big.stat().st_size
        print(f"log: {size/1e9:.2f} GB ({n} copies of {seed.name})", flush=True)
        for extra in (["--format", "csv"], ["--format", "table"]):
            r = timed(lossctl + ["parse", str(big), *extra], d / "parse.out")
            r["out_bytes"] = (d / "parse.out").stat().st_size
            r["input_gb"] = round(size / 1e9, 2)
            results.append(r)
            print(json.dumps(r), flush=True)
        # diagnose and plot build a DataFrame of every record (lossctl.parse_log): memory grows
        # with the log (~8 x its size), so they run on one copy (110 MB) under an address-space
        # limit; on the 2 GB log diagnose passed 22 GB of RSS before it was stopped.
        for cmd in (["diagnose", str(seed), "--format", "json"], ["plot", str(seed), "--width", "80"]):
            r = timed(lossctl + cmd, d / "diag.out", limit_gb=8)
            r["input_gb"] = round(seed.stat().st_size / 1e9, 2)
            results.append(r)
            print(json.dumps(r), flush=True)
        if not a.keep:
            big.unlink()
    if a.only in (None, "csv"):
        seed = OUT / "preds-2000000.csv"
        if not seed.exists():
            subprocess.run([PY, str(SHARED / "make_preds_csv.py"), str(seed), "2000000"], check=True)
        one = subprocess.run(lossctl + ["compute", "cross-entropy", str(seed), "--format", "json"],
                             capture_output=True, text=True)
        want = json.loads(one.stdout)["value"]
        big = d / "big.csv"
        n = concat(seed, big, target, skip_header=True)
        size = big.stat().st_size
        print(f"csv: {size/1e9:.2f} GB ({n} copies of {seed.name} rows)", flush=True)
        r = timed(lossctl + ["compute", "cross-entropy", str(big), "--format", "json"], d / "compute.out")
        got = json.loads((d / "compute.out").read_text())["value"] if r["code"] == 0 else None
        r.update(input_gb=round(size / 1e9, 2), value=got, one_copy_value=want,
                 rel_err=(abs(got - want) / abs(want)) if got is not None else None)
        results.append(r)
        print(json.dumps(r), flush=True)
        if not a.keep:
            big.unlink()
    (d / "results.json").write_text(json.dumps(results, indent=1))
    return 0 if all(r["code"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
