"""Simulation-based calibration of a bayesmeta model (Talts et al. 2018), in parallel.

Run:  .venv/bin/python benchmarks/sbc.py --case binomial_normal --n 200 --workers 2 --force
      .venv/bin/python benchmarks/sbc.py --list
      .venv/bin/python benchmarks/sbc.py --case binomial_normal --n 100 --set swap_arms=True \
          --tag broken-swap          # a deliberately broken fit: must FAIL

Options of a case go through ``--set NAME=VALUE`` (Python literals, e.g. ``studies=(3,8)``,
``fit_tau='halfnormal:0.1'``). Prints a table of p-values (chi-square on the rank histogram,
arviz-stats' POT-C test on the PIT values, points outside the simultaneous ECDF band) and
writes ``benchmarks/results/sbc_<case>[_<tag>].json`` and ``.png`` (rank histograms and ECDF
bands). Exit status 0 when calibration passes, 1 when it fails. Existing result files are
kept unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesmeta.errors import InputError  # noqa: E402
from bayesmeta.files import check_writable  # noqa: E402
from bayesmeta.presentation.outputs import write_json  # noqa: E402
from bayesmeta.presentation.sbc_plot import plot_sbc  # noqa: E402
from bayesmeta.validation.sbc import CASES, DEFAULT_RANKS, make_case, run_sbc  # noqa: E402


def parse_set(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set {pair}: use NAME=VALUE")
        try:
            out[name.strip()] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[name.strip()] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="binomial_normal")
    parser.add_argument("--n", type=int, default=200, help="number of simulated datasets")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ranks", type=int, default=DEFAULT_RANKS,
                        help="rank values L + 1 (L thinned posterior draws)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--tag", default="", help="suffix of the result file names")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--force", action="store_true", help="overwrite result files")
    parser.add_argument("--list", action="store_true", help="list the SBC cases")
    args = parser.parse_args()
    if args.list:
        for name, (_, description) in CASES.items():
            print(f"{name:20s} {description}")
        return
    options = parse_set(args.set)
    stem = f"sbc_{args.case}" + (f"_{args.tag}" if args.tag else "")
    json_path, png_path = args.out / f"{stem}.json", args.out / f"{stem}.png"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        for path in (json_path, png_path):
            check_writable(path, force=args.force)
    except InputError as exc:
        raise SystemExit(str(exc)) from None
    case = make_case(args.case, tuple(sorted(options.items())))
    print(f"SBC {case.description}\n{args.n} simulations, seed {args.seed}, "
          f"{args.workers} worker process(es), L = {args.ranks - 1}", flush=True)
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % max(1, total // 20) == 0 or done == total:
            print(f"  {done}/{total} fits, {time.perf_counter() - t0:.0f} s", flush=True)

    result = run_sbc(args.case, n_sims=args.n, seed=args.seed, options=options,
                     n_ranks=args.ranks, workers=args.workers, progress=progress)
    doc = result.to_dict()
    print(f"\n{'quantity':16s} {'bins':>4s} {'chi2 p':>8s} {'POT-C p':>8s} "
          f"{'ECDF out':>8s}")
    for p, u in result.uniformity().items():
        print(f"{p:16s} {u.bins:4d} {u.chi2_p:8.3f} {u.pot_c_p:8.3f} {u.ecdf_outside:8d}")
    seconds = [o.seconds for o in result.outcomes]
    print(f"\nverdict: {'PASS' if result.passed else 'FAIL'} (every p >= "
          f"{result.threshold:.2g}: alpha {result.alpha} Bonferroni over "
          f"{2 * len(result.parameters)} tests)")
    if doc["min_ess_bulk"] is None:
        print("exact posterior CDFs: no draws, no divergences, no ESS")
    else:
        print(f"fits with divergences: {doc['sims_with_divergences']}/{result.n_sims}; "
              f"bulk ESS of the checked quantities: min {doc['min_ess_bulk']:.0f}, "
              f"median {doc['median_ess_bulk']:.0f}")
    compiling = ("" if doc["min_ess_bulk"] is None else
                 " (the first fit of each study count includes compiling)")
    print(f"wall time {result.seconds:.1f} s with {result.workers} worker(s); per fit "
          f"median {sorted(seconds)[len(seconds) // 2]:.3f} s, max {max(seconds):.2f} s"
          f"{compiling}")
    write_json(doc, json_path, force=args.force)
    plot_sbc(result, png_path, force=args.force)
    print(f"wrote {json_path} and {png_path}")
    sys.exit(0 if result.passed else 1)


if __name__ == "__main__":
    main()
