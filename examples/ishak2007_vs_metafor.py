# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Ishak et al. 2007: the joint model over time next to metafor's `rma.mv`
#
# 46 studies of deep-brain stimulation in Parkinson's disease report the change in UPDRS
# motor score at up to four follow-ups (3, 6, 12, > 12 months). metafor's reference analysis
# (`tests/reference/scripts/07_metafor_longitudinal_dl.R`) fits
#
#     V   <- vcalc(vi, cluster = study, time1 = time, phi = 0.97)
#     fit <- rma.mv(yi, V, mods = ~ factor(time) - 1, random = ~ time | study, struct = "AR")
#
# with `time` the follow-up *index* 1–4 (equally spaced, as metafor's `"AR"` assumes) and a
# within-study correlation 0.97^|Δ index|. The same model in bayesmeta:
#
#     bayesmeta fit longitudinal ishak2007 --time-col timepoint --structure ar1 \
#         --within ar1 --rho-within 0.97            # add --tau-per-time for "HAR"
#
# REML maximises the likelihood of the variance parameters; the Bayesian fit reports the
# posterior median. They differ in known ways: μ's posterior given (τ, φ) is centred at the
# GLS estimate, so its median moves from REML's only by averaging over the uncertainty in
# (τ, φ) — a few hundredths of an SE here; τ and φ have skewed posteriors whose medians sit
# off the REML point (the mode) by a fraction of a posterior SD. `BAYESMETA_EXAMPLE_FAST=1`
# uses small sampler settings.

# %%
import json
import os
from pathlib import Path

import numpy as np

import bayesmeta as bm

FAST = os.environ.get("BAYESMETA_EXAMPLE_FAST") == "1"
SAMPLER = dict(chains=2, draws=500, tune=500) if FAST else dict(chains=4, draws=2000, tune=1000)
ROOT = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path("..")
REFERENCE = json.loads((ROOT / "tests" / "reference" /
                        "metafor_ishak2007_rmamv.json").read_text())

# %% [markdown]
# Fit both structures — one τ for all follow-ups ("AR") and one per follow-up ("HAR") —
# and put the posterior medians next to metafor's REML estimates.

# %%
rows = []
for struct in ("AR", "HAR"):
    res = bm.fit_longitudinal("ishak2007", time_col="timepoint", structure="ar1",
                              tau_per_time=(struct == "HAR"), within="ar1", rho_within=0.97,
                              seed=4, **SAMPLER)
    ref = REFERENCE[struct]
    tau_reml = np.sqrt(np.broadcast_to(ref["tau2"], (4,)))
    for k, t in enumerate(res.times):
        mu = res.posterior("mu", t)
        lo, hi = mu.interval()
        rows.append((struct, f"mu[{t:g}]", ref["beta"][k], f"{ref['ci_lb'][k]:.2f} to "
                     f"{ref['ci_ub'][k]:.2f}", mu.median, f"{lo:.2f} to {hi:.2f}",
                     (mu.median - ref["beta"][k]) / ref["se"][k]))
        if struct == "HAR" or k == 0:
            tau = res.posterior("tau", t)
            label = f"tau[{t:g}]" if struct == "HAR" else "tau"
            lo, hi = tau.interval()
            rows.append((struct, label, tau_reml[k], "", tau.median, f"{lo:.2f} to {hi:.2f}",
                         (tau.median - tau_reml[k]) / tau.sd))
    phi = res.posterior("phi")
    lo, hi = phi.interval()
    rows.append((struct, "phi", ref["rho"], "", phi.median, f"{lo:.3f} to {hi:.3f}",
                 (phi.median - ref["rho"]) / phi.sd))
    print(f"{struct}: {bm.diagnostics_text(res.diagnostics)}")

# %% [markdown]
# Differences are given in units of metafor's SE for μ and of the posterior SD for τ and φ.

# %%
print(f"{'':4} {'quantity':9} {'REML':>8} {'REML 95% CI':>17} {'median':>8} "
      f"{'95% CrI':>17} {'diff':>6}")
for struct, name, reml, ci, med, cri, diff in rows:
    print(f"{struct:4} {name:9} {reml:8.3f} {ci:>17} {med:8.3f} {cri:>17} {diff:6.2f}")
