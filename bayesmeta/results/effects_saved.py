"""Saved normal–normal fits (``fit effects`` / ``fit continuous --save FILE.nc``) and their
reloading, without refitting.

The file holds the data (``observed_data``: ``yi``, ``sei`` and, when known, ``n`` by
study; the measure, derivation and details as attributes), the priors, settings, versions
and the posterior:

* MCMC — the draws (``posterior``, ``sample_stats``) and the sampler's diagnostics;
* exact — the posterior *as computed*, in the group ``exact_posterior``: τ's adaptive
  quadrature (panel edges, nodes, normalised weights, the mass below each panel edge, the
  constants ``c``, ``shift``, ``norm``, the estimated error and the tail power), and the
  normal mixtures of μ, θ_new and every θ_i (component means, SDs and weights) with the
  Bayes factors; and, for other software, ``exact_tau_grid``: τ's nodes with their
  posterior weights and the mean and variance of μ given τ at each.

Why the exact posterior is stored rather than recomputed on load: recomputing from data and
priors would take milliseconds, but it would be a refit by whatever version of the
quadrature is installed when the file is read — a later change to its panels or tolerances
would make ``bayesmeta show`` print numbers the original fit never printed while naming the
original versions. Stored, the mixtures give every μ, θ_new and θ_i number from the saved
arrays alone; τ's quantiles and tail probabilities evaluate its closed-form log density
(prior × marginal likelihood, :meth:`NNHMInput.log_posterior_tau`) between the saved nodes,
normalised by the saved constants — a formula, not a fit. So the reloaded result answers
with the same numbers, bit for bit, as the fitted one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from bayesmeta.data.effects import EffectsData
from bayesmeta.errors import InputError
from bayesmeta.files import write_with
from bayesmeta.inference.exact_numerics import NormalMixture, PanelDensity
from bayesmeta.inference.nnhm_exact import BayesFactors, NNHMInput, NNHMPosterior
from bayesmeta.models.nnhm import NNHMPriors
from bayesmeta.results import saved
from bayesmeta.results.jsonable import clean

if TYPE_CHECKING:
    from bayesmeta.results.effects import EffectsMetaResult

EXACT_GROUP = "exact_posterior"
_MIXTURES = ("mu", "theta_new", "theta")


# -- writing ---------------------------------------------------------------------------
def exact_dataset(post: NNHMPosterior, study: tuple[str, ...]) -> xr.Dataset:
    """The exact posterior as arrays (see the module docstring) and JSON constants."""
    tau = post.tau
    variables: dict[str, Any] = {
        "tau_edges": ("tau_edge", tau.edges),
        "tau_cumulative": ("tau_edge", tau.cumulative),
        "tau_nodes": ("tau_node", tau.nodes),
        "tau_weights": ("tau_node", tau.weights),
        "component_weights": ("component", post.mu.weights),
        "mu_means": ("component", post.mu.means[0]),
        "mu_sds": ("component", post.mu.sds[0]),
        "theta_new_means": ("component", post.theta_new.means[0]),
        "theta_new_sds": ("component", post.theta_new.sds[0]),
        "theta_means": (("study", "component"), post.theta.means),
        "theta_sds": (("study", "component"), post.theta.sds),
    }
    bf = post.bayes_factors
    constants = {
        "tau": {"c": tau.c, "shift": tau.shift, "norm": tau.norm, "error": tau.error,
                "tail_power": tau.tail_power},
        "moments": {name: {"mean_exists": bool(getattr(post, name).mean_exists),
                           "var_exists": bool(getattr(post, name).var_exists)}
                    for name in _MIXTURES},
        "tail_power": post.tail_power,
        "bayes_factors": {"tau0": bf.tau0, "mu0": bf.mu0, "log_marginal": bf.log_marginal,
                          "log_marginal_tau0": bf.log_marginal_tau0,
                          "log_marginal_mu0": bf.log_marginal_mu0, "why": dict(bf.why)},
    }
    ds = xr.Dataset(variables, coords={"study": list(study)})
    # json (not attrs of numbers): inf tail powers and None Bayes factors round-trip exactly
    ds.attrs["bayesmeta_exact"] = json.dumps(constants)
    return ds


def tau_grid(post: NNHMPosterior) -> xr.Dataset:
    """The quadrature nodes of τ with their posterior weights and the mean and variance of
    μ given τ at each: a readable summary of the exact posterior for other software (the
    group ``exact_tau_grid``, as saved fits have held since the exact method came)."""
    nodes = post.tau.nodes
    mhat, v, _ = post.model.conditionals(nodes)
    return xr.Dataset({"weight": ("node", post.tau.weights), "mu_mean": ("node", mhat),
                       "mu_var": ("node", v)}, coords={"tau": ("node", nodes)})


def data_dataset(d: EffectsData) -> xr.Dataset:
    variables: dict[str, Any] = {"yi": ("study", np.asarray(d.yi, dtype=float)),
                                 "sei": ("study", np.asarray(d.sei, dtype=float))}
    if d.n is not None:
        variables["n"] = ("study", np.asarray(d.n, dtype=float))
    ds = xr.Dataset(variables, coords={"study": list(d.study)})
    ds.attrs["bayesmeta_effects"] = json.dumps(
        clean({"measure": d.measure, "derivation": d.derivation,
                     "details": dict(d.details)}), ensure_ascii=False)
    return ds


def write_effects_netcdf(res: EffectsMetaResult, path: str | Path, *,
                         force: bool = False) -> Path:
    """Write ``res`` to ``path`` atomically (never over a file without ``force``)."""
    from bayesmeta.results.effects import SCHEMA

    d = res.data
    if res.method == "mcmc":
        assert res.idata is not None
        tree = xr.DataTree.from_dict({
            "posterior": xr.DataTree(res.idata["posterior"].to_dataset()),
            "sample_stats": xr.DataTree(res.idata["sample_stats"].to_dataset())})
    else:
        assert res.exact is not None
        tree = xr.DataTree.from_dict({
            EXACT_GROUP: xr.DataTree(exact_dataset(res.exact, d.study)),
            "exact_tau_grid": xr.DataTree(tau_grid(res.exact))})
    tree["observed_data"] = xr.DataTree(data_dataset(d))
    settings = res.settings_dict()
    tree.attrs.update(saved.fit_attributes(
        schema=SCHEMA, model=res.model, method=res.method, settings=settings,
        priors=res.priors.as_dict(), seed=settings["seed"], source=d.source, label=res.label,
        column_map=d.column_map, extra=d.extra,
        diagnostics=res.method_details() if res.method == "mcmc" else None))
    tree.attrs["bayesmeta_method_details"] = json.dumps(clean(res.method_details()))
    return write_with(path, lambda tmp: tree.to_netcdf(tmp), force=force)


# -- reading ---------------------------------------------------------------------------
def exact_from_dataset(ds: xr.Dataset, model: NNHMInput) -> NNHMPosterior:
    """Rebuild the :class:`NNHMPosterior` from :func:`exact_dataset`'s arrays."""
    const = json.loads(ds.attrs["bayesmeta_exact"])
    t = const["tau"]

    def arr(name: str) -> np.ndarray:
        return np.asarray(ds[name].values, dtype=float)

    tau = PanelDensity(log_density=model.log_posterior_tau, c=float(t["c"]),
                       edges=arr("tau_edges"), nodes=arr("tau_nodes"),
                       weights=arr("tau_weights"), cumulative=arr("tau_cumulative"),
                       shift=float(t["shift"]), norm=float(t["norm"]),
                       error=float(t["error"]), tail_power=float(t["tail_power"]))
    weights = arr("component_weights")
    mixtures = {}
    for name in _MIXTURES:
        means, sds = arr(f"{name}_means"), arr(f"{name}_sds")
        moments = const["moments"][name]
        mixtures[name] = NormalMixture(np.atleast_2d(means), np.atleast_2d(sds), weights,
                                       bool(moments["mean_exists"]),
                                       bool(moments["var_exists"]))
    bf = const["bayes_factors"]
    factors = BayesFactors(tau0=bf["tau0"], mu0=bf["mu0"], log_marginal=bf["log_marginal"],
                           log_marginal_tau0=bf["log_marginal_tau0"],
                           log_marginal_mu0=bf["log_marginal_mu0"], why=dict(bf["why"]))
    return NNHMPosterior(model=model, tau=tau, mu=mixtures["mu"],
                         theta_new=mixtures["theta_new"], theta=mixtures["theta"],
                         bayes_factors=factors, tail_power=float(const["tail_power"]))


