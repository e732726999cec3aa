"""Time the normal–normal model: exact fit (in-process) next to MCMC, per dataset.

For each dataset, with the same (proper) priors for both methods:

  exact fit       bayesmeta.fit_effects(..., method="exact") — the quadrature posterior
  exact + report  the same plus every summary the user sees: to_dict() (quantiles, shortest
                  intervals of μ, τ, θ_new, the ratio scale and every shrunken θ_i, Bayes
                  factors) — what `bayesmeta fit effects --json` computes
  exact CLI       the whole `bayesmeta fit effects ... --json` process (imports included)
  MCMC            method="mcmc" in-process: build, compile (nutpie) and sample 4 × (1000 +
                  1000) draws; compile and sampling seconds reported separately

In-process figures are the median of --repeats runs after one warm-up run. The project's
target: an exact fit of 40 studies in <= 50 ms inside the process (R bayesmeta takes
0.5–50 s on the reference machine).

Run: .venv/bin/python benchmarks/bench_effects.py [--repeats 20] [--skip-mcmc]
Prints a table and writes benchmarks/results/bench_effects.json.
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


def simulated(k: int, seed: int) -> pd.DataFrame:
    """k studies of log ORs: true τ = 0.25, standard errors 0.1–0.6."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.1, 0.6, k)
    y = rng.normal(0.3, 0.25, k) + rng.normal(0, s)
    return pd.DataFrame({"study": [f"s{i}" for i in range(k)], "yi": y, "sei": s})


#: name -> (data, fit_effects keyword arguments, CLI arguments or None)
CASES = {
    "eight_schools (k=8)": ("eight_schools", dict(tau_prior="halfcauchy:25",
                                                  mu_prior="normal:0:100"),
                            ["eight_schools", "--tau-prior", "halfcauchy:25", "--mu-prior",
                             "normal:0:100"]),
    "crins2014_ar log OR (k=6)": ("crins2014_ar", dict(cc=0.5),
                                  ["crins2014_ar", "--cc", "0.5"]),
    "normand1999_md MD (k=9)": ("normand1999_md", dict(measure="MD", tau_prior="halfnormal:50",
                                                       mu_prior="normal:0:100"),
                                ["normand1999_md", "--measure", "MD", "--tau-prior",
                                 "halfnormal:50", "--mu-prior", "normal:0:100"]),
    "nissen2007_mi log OR (k=38)": ("nissen2007_mi", dict(cc=0.5),
                                    ["nissen2007_mi", "--cc", "0.5"]),
    "simulated log OR (k=40)": (simulated(40, 1), dict(measure="logOR"), None),
    "simulated log OR (k=1000)": (simulated(1000, 2), dict(measure="logOR"), None),
}


def timed(func, repeats: int) -> list[float]:
    func()  # warm-up (imports, caches)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        out.append(time.perf_counter() - t0)
    return out


def cli_seconds(args: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run([str(BIN), "fit", "effects", *args, "-q", "--json",
                               str(Path(tmp) / "fit.json")], capture_output=True, text=True,
                              cwd=ROOT)
        elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {args}\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-mcmc", action="store_true")
    opts = parser.parse_args()
    rows = []
    load_before = os.getloadavg()[0]
    for name, (data, kwargs, cli_args) in CASES.items():
        effects = bm.load_effects(data, measure=kwargs.get("measure"), cc=kwargs.get("cc"))
        fit_kw = {k: v for k, v in kwargs.items() if k not in ("measure", "cc")}
        fit = timed(lambda e=effects, kw=fit_kw: bm.fit_effects(e, **kw), opts.repeats)
        full = timed(lambda e=effects, kw=fit_kw: bm.fit_effects(e, **kw).to_dict(),
                     opts.repeats)
        row = {"case": name, "k": effects.k, "exact_fit_ms": 1e3 * statistics.median(fit),
               "exact_report_ms": 1e3 * statistics.median(full),
               "exact_cli_s": cli_seconds(cli_args) if cli_args else None}
        if not opts.skip_mcmc:
            t0 = time.perf_counter()
            res = bm.fit_effects(effects, method="mcmc", seed=1, **fit_kw)
            row.update(mcmc_s=time.perf_counter() - t0,
                       mcmc_compile_s=res.timings["compile_s"],
                       mcmc_sample_s=res.timings["sample_s"],
                       mcmc_ok=res.diagnostics.ok)
        rows.append(row)
        print(f"done: {name}", file=sys.stderr)
    header = (f"{'dataset':<30} {'exact fit':>10} {'+ report':>10} {'CLI':>7} "
              f"{'MCMC':>8} {'compile':>8} {'sample':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        cli = f"{r['exact_cli_s']:.2f} s" if r["exact_cli_s"] else "—"
        mcmc = (f"{r['mcmc_s']:6.1f} s {r['mcmc_compile_s']:6.1f} s {r['mcmc_sample_s']:5.1f} s"
                if "mcmc_s" in r else "—")
        print(f"{r['case']:<30} {r['exact_fit_ms']:7.1f} ms {r['exact_report_ms']:7.1f} ms "
              f"{cli:>7} {mcmc:>26}")
    load = (load_before, os.getloadavg()[0])
    out = ROOT / "benchmarks" / "results" / "bench_effects.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"loadavg_1min_before_after": load, "cpus": os.cpu_count(),
                               "rows": rows}, indent=2) + "\n")
    print(f"1-minute load average {load[0]:.1f} before, {load[1]:.1f} after, on "
          f"{os.cpu_count()} CPUs (figures are slower when the machine is shared)")
    print(f"\nexact: median of {opts.repeats} in-process runs; MCMC: one in-process run "
          f"(4 chains x 1000 + 1000, nutpie). Wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
