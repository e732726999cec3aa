"""Time the classical comparators, `bayesmeta compare`, `fit rates` and the conditional
likelihood as a user runs them.

Cases
  classical <method>     one classical analysis of Nissen 2007 MI (42 trials), in process
  compare --no-bayes     `bayesmeta compare crins2014_ar --no-bayes`, whole process
  compare                `bayesmeta compare crins2014_ar` (+ 2 Bayesian models), whole process
  fit rates              `bayesmeta fit rates hart1999_warfarin`, whole process
  fit binary nissen      binomial vs `--likelihood conditional`, whole process

Run: .venv/bin/python benchmarks/bench_compare.py [--repeats 3]
Prints a table of wall-clock seconds (median of repeats) and writes
benchmarks/results/bench_compare.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "bayesmeta"


def in_process(method: str, repeats: int, **options) -> float:
    import bayesmeta as bm

    data = bm.load_binary("nissen2007_mi")
    bm.fit_classical(data, method, **options)  # imports and first-call costs
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bm.fit_classical(data, method, **options)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def whole_process(args: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([str(BIN), *args, "-q"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONWARNINGS": "ignore"})
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    rows: list[tuple[str, float]] = []
    for label, method, options in (("MH", "MH", {}), ("Peto", "Peto", {}),
                                   ("REML, 0.5 added", "REML", {}),
                                   ("PM + HKSJ", "PM", {"test": "knha"}),
                                   ("binomial GLMM (ML)", "GLMM", {})):
        rows.append((f"classical {label} (Nissen, in process)",
                     in_process(method, repeats, **options)))
    rows.append(("compare crins2014_ar --no-bayes",
                 whole_process(["compare", "crins2014_ar", "--no-bayes"], repeats)))
    rows.append(("compare crins2014_ar (with 2 Bayesian models)",
                 whole_process(["compare", "crins2014_ar"], repeats)))
    rows.append(("fit rates hart1999_warfarin",
                 whole_process(["fit", "rates", "hart1999_warfarin"], repeats)))
    rows.append(("fit binary nissen2007_mi",
                 whole_process(["fit", "binary", "nissen2007_mi"], repeats)))
    rows.append(("fit binary nissen2007_mi --likelihood conditional",
                 whole_process(["fit", "binary", "nissen2007_mi", "--likelihood",
                                "conditional"], repeats)))
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  seconds (median of {repeats})")
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:8.3f}")
    load = os.getloadavg()[0]
    print(f"(1-minute load average at the end: {load:.2f})")
    out = ROOT / "benchmarks" / "results" / "bench_compare.json"
    out.write_text(json.dumps({"repeats": repeats, "loadavg_1min": load,
                               "cases": dict(rows)}, indent=2) + "\n")
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