def load_effects_result(tree: xr.DataTree, source: str = "saved file") -> EffectsMetaResult:
    """Rebuild an :class:`EffectsMetaResult` from a tree written by ``to_netcdf``: the
    same data, priors, settings, versions and posterior — nothing is refitted."""
    from bayesmeta.results.effects import EffectsMetaResult

    attrs = tree.attrs
    if "observed_data" in tree and "bayesmeta_effects" not in tree["observed_data"].attrs:
        raise InputError("was saved by an older version of bayesmeta, which did not keep "
                         "how the effects were derived nor (exact fits) the posterior as "
                         "computed; fit the data again with --save", source=source)
    try:
        settings = saved.settings_from_attrs(attrs)
        obs = tree["observed_data"]
        meta = json.loads(obs.attrs["bayesmeta_effects"])
        data = EffectsData(
            study=tuple(str(s) for s in obs["study"].values.tolist()),
            yi=np.asarray(obs["yi"].values, dtype=float),
            sei=np.asarray(obs["sei"].values, dtype=float), measure=str(meta["measure"]),
            source=str(attrs.get("bayesmeta_data_source", source)),
            column_map=json.loads(attrs.get("bayesmeta_column_map", "{}")),
            extra=saved.extra_from_attrs(attrs), derivation=str(meta["derivation"]),
            n=np.asarray(obs["n"].values, dtype=float) if "n" in obs else None,
            details=meta["details"])
        priors = NNHMPriors(**saved.priors_from_attrs(attrs))
        method = str(attrs["bayesmeta_method"])
        common: dict[str, Any] = {
            "data": data, "priors": priors, "method": method,
            "thresholds": tuple(float(c) for c in settings["thresholds"]),
            "model": str(attrs["bayesmeta_model"]),
            "label": str(attrs.get("bayesmeta_label", "")) or None,
            "versions": saved.versions_from_settings(settings)}
        if method == "exact":
            assert priors.tau is not None
            model = NNHMInput(data.yi, data.sei, priors.mu, priors.tau)
            posterior = exact_from_dataset(tree[EXACT_GROUP].to_dataset(), model)
            return EffectsMetaResult(exact=posterior, **common)
        return EffectsMetaResult(idata=saved.draws_from_tree(tree),
                                 settings=saved.sampler_from_settings(settings),
                                 diagnostics=saved.diagnostics_from_attrs(attrs), **common)
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise InputError(f"is not a complete bayesmeta effect-size fit ({type(exc).__name__}: "
                         f"{exc})", source=source) from None
