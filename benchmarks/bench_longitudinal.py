"""Time `bayesmeta fit longitudinal` as a user runs it: whole process, cold and warm caches.

Cases
  ishak cold     Ishak 2007 (46 studies, 4 times, AR(1)), empty PyTensor compile cache
                 (a fresh PYTENSOR_FLAGS=base_compiledir, so ~/.pytensor is not touched)
  ishak warm     the same again, per structure: ar1 (default), ar1 per-time tau, cs, un
  deng (K = 1)   one trial, one time point (the lupus example)
  500 studies    simulated: 6 time points, each study reporting a random subset (new data:
                 a new graph, compiled with warm kernels)

Run: .venv/bin/python benchmarks/bench_longitudinal.py [--repeats 3] [--skip-large]
Prints wall-clock seconds (median of repeats) with the compile and sampling seconds the
command reports, and writes benchmarks/results/bench_longitudinal.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "bayesmeta"
TIMING = re.compile(r"compiled in ([\d.]+) s, sampled in ([\d.]+) s")


def simulate(k: int, seed: int, path: Path) -> None:
    rng = np.random.default_rng(seed)
    times = np.array([1, 2, 3, 6, 9, 12])
    mu = np.array([-0.5, -0.8, -1.0, -1.2, -1.1, -1.0])
    tau = 0.4
    corr = 0.9 ** np.abs(times[:, None] - times[None, :])
    lines = ["study,time,yi,sei"]
    for i in range(k):
        keep = np.flatnonzero(rng.random(6) < 0.6)
        if keep.size == 0:
            keep = np.array([rng.integers(6)])
        u = rng.multivariate_normal(np.zeros(6), tau**2 * corr)
        se = rng.uniform(0.1, 0.6, 6)
        for j in keep:
            y = mu[j] + u[j] + se[j] * rng.normal()
            lines.append(f"s{i},{times[j]},{y:.4f},{se[j]:.4f}")
    path.write_text("\n".join(lines) + "\n")


def run(args: list[str], env: dict | None = None) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fit.json"
        t0 = time.perf_counter()
        proc = subprocess.run([str(BIN), "fit", "longitudinal", *args, "--json", str(out)],
                              capture_output=True, text=True, cwd=ROOT,
                              env=dict(os.environ, **(env or {})))
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"failed: {args}\n{proc.stderr}")
        match = TIMING.search(proc.stderr)
        compile_s, sample_s = (float(match.group(1)), float(match.group(2))) if match else (
            float("nan"), float("nan"))
        return elapsed, compile_s, sample_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true")
    opts = parser.parse_args()
    rows: list[tuple[str, list[tuple[float, float, float]]]] = []
    with tempfile.TemporaryDirectory() as cache:
        cold = run(["ishak2007"], env={"PYTENSOR_FLAGS": f"base_compiledir={cache}"})
    rows.append(("ishak2007 ar1, empty compile cache", [cold]))
    cases = [
        ("ishak2007 ar1 (default), warm cache", ["ishak2007"]),
        ("ishak2007 ar1, tau per time", ["ishak2007", "--tau-per-time"]),
        ("ishak2007 cs", ["ishak2007", "--structure", "cs"]),
        ("ishak2007 un (LKJ)", ["ishak2007", "--structure", "un"]),
        ("deng2017 SLEDAI (1 study, 1 time)", ["deng2017_sle", "--where", "outcome=sledai"]),
    ]
    for label, args in cases:
        run(args)  # fill the cache for this exact model
        rows.append((label, [run(args) for _ in range(opts.repeats)]))
    if not opts.skip_large:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sim.csv"
            simulate(500, 1, path)
            rows.append(("500 simulated studies, 6 times, new data", [run([str(path)])]))
    print(f"{'case':<45} {'wall s':>8} {'compile s':>10} {'sample s':>9}")
    doc = []
    for label, results in rows:
        wall = statistics.median(r[0] for r in results)
        comp = statistics.median(r[1] for r in results)
        samp = statistics.median(r[2] for r in results)
        print(f"{label:<45} {wall:8.1f} {comp:10.1f} {samp:9.1f}")
        doc.append({"case": label, "wall_s": [r[0] for r in results],
                    "compile_s": [r[1] for r in results], "sample_s": [r[2] for r in results]})
    out = ROOT / "benchmarks" / "results" / "bench_longitudinal.json"
    out.write_text(json.dumps({"load_average": os.getloadavg(), "cases": doc}, indent=2) + "\n")
    print(f"wrote {out} (1-minute load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
