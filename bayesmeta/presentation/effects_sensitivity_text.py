"""The printed reports of the normal–normal model's prior sweep and of the τ-scale curve."""

from __future__ import annotations

import numpy as np

from bayesmeta.presentation.effects_text import RULE
from bayesmeta.presentation.text import fmt, fmt_prob, settings_text, table
from bayesmeta.results.effects_sensitivity import EffectsSensitivityResult
from bayesmeta.results.tau_scale_curve import TauScaleCurve

#: Rows of the τ-scale curve shown in the printed table (the JSON/CSV hold every point).
CURVE_ROWS = 11


def prob_text(p: float, n_draws: int | None = None) -> str:
    """A probability for a table: as :func:`fmt_prob`, but exact probabilities below 0.0005
    (or above 0.9995) keep their order of magnitude instead of printing as 0.0000."""
    if n_draws is None and 0 < p < 5e-4:
        return f"{p:.0e}"
    if n_draws is None and 1 - 5e-4 < p < 1:
        return f"1 − {1 - p:.0e}"
    return fmt_prob(p, n_draws)


def _data_line(data, label: str | None) -> list[str]:
    lines = [f"Data: {label or data.source} — {data.k} studies; effects: {data.measure_text} "
             f"({data.measure})"]
    if data.derivation and data.derivation != "as given":
        lines.append(f"      {data.derivation}")
    return lines


def render_effects_sensitivity(res: EffectsSensitivityResult, *,
                               label: str | None = None) -> str:
    """The sweep as printed by ``bayesmeta sensitivity --model effects|continuous``."""
    how = ("exact posterior by quadrature" if res.method == "exact" else
           f"MCMC, {res.settings.resolved_sampler if res.settings else ''} NUTS")
    lines = [f"bayesmeta — prior sensitivity of a normal-normal meta-analysis ({how})", RULE]
    lines += _data_line(res.data, label)
    lines.append(f"Priors: {res.title or 'prior set'} — {len(res.rows) + len(res.skipped)} "
                 f"configurations ({res.prior_set_source}); reference: {res.reference}")
    ref = res.reference_row
    lines.append(f"  reference priors: mu ~ {ref.priors.mu.describe()}, tau ~ "
                 f"{ref.priors.tau.describe() if ref.priors.tau else '—'}")
    lines.append("")
    sym = res.scale.symbol
    pooled, new = res.display
    null = res.scale.null
    n_draws = res.n_draws
    header = ["prior", "changed from the reference", f"{sym} median (95% CrI)",
              "new study 95%", "tau median", f"P({sym}>{null:g})", "P(θnew>0)",
              *[f"P({sym}>{c:g})" for c in res.extra_thresholds], "method"]
    rows = []
    for r in res.rows:
        changed = [f"{slot} {p.spec}" for slot, p in r.priors.as_dict().items()
                   if ref.priors.as_dict().get(slot) != p]
        s, n = r.summary(pooled), r.summary(new)
        rows.append([r.name, "; ".join(changed) or "—",
                     f"{fmt(s['median'])} ({fmt(s['q025'])} to {fmt(s['q975'])})",
                     f"{fmt(n['q025'])} to {fmt(n['q975'])}",
                     fmt(r.summary("tau")["median"], 2),
                     prob_text(r.prob(null), n_draws),
                     prob_text(r.prob(null, predictive=True), n_draws),
                     *[prob_text(r.prob(c), n_draws) for c in res.extra_thresholds],
                     r.diagnostics_text()])
    lines.append(table(rows, header=header, align="llrrr" + "rr" + "r" * len(res.extra_thresholds)
                       + "l"))
    lines += ["", "Verdict"]
    lines += [f"  {sentence}" for sentence in res.verdict_text()]
    lines.append("")
    if res.method == "exact":
        lines.append("Method: exact posterior of each configuration (quadrature, no Monte Carlo "
                     "error); each row is `fit effects` with that prior")
    else:
        st = res.settings
        assert st is not None
        lines.append(settings_text(st) + "; each row is `fit effects --method mcmc` with "
                     "that prior")
    return "\n".join(lines)


def curve_rows(curve: TauScaleCurve, n: int = CURVE_ROWS) -> list[int]:
    """Indices of the grid rows to print: ``n`` spread over the grid, and the default's."""
    size = len(curve.grid)
    picks = set(np.unique(np.linspace(0, size - 1, min(n, size)).round().astype(int)))
    if curve.reference_scale is not None:
        scales = curve.grid["scale"].to_numpy()
        picks.add(int(np.argmin(np.abs(scales - curve.reference_scale))))
    return sorted(int(i) for i in picks)


def render_tau_scale_curve(curve: TauScaleCurve, *, label: str | None = None) -> str:
    """The curve as printed by ``bayesmeta sensitivity --tau-scale-curve``: a few rows of
    the grid, the crossings and the verdict."""
    lines = ["bayesmeta — pooled effect and P(harm) along the scale of the τ prior (exact "
             "normal-normal model)", RULE]
    lines += _data_line(curve.data, label)
    fam = curve.family
    lines.append(f"Priors: tau ~ {fam.spec}(scale) with the {fam.what} from {curve.lower:g} "
                 f"to {curve.upper:g} ({len(curve.grid)} log-spaced points); mu ~ "
                 f"{curve.mu_prior.describe()}")
    lines.append("")
    sym = curve.scale.symbol
    g = curve.grid
    p, new = curve.pooled, curve.new
    header = [fam.what, f"{sym} median (95% CrI)", "new study 95%", "tau median",
              *[f"P({sym}>{c:g})" for c in curve.all_thresholds], "P(θnew>0)"]
    rows = []
    for i in curve_rows(curve):
        r = g.iloc[i]
        mark = " (default)" if (curve.reference_scale is not None
                                and np.isclose(r["scale"], curve.reference_scale)) else ""
        rows.append([f"{r['scale']:.3g}{mark}",
                     f"{fmt(r[f'{p}_median'])} ({fmt(r[f'{p}_q025'])} to "
                     f"{fmt(r[f'{p}_q975'])})",
                     f"{fmt(r[f'{new}_q025'])} to {fmt(r[f'{new}_q975'])}",
                     fmt(r["tau_median"], 2),
                     *[prob_text(r[curve.prob_column(c)]) for c in curve.all_thresholds],
                     prob_text(r[curve.prob_column(curve.scale.null, predictive=True)])])
    lines.append(table(rows, header=header, align="lrrr" + "r" * len(curve.all_thresholds)
                       + "r"))
    lines += ["", "Verdict"]
    lines += [f"  {sentence}" for sentence in curve.verdict_text()]
    if curve.crossings:
        lines += ["", "Where the 95% CrI of the pooled effect changes (Brent's method on exact "
                      "fits):"]
        for x in curve.crossings:
            side = "upper" if x.limit == "q975" else "lower"
            lines.append(f"  {fam.what} {x.scale:.4g}: the {side} limit reaches {sym} = "
                         f"{x.threshold:g} ({x.before} → {x.after})")
    lines.append("")
    lines.append(f"Method: exact posterior at every point (quadrature, no Monte Carlo error); "
                 f"--json/--csv hold all {len(g)} points, --plot draws the curve")
    return "\n".join(lines)
