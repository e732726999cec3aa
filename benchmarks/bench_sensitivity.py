"""Time a 10-prior sensitivity sweep against one fit, whole process, as a user runs them.

Cases (Crins 2014 acute rejection, 6 studies, 4 chains × (1000 + 1000), warm caches)
  one fit     `bayesmeta fit binary crins2014_ar --json`
  sweep       `bayesmeta sensitivity crins2014_ar --priors sensitivity_rare_events --json`
              (10 prior configurations, one compile)
The target of issue 5: sweep ≤ 2 × one fit. Runs alternate (fit, sweep, fit, sweep, ...) so
that load from other processes hits both alike; wall-clock medians and CPU seconds
(user + system, all threads) are printed.

Then, in one process and after compiling, how to run the 10 configurations:
  sequential  sample, then summarise, one configuration after another
  pipelined   the next configuration samples (nutpie's threads) while Python summarises
              the previous one — what `sensitivity` does
  parallel    two configurations sample at once, one core each (2 cores here)

Effect sizes (the exact normal–normal model; whole process, same alternation):
  one exact fit   `bayesmeta fit effects crins2014_ar --cc 0.5 --json`
  prior sweep     `bayesmeta sensitivity crins2014_ar --model effects --cc 0.5 --json`
                  (sensitivity_log_ratio: 12 configurations)
  SMD sweep       `bayesmeta sensitivity normand1999_arms --model continuous --measure SMD`
                  (sensitivity_smd: 10 configurations)
  τ-scale curve   `... --model effects --cc 0.5 --tau-scale-curve halfnormal:0.05:3 --json`
                  (101 exact fits and the crossings' root finding)
and in one process (imports done): the sweep with its table and JSON document, and the
curve per grid point. Most of a whole-process run is Python importing numpy/scipy/pandas.

Run: .venv/bin/python benchmarks/bench_sensitivity.py [--repeats 3] [--skip-modes]
     [--skip-binary] [--skip-effects]
Writes benchmarks/results/bench_sensitivity.json (--skip-binary keeps its binary figures).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "bayesmeta"
FIT = ["fit", "binary", "crins2014_ar"]
SWEEP = ["sensitivity", "crins2014_ar", "--priors", "sensitivity_rare_events"]
EFFECT_CASES = {
    "one exact fit (fit effects)": ["fit", "effects", "crins2014_ar", "--cc", "0.5"],
    "12-prior exact sweep (log OR)": ["sensitivity", "crins2014_ar", "--model", "effects",
                                      "--cc", "0.5"],
    "10-prior exact sweep (SMD)": ["sensitivity", "normand1999_arms", "--model", "continuous",
                                   "--measure", "SMD", "--col", "study=source"],
    "tau-scale curve, 101 points": ["sensitivity", "crins2014_ar", "--model", "effects",
                                    "--cc", "0.5", "--tau-scale-curve", "halfnormal:0.05:3"],
}


def run(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one whole-process run."""
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([str(BIN), *args, "-q", "--json", str(Path(tmp) / "o.json")],
                              capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"failed: {args}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def sweep_modes(repeats: int) -> dict[str, float]:
    """Median seconds for the 10 configurations after compiling, by way of running them
    (the three ways alternate, ``repeats`` times, so that load hits them alike)."""
    import bayesmeta as bm
    from bayesmeta.api import BinaryFitter, load_binary
    from bayesmeta.inference.sampling import SamplerSettings
    from bayesmeta.models.binomial_normal import BinomialNormalPriors

    data = load_binary("crins2014_ar")
    prior_set = bm.load_priors("sensitivity_rare_events")
    configs = [BinomialNormalPriors(**c.priors) for c in prior_set.configurations]
    settings = SamplerSettings()
    one_core = SamplerSettings(cores=1)
    fitter = BinaryFitter(data, configs[0], settings.resolved_sampler)

    def summarise(fit):
        fit.prior_sensitivity()
        for q in ("log_or", "or", "tau", "theta_new", "or_new"):
            fit.posterior(q).summary(with_mcse=False)
        return fit

    def sequential():
        return [summarise(fitter.fit(p, settings)) for p in configs]

    def pipelined():
        fits, running = [], fitter.start(configs[0], settings)
        for i, p in enumerate(configs):
            idata, times = running.wait()
            running = fitter.start(configs[i + 1], settings) if i + 1 < len(configs) else None
            fits.append(summarise(fitter.result(idata, times, p, settings)))
        return fits

    def parallel():
        fits = []
        for i in range(0, len(configs), 2):
            pair = configs[i:i + 2]
            started = [fitter.start(p, one_core) for p in pair]
            fits += [summarise(fitter.finish(r, p, one_core))
                     for r, p in zip(started, pair, strict=True)]
        return fits

    ways = {"sequential": sequential, "pipelined": pipelined, "parallel": parallel}
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    medians: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, way in ways.items():
            t0 = time.perf_counter()
            fits = way()
            seconds[name].append(time.perf_counter() - t0)
            medians[name] = [f.posterior("log_or").median for f in fits]
    out: dict[str, float] = {name: statistics.median(v) for name, v in seconds.items()}
    out["same_draws"] = float(medians["sequential"] == medians["pipelined"]
                              == medians["parallel"])
    return out


def effects_in_process(repeats: int) -> dict[str, float]:
    """Median seconds inside one process: the exact sweep (fits, table and JSON document)
    and the τ-scale curve (per grid point, crossings included)."""
    import bayesmeta as bm

    data = bm.load_effects("crins2014_ar", cc=0.5)
    bm.sensitivity(data, model="effects").to_dict()  # warm-up: first-use imports
    sweep, curve = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = bm.sensitivity(data, model="effects", thresholds=[0.5])
        res.table()
        res.to_dict()
        sweep.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        c = bm.tau_scale_curve(data, "halfnormal:0.05:3", thresholds=[0.5])
        curve.append((time.perf_counter() - t0) / len(c.grid))
    return {"sweep_s": statistics.median(sweep), "configurations": len(res.rows),
            "curve_per_point_s": statistics.median(curve)}


def effects_benchmark(repeats: int) -> dict:
    """Whole-process runs of the effect-size cases (alternating), then in-process figures."""
    for args in EFFECT_CASES.values():
        run(args)
    walls: dict[str, list[tuple[float, float]]] = {name: [] for name in EFFECT_CASES}
    for _ in range(repeats):
        for name, args in EFFECT_CASES.items():
            walls[name].append(run(args))
    load = os.getloadavg()[0]
    print(f"\nEffect sizes, exact normal-normal model, whole process, median of {repeats} "
          f"(load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"{'case':<34}{'wall s':>8}{'cpu s':>8}")
    out: dict = {"load_average": load, "repeats": repeats, "whole_process": {}}
    for name, runs in walls.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:<34}{wall:>8.2f}{cpu:>8.2f}")
        out["whole_process"][name] = {"wall_s": [w for w, _ in runs],
                                      "cpu_s": [c for _, c in runs]}
    inside = effects_in_process(repeats)
    print(f"in one process: {inside['configurations']}-prior sweep with table and JSON "
          f"{inside['sweep_s'] * 1e3:.0f} ms; curve {inside['curve_per_point_s'] * 1e3:.1f} "
          "ms per point")
    out["in_process"] = inside
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-modes", action="store_true")
    parser.add_argument("--skip-binary", action="store_true",
                        help="Only the effect-size cases (keeps the saved binary figures).")
    parser.add_argument("--skip-effects", action="store_true")
    opts = parser.parse_args()
    out = ROOT / "benchmarks" / "results" / "bench_sensitivity.json"
    if opts.skip_binary:
        result = json.loads(out.read_text()) if out.exists() else {}
        if not opts.skip_effects:
            result["effects"] = effects_benchmark(opts.repeats)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nWrote {out.relative_to(ROOT)}")
        return
    run(FIT)  # make sure the compiled model is in PyTensor's cache
    run(SWEEP)
    fits, sweeps = [], []
    for _ in range(opts.repeats):
        fits.append(run(FIT))
        sweeps.append(run(SWEEP))
    fit_wall = statistics.median(w for w, _ in fits)
    sweep_wall = statistics.median(w for w, _ in sweeps)
    fit_cpu = statistics.median(c for _, c in fits)
    sweep_cpu = statistics.median(c for _, c in sweeps)
    load = os.getloadavg()[0]
    print(f"Whole process, Crins 2014 acute rejection, median of {opts.repeats} "
          f"(load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"{'case':<34}{'wall s':>8}{'cpu s':>8}")
    print(f"{'one fit (fit binary)':<34}{fit_wall:>8.2f}{fit_cpu:>8.2f}")
    print(f"{'10-prior sweep (sensitivity)':<34}{sweep_wall:>8.2f}{sweep_cpu:>8.2f}")
    print(f"{'sweep / fit':<34}{sweep_wall / fit_wall:>8.2f}{sweep_cpu / fit_cpu:>8.2f}"
          "   (target <= 2)")
    result = {"load_average": load, "repeats": opts.repeats,
              "fit": {"wall_s": [w for w, _ in fits], "cpu_s": [c for _, c in fits]},
              "sweep": {"wall_s": [w for w, _ in sweeps], "cpu_s": [c for _, c in sweeps]},
              "ratio_wall": sweep_wall / fit_wall, "ratio_cpu": sweep_cpu / fit_cpu}
    if not opts.skip_modes:
        modes = sweep_modes(opts.repeats)
        print(f"\n10 configurations after one compile, in one process (wall s, median of "
              f"{opts.repeats}):")
        for name in ("sequential", "pipelined", "parallel"):
            print(f"  {name:<12}{modes[name]:>8.2f}")
        print(f"  same draws in all three: {bool(modes['same_draws'])}")
        result["modes"] = modes
    if not opts.skip_effects:
        result["effects"] = effects_benchmark(opts.repeats)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nWrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
