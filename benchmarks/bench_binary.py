"""Time `bayesmeta fit binary` as a user runs it: whole process, cold and warm caches.

Cases
  crins cold   Crins 2014 (6 studies) with an empty compile cache (a new PyTensor
               base_compiledir each time): the model's numba kernel is compiled
  new data     6 simulated studies never fitted before, warm cache (a user's first run on
               their own data: the kernel serves any data, nothing is compiled)
  crins warm   Crins again: the compiled kernel is loaded from numba's cache
  crins pymc   the same with PyMC's own NUTS (--sampler pymc), warm cache
  1000 studies simulated binomial-normal data, whole process, nutpie and PyMC's NUTS

Run: .venv/bin/python benchmarks/bench_binary.py [--repeats 3] [--skip-large]
Prints a table of wall-clock seconds (median of repeats) and writes
benchmarks/results/bench_binary.json. The user's ~/.pytensor is never touched by the cold
case.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "bayesmeta"


def simulate(k: int, seed: int, path: Path) -> None:
    rng = np.random.default_rng(seed)
    n_t = rng.integers(50, 500, k)
    n_c = rng.integers(50, 500, k)
    mu = rng.normal(-3.0, 1.0, k)
    theta_i = 0.3 + 0.2 * rng.normal(size=k)
    ev_t = rng.binomial(n_t, 1 / (1 + np.exp(-(mu + theta_i / 2))))
    ev_c = rng.binomial(n_c, 1 / (1 + np.exp(-(mu - theta_i / 2))))
    lines = ["study,events_t,n_t,events_c,n_c"]
    lines += [f"s{i},{ev_t[i]},{n_t[i]},{ev_c[i]},{n_c[i]}" for i in range(k)]
    path.write_text("\n".join(lines) + "\n")


def run(args: list[str], compile_dir: Path | None = None) -> tuple[float, dict]:
    """Seconds of one whole `bayesmeta fit binary` process, and its JSON; ``compile_dir``:
    PyTensor's base_compiledir for this run (default: the user's)."""
    env = dict(os.environ)
    if compile_dir is not None:
        env["PYTENSOR_FLAGS"] = f"base_compiledir={compile_dir}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fit.json"
        t0 = time.perf_counter()
        proc = subprocess.run([str(BIN), "fit", "binary", *args, "-q", "--json", str(out)],
                              capture_output=True, text=True, cwd=ROOT, env=env)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"failed: {args}\n{proc.stderr}")
        return elapsed, json.loads(out.read_text())


def import_stack_seconds() -> float:
    """Wall time of a fresh interpreter importing PyMC, nutpie and ArviZ."""
    t0 = time.perf_counter()
    subprocess.run([str(BIN.with_name("python")), "-c", "import pymc, nutpie, arviz"],
                   check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-pymc-large", action="store_true",
                        help="skip PyMC's NUTS on 1,000 studies (slow)")
    opts = parser.parse_args()
    # A yardstick for the machine's speed on the day (the shared host varies by 2x between
    # days): the whole-process import of the stack every fit pays before any work.
    rows = [("yardstick: python -c 'import pymc, nutpie, arviz'",
             [import_stack_seconds() for _ in range(opts.repeats)], "")]
    cold = []
    for _ in range(opts.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            cold.append(run(["crins2014_ar"], compile_dir=Path(tmp) / "empty")[0])
    rows.append(("crins2014_ar, empty compile cache (nutpie)", cold, "<= 10"))
    run(["crins2014_ar"])  # the user's cache holds the kernel from here on
    with tempfile.TemporaryDirectory() as tmp:
        fresh = []
        for i in range(opts.repeats):
            path = Path(tmp) / f"new{i}.csv"
            simulate(6, 1000 + i + int(time.time()), path)  # never fitted before
            fresh.append(run([str(path)])[0])
    rows.append(("6 new studies, warm cache (nothing compiled)", fresh, ""))
    warm = [run(["crins2014_ar"])[0] for _ in range(opts.repeats)]
    rows.append(("crins2014_ar, warm cache (kernel loaded, nutpie)", warm, "<= 5"))
    run(["crins2014_ar", "--sampler", "pymc"])
    pymc = [run(["crins2014_ar", "--sampler", "pymc"])[0] for _ in range(opts.repeats)]
    rows.append(("crins2014_ar, warm cache (--sampler pymc)", pymc, ""))
    large_doc = None
    if not opts.skip_large:
        with tempfile.TemporaryDirectory() as tmp:
            sim = Path(tmp) / "sim1000.csv"
            simulate(1000, 7, sim)
            t, large_doc = run([str(sim)])
            rows.append(("1,000 simulated studies (nutpie, default)", [t], "< 60"))
            if not opts.skip_pymc_large:
                t_pymc, _ = run([str(sim), "--sampler", "pymc"])
                rows.append(("1,000 simulated studies (--sampler pymc)", [t_pymc], ""))
    print(f"{'case':<48} {'median s':>9} {'runs':>5}  target")
    print("-" * 72)
    for name, times, target in rows:
        print(f"{name:<48} {statistics.median(times):9.2f} {len(times):5d}  {target}")
    if large_doc:
        d = large_doc["diagnostics"]
        print(f"\n1,000 studies: max R-hat {d['max_rhat']:.3f}, min bulk ESS "
              f"{d['min_ess_bulk']:.0f}, divergences {d['divergences']}")
    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
          f"load average (1 min) {os.getloadavg()[0]:.2f}")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "bench_binary.json").write_text(json.dumps(
        [{"case": n, "seconds": t, "target": g} for n, t, g in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
