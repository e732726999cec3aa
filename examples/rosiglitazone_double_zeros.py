# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Rosiglitazone and myocardial infarction: double zeros and disagreeing methods
#
# Nissen & Wolski (NEJM 2007) pooled 42 trials of rosiglitazone and reported a higher risk
# of myocardial infarction (Peto OR 1.43, 95% CI 1.03 to 1.98). The analysis was contested
# for years, largely over *how to handle trials with few or no events*: 4 trials had no
# MI in either arm, 26 more had an empty arm. This lesson lines up the methods and shows
# where their answers come from.
#
# `BAYESMETA_EXAMPLE_FAST=1` runs it on small MCMC settings.

# %%
import os
from pathlib import Path

import numpy as np
import pandas as pd

import bayesmeta as bm

FAST = os.environ.get("BAYESMETA_EXAMPLE_FAST") == "1"
SAMPLING = (dict(chains=2, draws=500, tune=500) if FAST
            else dict(chains=4, draws=2000, tune=1000))
OUT = Path(os.environ.get("BAYESMETA_EXAMPLE_OUT", "example_output"))
OUT.mkdir(parents=True, exist_ok=True)
pd.set_option("display.width", 120)

# %% [markdown]
# ## The data: rare events, unequal arms

# %%
mi = bm.load_binary("nissen2007_mi")
ratio = mi.n_t / mi.n_c
print(f"{mi.k} trials; MI {int(mi.events_t.sum())}/{int(mi.n_t.sum())} on rosiglitazone, "
      f"{int(mi.events_c.sum())}/{int(mi.n_c.sum())} on control")
print(f"{int(mi.double_zero.sum())} double-zero trials; {int(mi.any_zero.sum())} with an "
      "empty cell")
print(f"allocation ratio (rosiglitazone : control): median {np.median(ratio):.2f}, "
      f"{int((ratio > 1.5).sum())} trials with more than 1.5 : 1")

# %% [markdown]
# ## Every method on the same data

# %%
methods = ["mh", "peto", "glmm", "fe", "dl", "reml", "reml-drop00", "reml-all", "reml-tacc",
           "reml-none", "reml-hksj", "binomial-normal"]
if not FAST:
    methods.append("conditional")
comparison = bm.compare(mi, methods=methods, **SAMPLING)
print(bm.render_comparison(comparison, label="nissen2007_mi"))
bm.plot_comparison(comparison, OUT / "rosiglitazone_comparison.png", force=True,
                   title="Nissen 2007, myocardial infarction")
print("Wrote", OUT / "rosiglitazone_comparison.png")

# %% [markdown]
# ## Two groups of answers
#
# * **Methods on the counts** — Mantel–Haenszel, Peto, the binomial GLMM, the Bayesian
#   binomial–normal model: OR ≈ 1.43 (log OR ≈ 0.36). MH and Peto give double-zero trials
#   no weight; the exact-likelihood models keep them, and they barely move the estimate.
# * **Inverse variance on log ORs with 0.5 added** — OR ≈ 1.24–1.29 (log OR ≈ 0.22–0.25),
#   with intervals that include 1.
#
# The second group is biased towards OR = 1 here, for a reason Sweeting, Sutton & Lambert
# (2004) spelled out: adding the same 0.5 to both arms of a trial with 2 : 1 allocation
# adds relatively more "events" to the smaller control arm, pulling each corrected log OR
# towards zero — and 26 of 42 trials are corrected. The treatment-arm correction, which
# splits the 0.5 + 0.5 in proportion to the arm sizes, moves the estimate most of the way
# back:

# %%
for name in ("reml-drop00", "reml-tacc", "mh"):
    row = comparison.row(name)
    print(f"{row.label:32s} OR {row.estimate:.3f}  ({row.lower:.3f} to {row.upper:.3f})")

# %% [markdown]
# The same happens in a Bayesian analysis that keeps the corrected log ORs: the
# normal–normal model on these log ORs (bayesmeta's R reference, τ ~ half-normal(0.5))
# gives μ ≈ 0.24, whereas the binomial models give θ ≈ 0.36. It is the likelihood — exact
# counts or corrected normal approximations — not "Bayes vs classical" that separates the
# answers. (The classical REML row is that normal–normal model's likelihood with τ̂ = 0.)
#
# ## Keeping or dropping double zeros
#
# With 0.5 added, keeping the four double-zero trials (metafor's default rule) gives
# 4 extra log ORs of exactly 0 and moves the REML estimate from 0.251 to 0.232 on the log
# scale. With the exact binomial likelihood a double-zero trial enters honestly: it says
# the event is rare in that population and adds almost nothing about the OR.

# %%
keep = comparison.row("reml")
drop = comparison.row("reml-drop00")
print(f"REML, 0.5 added, double zeros kept:    log OR {np.log(keep.estimate):.3f} "
      f"({keep.studies_used} trials)")
print(f"REML, 0.5 added, double zeros dropped: log OR {np.log(drop.estimate):.3f} "
      f"({drop.studies_used} trials)")
bayes = comparison.row("binomial-normal")
print(f"binomial-normal model (all {bayes.studies_used} trials): OR {bayes.estimate:.3f} "
      f"({bayes.lower:.3f} to {bayes.upper:.3f}); P(OR > 1) = {bayes.prob_above_null:.3f}")

# %% [markdown]
# ## And the HKSJ interval?
#
# With τ̂ = 0 the Hartung–Knapp interval (REML + HKSJ) is *narrower* than the normal one:
# its variance factor q = Σwᵢ(yᵢ − μ̂)²/(k − 1) is below 1 when the corrected log ORs scatter
# less than their (inflated) variances suggest. metafor does not truncate q at 1 by default;
# many recommend doing so ("ad hoc" HKSJ) exactly for cases like this.
#
# **Lesson:** with rare events and unequal arms, ask of every method what it does to empty
# cells. Methods on the exact counts agree with each other; the corrected inverse-variance
# methods agree with each other; the two groups disagree, and the counts are right.
