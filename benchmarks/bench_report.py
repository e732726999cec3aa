"""Time the plots, the influence analysis and the HTML report as a user runs them (whole
process, default settings: 4 chains × 1,000 draws, warm PyTensor cache).

Cases
  plot forest        `bayesmeta plot forest crins2014_ar -o f.png` (fit + plot)
  plot from fit      `bayesmeta plot forest fit.nc -o f.png` (a saved fit, no refit)
  influence crins    `bayesmeta influence crins2014_ar` (fit + PSIS-LOO + 6 refits)
  report crins       `bayesmeta report crins2014_ar` (fit, 6 refits, 5 figures, HTML)
  report msc         `bayesmeta report msc_serious_ae --threshold 2` (11 refits)
  report msc no-refits  the same with --no-refits (PSIS-LOO only)

Run: .venv/bin/python benchmarks/bench_report.py [--repeats 1]
Prints a table of wall-clock seconds (median of repeats) and writes
benchmarks/results/bench_report.json. Leave-one-out refits recompile the model for each
study (~2 s each); a compile-once refit would remove most of that.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "bayesmeta"


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([str(BIN), *args, "-q"], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {args}\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        timed(["fit", "binary", "crins2014_ar", "--save", str(out / "fit.nc")])  # warm-up
        cases = [
            ("plot forest (fit + plot)", lambda i: ["plot", "forest", "crins2014_ar", "-o",
                                                    str(out / f"f{i}.png")]),
            ("plot forest from a saved fit", lambda i: ["plot", "forest", str(out / "fit.nc"),
                                                        "-o", str(out / f"g{i}.png")]),
            ("influence crins2014_ar (6 refits)", lambda i: ["influence", "crins2014_ar"]),
            ("report crins2014_ar (6 refits)", lambda i: ["report", "crins2014_ar", "-o",
                                                          str(out / f"c{i}.html")]),
            ("report msc_serious_ae (11 refits)", lambda i: [
                "report", "msc_serious_ae", "--threshold", "2", "-o", str(out / f"m{i}.html")]),
            ("report msc_serious_ae --no-refits", lambda i: [
                "report", "msc_serious_ae", "--threshold", "2", "--no-refits", "-o",
                str(out / f"n{i}.html")]),
        ]
        for name, make in cases:
            seconds = [timed(make(i)) for i in range(args.repeats)]
            rows.append({"case": name, "seconds": seconds})
            print(f"{name:<40} {statistics.median(seconds):7.1f} s", flush=True)
    target = ROOT / "benchmarks" / "results" / "bench_report.json"
    target.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
