"""Time plots, influence and the report for the normal–normal (exact), Poisson–normal and
conditional models.

In-process (median of --repeats after one warm-up):
  exact influence   bm.influence(fit_effects(...)): every leave-one-study-out refit is an
                    exact fit (quadrature), no PSIS-LOO
  exact report      bm.build_report(fit, influence=...): 3 figures drawn and inlined

Whole process (`bayesmeta ...`, imports included; once):
  report effects    `bayesmeta report eight_schools --model effects ...` (fit, 8 refits, HTML)
  report rates      `bayesmeta report hart1999_warfarin --model rates` (NUTS, 6 refits)
  report conditional `bayesmeta report crins2014_ar --likelihood conditional` (NUTS, 6 refits)

Run: .venv/bin/python benchmarks/bench_views_models.py [--repeats 5] [--skip-mcmc]
Prints a table and writes benchmarks/results/bench_views_models.json (with the load
average: figures measured on a busy machine are marked so).
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
import pandas as pd

import bayesmeta as bm

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "bayesmeta"


def simulated(k: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.1, 0.6, k)
    return pd.DataFrame({"study": [f"s{i}" for i in range(k)],
                         "yi": rng.normal(0.3, 0.25, k) + rng.normal(0, s), "sei": s})


EXACT = {
    "eight_schools (k=8)": ("eight_schools", dict(tau_prior="halfcauchy:25")),
    "crins2014_ar log OR (k=6)": ("crins2014_ar", dict(measure="logOR", cc=0.5)),
    "nissen2007_mi log OR (k=38)": ("nissen2007_mi", dict(measure="logOR", cc=0.5)),
    "simulated log OR (k=100)": (simulated(100), dict(measure="logOR")),
}

CLI = {
    "report effects (k=8, exact)": ["report", "eight_schools", "--model", "effects",
                                    "--tau-prior", "halfcauchy:25"],
    "report rates (k=6, NUTS)": ["report", "hart1999_warfarin", "--model", "rates"],
    "report conditional (k=6, NUTS)": ["report", "crins2014_ar", "--likelihood",
                                       "conditional"],
}


def median_seconds(func, repeats: int) -> float:
    func()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-mcmc", action="store_true")
    args = parser.parse_args()
    rows = []
    for name, (data, options) in EXACT.items():
        fit = bm.fit_effects(data, **options)
        t_inf = median_seconds(lambda fit=fit: bm.influence(fit), args.repeats)
        inf = bm.influence(fit)
        t_rep = median_seconds(lambda fit=fit, inf=inf: bm.build_report(fit, influence=inf),
                               max(1, args.repeats // 2))
        rows.append({"case": name, "studies": fit.data.k, "influence_s": t_inf,
                     "per_refit_ms": 1000 * t_inf / fit.data.k, "report_s": t_rep})
    cli_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, cli_args in CLI.items():
            if args.skip_mcmc and "NUTS" in name:
                continue
            out = Path(tmp) / f"{len(cli_rows)}.html"
            t0 = time.perf_counter()
            proc = subprocess.run([str(BIN), *cli_args, "-o", str(out), "-q"],
                                  capture_output=True, text=True, cwd=ROOT)
            elapsed = time.perf_counter() - t0
            if proc.returncode != 0:
                raise SystemExit(f"failed: {cli_args}\n{proc.stderr}")
            cli_rows.append({"case": name, "seconds": elapsed})
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores"
          + ("  (busy machine: figures are under load)" if load[0] > 1 else ""))
    print(f"{'exact normal-normal':<30} {'k':>4} {'influence s':>12} {'ms/refit':>9} "
          f"{'report s':>9}")
    for r in rows:
        print(f"{r['case']:<30} {r['studies']:>4} {r['influence_s']:>12.3f} "
              f"{r['per_refit_ms']:>9.2f} {r['report_s']:>9.2f}")
    print(f"\n{'whole process':<32} {'seconds':>8}")
    for r in cli_rows:
        print(f"{r['case']:<32} {r['seconds']:>8.1f}")
    out = ROOT / "benchmarks" / "results" / "bench_views_models.json"
    out.write_text(json.dumps({"load_average": load, "exact": rows, "cli": cli_rows},
                              indent=2) + "\n")
    print(f"\nWrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
