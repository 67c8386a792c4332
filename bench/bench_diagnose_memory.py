"""Peak memory and time of ``lossctl diagnose`` and ``lossctl plot`` on big logs (issue #6).

    .venv/bin/python bench/bench_diagnose_memory.py                       # bench/out/hf-1m.log
    .venv/bin/python bench/bench_diagnose_memory.py big.log --impl new     # only the streamed path
    .venv/bin/python bench/bench_diagnose_memory.py --make 4500000         # a ~500 MB log in TMPDIR, deleted after

Each command runs in its own process under ``/usr/bin/time -f "%e %U %M"``: wall
seconds, user CPU seconds, peak RSS.

- ``new``: the commands as they are (``lossctl diagnose LOG -f json``, ``lossctl plot
  LOG --width 80``): the series they use are read from streamed records into compact
  arrays (lossctl.logs.curveset);
- ``old``: what the commands did before, in a Python one-liner: ``parse_log`` (a
  DataFrame of every record), then ``diagnose.diagnose_runs(df)`` / ``render.select_curves(df)``,
  same rendering.

The outputs of ``old`` and ``new`` are compared byte for byte (they must be equal).
``bench/out/hf-1m.log`` is made with ``python /work/shared/bench/make_hf_log.py
bench/out/hf-1m.log 1000000`` when missing. Wall time depends on what else runs on
the machine; user CPU time is the fairer comparison on a busy one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
LOSSCTL = [PY, "-m", "lossctl"]
MAKE = Path(os.environ.get("LOSSCTL_SHARED", ROOT.parent / "shared")) / "bench" / "make_hf_log.py"

OLD_DIAGNOSE = """
import sys
from lossctl.diagnose import diagnose_runs
from lossctl.diagnose_cli import emit, sort_runs
ds = diagnose_runs(sys.argv[1])
emit(sort_runs(ds) if len(ds) > 1 else ds, fmt="json", lang="en", many=len(ds) > 1)
"""

OLD_PLOT = """
import sys
from lossctl import parse_log, render
df = parse_log(sys.argv[1])
curves = render.select_curves(df, source=sys.argv[1], metric="loss", splits=None, file_label=None)
render.show(render.build_charts(curves, metric="loss", width=80), width=80)
"""


def command(cmd: str, impl: str, log: str) -> list[str]:
    if impl == "old":
        return [PY, "-c", OLD_DIAGNOSE if cmd == "diagnose" else OLD_PLOT, log]
    if cmd == "diagnose":
        return LOSSCTL + ["diagnose", log, "--format", "json"]
    return LOSSCTL + ["plot", log, "--width", "80"]


def measure(argv: list[str], out_path: str) -> tuple[float, float, float]:
    """(wall s, user s, peak RSS MB) of one process; its stdout goes to out_path."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf, open(out_path, "w") as out:
        env = dict(os.environ, COLUMNS="80", NO_COLOR="1")
        r = subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", "%e %U %M"] + argv, stdout=out,
                           stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:4])}... failed ({r.returncode}): {r.stderr[-500:]}")
        wall, user, kb = tf.read().split()[-3:]
    return float(wall), float(user), int(kb) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="*", help="logs to run on (default: bench/out/hf-1m.log)")
    ap.add_argument("--impl", default="old,new", help="old, new or old,new (default)")
    ap.add_argument("--commands", default="diagnose,plot")
    ap.add_argument("--make", type=int, metavar="STEPS", help="make an HF console log of STEPS steps in TMPDIR (deleted after)")
    a = ap.parse_args()
    made = None
    logs = list(a.logs)
    if a.make:
        fd, made = tempfile.mkstemp(prefix=f"hf-{a.make}-", suffix=".log")
        os.close(fd)
        subprocess.run([PY, str(MAKE), made, str(a.make)], check=True)
        logs.append(made)
    if not logs:
        default = ROOT / "bench" / "out" / "hf-1m.log"
        if not default.exists():
            default.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([PY, str(MAKE), str(default), "1000000"], check=True)
        logs = [str(default)]
    try:
        print(f"{'log':<28} {'MB':>6}  {'command':<9} {'impl':<4} {'wall s':>7} {'user s':>7} {'peak RSS MB':>12}")
        for log in logs:
            size = os.path.getsize(log) / 2**20
            for cmd in a.commands.split(","):
                outs = {}
                for impl in a.impl.split(","):
                    out = f"{tempfile.gettempdir()}/bench-{cmd}-{impl}-{os.getpid()}.out"
                    wall, user, mb = measure(command(cmd, impl, log), out)
                    outs[impl] = Path(out).read_bytes()
                    os.unlink(out)
                    print(f"{Path(log).name:<28} {size:>6.0f}  {cmd:<9} {impl:<4} {wall:>7.1f} {user:>7.1f} {mb:>12.0f}",
                          flush=True)
                if len(outs) == 2:
                    print(f"{'':<36}{cmd}: old and new output " + ("identical" if len(set(outs.values())) == 1 else "DIFFER"),
                          flush=True)
    finally:
        if made:
            os.unlink(made)


if __name__ == "__main__":
    main()
