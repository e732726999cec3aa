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
# # What continuity corrections do with few, sparse trials (Crins et al. 2014)
#
# Interleukin-2 receptor antagonists after paediatric liver transplantation: six controlled
# studies of **acute rejection** (common: 14/61 vs 15/20, ...) and three of
# **post-transplant lymphoproliferative disease (PTLD)** (rare: 0/18 vs 0/12, 1/54 vs 0/54,
# 1/36 vs 1/36). The log odds ratio of a table with an empty cell is ±∞, so the
# inverse-variance methods add something — usually 0.5 — to its cells. This lesson shows
# when that is harmless and when the number you add *is* the answer.
#
# `BAYESMETA_EXAMPLE_FAST=1` runs it on small MCMC settings.

# %%
import os
from pathlib import Path

import pandas as pd

import bayesmeta as bm

FAST = os.environ.get("BAYESMETA_EXAMPLE_FAST") == "1"
SAMPLING = (dict(chains=2, draws=500, tune=500) if FAST
            else dict(chains=4, draws=2000, tune=1000))
OUT = Path(os.environ.get("BAYESMETA_EXAMPLE_OUT", "example_output"))
OUT.mkdir(parents=True, exist_ok=True)
pd.set_option("display.width", 120)

# %% [markdown]
# ## Acute rejection: one zero among many events
#
# Only Gras (2008) has an empty cell (0/50 vs 3/34). Every method — whatever it does to that
# cell — lands near OR ≈ 0.2.

# %%
ar = bm.compare("crins2014_ar", bayesian=False)
print(bm.render_comparison(ar, label="crins2014_ar"))

# %% [markdown]
# ## PTLD: three trials, four events
#
# Now the zero cells *are* the data. First, the same fixed-effect inverse-variance analysis
# with different amounts added, to the tables with a zero (`only0`), to every table
# (`all`), or split between the arms by their size (treatment-arm correction, `tacc`):

# %%
rows = []
for cc in (0.5, 0.25, 0.1, 0.01, 0.001):
    for rule, method in (("only0", "constant"), ("all", "constant"), ("only0", "tacc")):
        fit = bm.fit_classical("crins2014_ptld", "FE", cc=cc, cc_to=rule, cc_method=method)
        nat = fit.on_natural_scale()
        rows.append({"added": cc, "to": rule if method == "constant" else "tacc",
                     "OR": nat["estimate"], "95% CI": f"{nat['ci'][0]:.2f} to {nat['ci'][1]:.1f}",
                     "studies used": fit.k_used})
corrections = pd.DataFrame(rows)
print(corrections.round(3).to_string(index=False))

# %% [markdown]
# The pooled OR runs from about 1.6 (add 0.5) to 1.0 (add 0.001). Nothing about the
# patients changed — only an arbitrary constant. Why: the corrected table (1/54 vs 0/54)
# gets variance ≈ 1/cc, so its weight vanishes as cc → 0 and the estimate falls back to
# the one table without a zero (Spada: 1/36 vs 1/36, OR = 1). With cc = 0.5 the same table
# is instead pulled towards OR = 1 by the invented half-events. There is no "right" amount.
# (The treatment-arm correction equals the constant one here: the corrected trial has equal
# arms, 54 vs 54. It differs when allocation is unequal — see the rosiglitazone lesson.)
#
# Methods that work on the counts themselves need no such choice: Mantel–Haenszel and Peto
# use the 1/54 vs 0/54 table as it is (OR ≈ 2), and so does the exact binomial likelihood.

# %%
ptld = bm.compare("crins2014_ptld", methods=["mh", "peto", "fe", "reml", "reml-drop00",
                                             "reml-tacc", "reml-none", "dl-hksj", "glmm",
                                             "binomial-normal"], **SAMPLING)
print(bm.render_comparison(ptld, label="crins2014_ptld"))
bm.plot_comparison(ptld, OUT / "crins_ptld_comparison.png", force=True,
                   title="Crins 2014 PTLD")
print("Wrote", OUT / "crins_ptld_comparison.png")

# %% [markdown]
# ## Reading the table
#
# * **Studies used.** Double-zero Schuller (0/18 vs 0/12) is dropped by most methods and
#   kept, with 0.5 in each cell, by REML with metafor's default rule; "no correction" keeps
#   only Spada. Three methods, three different data sets.
# * **HKSJ with two studies** uses a t distribution with 1 degree of freedom: the interval
#   spans several orders of magnitude. It is honest about how little two trials say, but
#   it is not a usable estimate.
# * **The binomial–normal model** keeps all three trials without inventing events. Its
#   credible interval is wide — four events cannot say more — and its prior on τ matters
#   (see the MSC lesson). With so little data the prior on the effect matters too: the
#   default N(0, 2.82²) on the log OR still allows ORs from 1/250 to 250.
#
# **Lesson:** with common events, corrections are a detail; with rare events, they decide
# the result. Prefer methods on the exact likelihood, and when a correction is unavoidable
# (a forest plot of study ORs), say which one and show that the conclusion survives others.
