"""Self-contained HTML reports for two bundled datasets, through the Python API.

* Crins et al. (2014): IL-2 receptor antagonists in paediatric liver transplantation,
  acute rejection (6 studies, one with a zero cell) — does the treatment prevent rejection?
* MSC therapy vs control: patients with a serious adverse event (11 randomised trials, most
  with no events in either arm) — is it harmful, and is a doubling of the odds ruled out?

Run:   python examples/reports_msc_crins.py [OUTDIR] [--force]
       (default OUTDIR: ./bayesmeta-reports; existing reports are kept unless --force)
Fast:  BAYESMETA_EXAMPLE_FAST=1 python examples/reports_msc_crins.py OUTDIR
       (2 chains × 300 draws and PSIS-LOO without the leave-one-study-out refits, which
       refit the model once per study: for trying it out and for the test suite, not for
       results)

Each report holds the data, the model in math, priors with sources, results, harm in plain
words, PSIS-LOO and leave-one-study-out refits, sampler diagnostics, the plots, a methods
paragraph with citations, software versions and the seed. The same reports from the shell:
    bayesmeta report crins2014_ar --model binary -o crins.html
    bayesmeta report msc_serious_ae --model binary --threshold 2 -o msc.html
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import bayesmeta as bm
from bayesmeta.files import check_writable
from bayesmeta.presentation.progress import TerminalProgress

#: (output file, bundled dataset, harm threshold for the OR, title)
ANALYSES = [
    ("crins2014_acute_rejection.html", "crins2014_ar", None,
     "IL-2 receptor antagonists and acute rejection after paediatric liver transplantation"),
    ("msc_serious_adverse_events.html", "msc_serious_ae", 2.0,
     "Mesenchymal stromal cell therapy: serious adverse events"),
]


def fast() -> bool:
    return os.environ.get("BAYESMETA_EXAMPLE_FAST") == "1"


def settings() -> dict[str, int]:
    """Sampler settings: 4 × 2,000 draws, or small ones with BAYESMETA_EXAMPLE_FAST=1."""
    if fast():
        return {"chains": 2, "draws": 300, "tune": 300}
    return {"chains": 4, "draws": 2000, "tune": 1000}


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", nargs="?", default="bayesmeta-reports", type=Path)
    parser.add_argument("--force", action="store_true", help="overwrite existing reports")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    targets = [args.outdir / name for name, *_ in ANALYSES]
    for target in targets:  # refuse before any work, not after
        try:
            check_writable(target, force=args.force)
        except bm.BayesmetaError as exc:
            sys.exit(f"{exc}")
    progress = TerminalProgress()
    written = []
    for target, (_, dataset, threshold, title) in zip(targets, ANALYSES, strict=True):
        progress.stage(f"{dataset}: fitting the binomial-normal model")
        res = bm.fit_binary(dataset, seed=2024, progress=progress,
                            thresholds=[] if threshold is None else [threshold],
                            **settings())
        progress.stage(f"{dataset}: influence (PSIS-LOO"
                       + (")" if fast() else " and leave-one-study-out refits)"))
        influence = bm.influence(res, threshold=threshold, refits=not fast(),
                                 progress=progress)
        html = bm.build_report(res, influence=influence, title=title, label=dataset,
                               threshold=threshold,
                               command=f"python examples/{Path(__file__).name}")
        bm.write_report(html, target, force=args.force)
        progress.finished(f"wrote {target}")
        written.append(target)
    return written


if __name__ == "__main__":
    main()
