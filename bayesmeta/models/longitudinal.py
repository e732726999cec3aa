r"""Joint random-effects model for effects at repeated follow-ups (continuous outcomes).

Study :math:`i` reports effects :math:`y_{ik}` with standard errors :math:`s_{ik}` at the
time points :math:`k \in O_i` it observed (a subset of the :math:`K` times
:math:`t_1 < \dots < t_K`). With :math:`y_i = (y_{ik})_{k \in O_i}`:

.. math::

    y_i \mid \theta_i &\sim \mathrm{MVN}\big(\theta_{i,O_i},\; S_i\big), \qquad
        (S_i)_{kl} = s_{ik}\, s_{il}\, r^{w}_{kl} \\
    \theta_i &= \mu + u_i, \qquad u_i \sim \mathrm{MVN}(0, \Sigma), \qquad
        \Sigma_{kl} = \tau_k\, \tau_l\, R_{kl}

**Within-study correlation** between a study's estimates at two times (its sampling
errors; the same patients are measured again): :math:`r^w_{kl} = \rho_w` (``within="cs"``,
the default, with :math:`\rho_w = 0.5` fixed) or :math:`\rho_w^{|t_k - t_l|}`
(``within="ar1"``, as metafor's ``vcalc(phi=)``); :math:`\rho_w` is fixed or given a prior.

**Between-study correlation** :math:`R` (``structure``):

* ``"cs"`` compound symmetry, :math:`R_{kl} = \rho` for :math:`k \ne l`;
* ``"ar1"`` continuous-time AR(1), :math:`R_{kl} = \phi^{|t_k - t_l|}` (unequal spacing
  handled by the times themselves; with the time index 1..K it is metafor's ``"AR"``);
* ``"un"`` unstructured, :math:`R \sim \mathrm{LKJ}(\eta)`, written through its canonical
  partial correlations (C-vine): :math:`z_{ij}` (row :math:`i > j`) independent,
  :math:`(z_{ij} + 1)/2 \sim \mathrm{Beta}(\beta_j, \beta_j)` with
  :math:`\beta_j = \eta + (K - 2 - j)/2` (:math:`j` from 0), and the Cholesky factor
  :math:`L_{ij} = z_{ij}\sqrt{1 - \sum_{k<j} L_{ik}^2}`, :math:`R = LL^\top` — which is
  exactly LKJ(:math:`\eta`) (Lewandowski, Kurowicka & Joe 2009, C-vine method). Written
  out so because PyMC's ``LKJCorr`` transform took minutes to compile here.

:math:`\tau_k = \tau` for all :math:`k` (``tau_per_time=False``: metafor's ``"CS"``/``"AR"``)
or one :math:`\tau_k` per time (``True``: ``"HCS"``/``"HAR"``; always for ``"un"`` by
default). Priors: :math:`\mu_k \sim` ``effect``, :math:`\tau` or :math:`\tau_k \sim` ``tau``,
:math:`\rho` or :math:`\phi \sim` ``corr`` (on 0..1), :math:`\rho_w \sim` ``rho_within``
when not fixed.

**Missing times**: the random effects are integrated out analytically, so study :math:`i`
contributes

.. math::

    y_i \sim \mathrm{MVN}\big(\mu_{O_i},\; \Sigma_{O_i O_i} + S_i\big)

— the sub-vector of its observed times and the matching sub-matrices; nothing is imputed.
Studies are grouped by how many times they observed; each group's covariances form one
(studies × m × m) tensor, and the sum of its MVN log densities is one operation with
hand-written numba loops (:mod:`bayesmeta.models.mvn_ops`) — PyMC's batched ``MvNormal``
took 110 s to compile for Ishak 2007 on this project's machine. The model samples only
the few parameters :math:`(\mu, \tau, \phi \text{ or } \rho \text{ or } R, \rho_w)` without
the funnel of a latent-effects model. Study-level effects :math:`\theta_i` and a new
study's effects :math:`\theta_{new} = \mu + u_{new}` are drawn afterwards from their exact
conditional distributions (:func:`conditional_study_effects`, :func:`new_study_effects`).

With one time point the model is the normal–normal hierarchical model,
:math:`y_i \sim N(\mu, s_i^2 + \tau^2)`.

References: Ishak KJ et al. Meta-analysis of longitudinal studies. Clin Trials
2007;4:525–539. Jones AP et al. Meta-analysis of individual patient data versus aggregate
data from longitudinal clinical trials. Clin Trials 2009;6:16–27. Lewandowski D,
Kurowicka D, Joe H. Generating random correlation matrices based on vines and extended
onion method. J Multivar Anal 2009;100:1989–2001.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesmeta.data.longitudinal import LongitudinalData
from bayesmeta.errors import InputError
from bayesmeta.priors import Prior, parse_prior

NAME = "longitudinal"
STRUCTURES = ("cs", "ar1", "un")
WITHIN_STRUCTURES = ("cs", "ar1")
DEFAULT_RHO_WITHIN = 0.5
DEFAULT_LKJ_ETA = 2.0


# -- priors and options --------------------------------------------------------------------
def correlation_prior(value: str | Prior, *, option: str) -> Prior:
    """A prior for a correlation on (0, 1): ``beta:a:b`` or ``uniform:lower:upper`` inside
    [0, 1]."""
    prior = parse_prior(value, option=option)
    if prior.family == "beta":
        return prior
    if prior.family == "uniform" and prior.params[0] >= 0 and prior.params[1] <= 1:
        return prior
    raise InputError(f"'{prior.spec}' is not a prior on a correlation between 0 and 1; use "
                     "e.g. uniform:0:1 or beta:2:2", source=option)


def rho_within_value(value: float | str | Prior, *, option: str = "--rho-within"
                     ) -> float | Prior:
    """``0.5`` (fixed) or a prior specification such as ``beta:2:2``."""
    if isinstance(value, Prior):
        return correlation_prior(value, option=option)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return correlation_prior(str(value), option=option)
    if not 0 <= number < 1:
        raise InputError(f"a fixed within-study correlation must be in [0, 1) (got {number:g})",
                         source=option)
    return number


@dataclass(frozen=True)
class LongitudinalPriors:
    """Priors of the longitudinal model (see :func:`default_priors` for the defaults)."""

    effect: Prior
    tau: Prior
    corr: Prior
    lkj_eta: float = DEFAULT_LKJ_ETA
    rho_within: float | Prior = DEFAULT_RHO_WITHIN

    def __post_init__(self) -> None:
        parse_prior(self.effect, option="--effect-prior", support="real")
        parse_prior(self.tau, option="--tau-prior", support="positive")
        correlation_prior(self.corr, option="--corr-prior")
        rho_within_value(self.rho_within)
        if not (math.isfinite(self.lkj_eta) and self.lkj_eta > 0):
            raise InputError(f"must be greater than 0 (got {self.lkj_eta:g})",
                             source="--lkj-eta")
        for name in ("effect", "tau"):
            if not getattr(self, name).proper:
                raise InputError(f"'{getattr(self, name).spec}' is improper; MCMC needs a "
                                 "proper prior", source=f"--{name}-prior")

    @property
    def rho_within_fixed(self) -> bool:
        return not isinstance(self.rho_within, Prior)

    def as_dict(self) -> dict[str, Any]:
        return {"effect": self.effect, "tau": self.tau, "corr": self.corr,
                "lkj_eta": self.lkj_eta, "rho_within": self.rho_within}


@dataclass(frozen=True)
class LongitudinalOptions:
    """Model structure: between-study correlation, one τ or one per time, within-study
    correlation structure."""

    structure: str = "ar1"
    tau_per_time: bool | None = None  # None: False for cs/ar1, True for un
    within: str = "cs"

    def __post_init__(self) -> None:
        if self.structure not in STRUCTURES:
            raise InputError(f"unknown structure '{self.structure}'; choose one of "
                             f"{', '.join(STRUCTURES)}", source="--structure")
        if self.within not in WITHIN_STRUCTURES:
            raise InputError(f"unknown within-study structure '{self.within}'; choose one of "
                             f"{', '.join(WITHIN_STRUCTURES)}", source="--within")

    @property
    def heteroscedastic(self) -> bool:
        if self.tau_per_time is None:
            return self.structure == "un"
        return self.tau_per_time

    @property
    def metafor_name(self) -> str:
        """The matching ``rma.mv(struct=)``: CS, HCS, AR, HAR, UN or UNR."""
        base = {"cs": "CS", "ar1": "AR", "un": "UN"}[self.structure]
        if self.structure == "un":
            return "UN" if self.heteroscedastic else "UNR"
        return ("H" + base) if self.heteroscedastic else base

    def to_dict(self) -> dict[str, Any]:
        return {"structure": self.structure, "tau_per_time": self.heteroscedastic,
                "within": self.within, "metafor_struct": self.metafor_name}


def data_scale(data: LongitudinalData) -> float:
    """A scale of the outcome, from the data: sqrt(mean(y²) + mean(se²)), 2 significant
    digits (used only by the default priors, which say so)."""
    scale = float(np.sqrt(np.mean(data.yi**2) + np.mean(data.sei**2)))
    return float(f"{scale:.2g}")


def default_priors(data: LongitudinalData, options: LongitudinalOptions) -> LongitudinalPriors:
    """Weakly informative priors on the outcome's scale U (:func:`data_scale`):
    μ_k ~ N(0, (10 U)²), τ ~ half-normal(U), φ or ρ ~ U(0, 1), R ~ LKJ(2), ρ_w = 0.5."""
    u = data_scale(data)
    how = (f"default, scaled to the data: U = {u:g} = sqrt(mean(y^2) + mean(se^2)) to 2 "
           "significant digits")
    return LongitudinalPriors(
        effect=Prior("normal", (0.0, float(f"{10 * u:.3g}")), source=how + "; sd = 10 U"),
        tau=Prior("halfnormal", (u,), source=how + "; scale = U"),
        corr=Prior("uniform", (0.0, 1.0), source="default: uniform on 0..1"),
    )


# -- unstructured correlation through canonical partial correlations ----------------------
def cpc_pairs(n_times: int) -> list[tuple[int, int]]:
    """(row, column) of each canonical partial correlation, row by row below the diagonal."""
    return [(i, j) for i in range(1, n_times) for j in range(i)]


def cpc_beta_parameters(n_times: int, eta: float) -> np.ndarray:
    """Beta(β, β) parameters of (z + 1)/2 for each CPC that make R ~ LKJ(eta)."""
    return np.array([eta + (n_times - 2 - j) / 2.0 for _, j in cpc_pairs(n_times)])


def cholesky_from_cpc(z: Any, n_times: int, *, backend: Any = np):
    """Cholesky factor of the correlation matrix with canonical partial correlations ``z``
    (last axis, order of :func:`cpc_pairs`): numpy arrays (n, n_cpc) → (n, K, K), or a
    PyTensor vector → (K, K) with ``backend=pytensor.tensor``."""
    if backend is np:
        z = np.asarray(z, float)
        out = np.zeros((*z.shape[:-1], n_times, n_times))
        out[..., 0, 0] = 1.0
        for c, (i, j) in enumerate(cpc_pairs(n_times)):
            used = np.sum(out[..., i, :j] ** 2, axis=-1)
            out[..., i, j] = z[..., c] * np.sqrt(1.0 - used)
            if j == i - 1:
                out[..., i, i] = np.sqrt(1.0 - used - out[..., i, j] ** 2)
        return out
    rows = [[backend.constant(1.0)] + [backend.constant(0.0)] * (n_times - 1)]
    pairs = cpc_pairs(n_times)
    for i in range(1, n_times):
        row: list[Any] = []
        used = 0.0
        for j in range(i):
            value = z[pairs.index((i, j))] * backend.sqrt(1.0 - used)
            row.append(value)
            used = used + value**2
        row.append(backend.sqrt(1.0 - used))
        row += [backend.constant(0.0)] * (n_times - 1 - i)
        rows.append(row)
    return backend.stack([backend.stack(r) for r in rows])


def cpc_from_correlation(corr: np.ndarray) -> np.ndarray:
    """The canonical partial correlations of a correlation matrix (inverse of
    :func:`cholesky_from_cpc`)."""
    chol = np.linalg.cholesky(corr)
    out = []
    for i, j in cpc_pairs(len(corr)):
        out.append(chol[i, j] / np.sqrt(1.0 - np.sum(chol[i, :j] ** 2)))
    return np.array(out)


# -- the PyMC model ------------------------------------------------------------------------
@dataclass(frozen=True)
class StudyGroup:
    """Studies that observed ``m`` time points: (n, m) arrays of time index, y and SE."""

    m: int
    studies: np.ndarray  # study indices
    time_index: np.ndarray
    y: np.ndarray
    se: np.ndarray


def study_groups(data: LongitudinalData) -> list[StudyGroup]:
    """Group the studies by the number of time points they observed (rows sorted by time)."""
    per_study: dict[int, list[int]] = {}
    for r, s in enumerate(data.study_index):
        per_study.setdefault(int(s), []).append(r)
    by_m: dict[int, list[int]] = {}
    for s, rows in per_study.items():
        by_m.setdefault(len(rows), []).append(s)
    groups = []
    for m in sorted(by_m):
        studies = np.array(sorted(by_m[m]))
        rows = np.array([per_study[s] for s in studies])
        groups.append(StudyGroup(m, studies, data.time_index[rows], data.yi[rows],
                                 data.sei[rows]))
    return groups


def build_longitudinal(data: LongitudinalData, priors: LongitudinalPriors | None = None,
                       options: LongitudinalOptions | None = None, *,
                       mutable_data: bool = False):
    """Build the PyMC model. Free parameters: ``mu[time]``; ``tau`` (scalar) or
    ``tau[time]``; ``phi`` (ar1) or ``rho`` (cs) or ``corr_cpc01`` (un: the canonical
    partial correlations, mapped to 0..1); ``rho_within`` when it has a prior.

    The data are constants of the graph, so PyTensor's on-disk cache serves a repeated fit
    of the same data (compile ~4 s instead of ~10–25 s). With ``mutable_data`` they are
    data containers ``y_m``, ``se_m``, ``tix_m`` (studies with m time points) that a
    compiled model can swap (nutpie ``with_data``) — one compile for many simulated data
    sets, but never served from the disk cache."""
    import pymc as pm
    import pytensor.tensor as pt

    from bayesmeta.models.mvn_ops import small_mvnormal_logp

    options = options or LongitudinalOptions()
    priors = priors or default_priors(data, options)
    n_times = data.n_times
    times = pt.constant(data.times)
    coords = {"time": data.times.tolist(), "study": list(data.study)}
    with pm.Model(coords=coords) as model:
        mu = priors.effect.to_pymc("mu", dims="time")
        if options.heteroscedastic and n_times > 1:
            tau = priors.tau.to_pymc("tau", dims="time")
        else:
            tau = priors.tau.to_pymc("tau")
        corr_param = None
        corr_matrix = None
        if n_times > 1:
            if options.structure == "cs":
                corr_param = priors.corr.to_pymc("rho")
            elif options.structure == "ar1":
                corr_param = priors.corr.to_pymc("phi")
            else:
                beta = cpc_beta_parameters(n_times, priors.lkj_eta)
                cpc01 = pm.Beta("corr_cpc01", alpha=beta, beta=beta, shape=len(beta))
                chol = cholesky_from_cpc(2.0 * cpc01 - 1.0, n_times, backend=pt)
                corr_matrix = chol @ chol.T
        if priors.rho_within_fixed:
            rho_w = float(priors.rho_within)
        else:
            rho_w = priors.rho_within.to_pymc("rho_within")

        for g in study_groups(data):
            if mutable_data:
                y = pm.Data(f"y_{g.m}", g.y, shape=g.y.shape)
                se = pm.Data(f"se_{g.m}", g.se, shape=g.se.shape)
                tix = pm.Data(f"tix_{g.m}", g.time_index.astype("int64"), shape=g.y.shape)
            else:
                y, se = pt.as_tensor(g.y), pt.as_tensor(g.se)
                tix = pt.as_tensor(g.time_index.astype("int64"))
            eye = np.eye(g.m)
            flat = tix.flatten()  # 1-D gathers (and their gradients) compile fastest
            shape2 = (tix.shape[0], g.m)
            t_at = times[flat].reshape(shape2)
            gap = pt.abs(t_at[:, :, None] - t_at[:, None, :])
            if n_times == 1:
                corr = pt.ones((1, 1, 1))
            elif options.structure == "cs":
                corr = eye + (1.0 - eye) * corr_param
            elif options.structure == "ar1":
                corr = corr_param**gap
            else:
                pair = (tix[:, :, None] * n_times + tix[:, None, :]).flatten()
                corr = corr_matrix.flatten()[pair].reshape((tix.shape[0], g.m, g.m))
            if tau.ndim == 1:
                tau_at = tau[flat].reshape(shape2)
                between = tau_at[:, :, None] * tau_at[:, None, :] * corr
            else:
                between = tau**2 * corr
            if options.within == "cs":
                corr_w = eye + (1.0 - eye) * rho_w
            else:
                corr_w = eye + (1.0 - eye) * rho_w**gap
            within = se[:, :, None] * se[:, None, :] * corr_w
            resid = y - mu[flat].reshape(shape2)
            pm.Potential(f"loglik_{g.m}", small_mvnormal_logp(resid, between + within))
    return model


def free_parameter_names(data: LongitudinalData, priors: LongitudinalPriors,
                         options: LongitudinalOptions) -> list[str]:
    """The model's parameters, as named in the posterior."""
    names = ["mu", "tau"]
    if data.n_times > 1:
        names.append({"cs": "rho", "ar1": "phi", "un": "corr_cpc01"}[options.structure])
    if not priors.rho_within_fixed:
        names.append("rho_within")
    return names


# -- numpy: correlation matrices and derived draws ----------------------------------------
def between_correlation(options: LongitudinalOptions, times: np.ndarray,
                        draws: dict[str, np.ndarray]) -> np.ndarray:
    """Between-study correlation matrices R, shape (n, K, K), from n posterior draws."""
    n_times = len(times)
    n = len(draws["mu"])
    if n_times == 1:
        return np.ones((n, 1, 1))
    eye = np.eye(n_times)
    if options.structure == "cs":
        rho = draws["rho"][:, None, None]
        return eye + (1 - eye) * rho
    if options.structure == "ar1":
        gap = np.abs(times[:, None] - times[None, :])
        return draws["phi"][:, None, None] ** gap
    chol = cholesky_from_cpc(2.0 * draws["corr_cpc01"] - 1.0, n_times)
    return chol @ np.swapaxes(chol, -1, -2)


def tau_by_time(draws: dict[str, np.ndarray], n_times: int) -> np.ndarray:
    """τ_k for every draw, shape (n, K) (a common τ repeated)."""
    tau = draws["tau"]
    return np.repeat(tau[:, None], n_times, axis=1) if tau.ndim == 1 else tau


def within_correlation(within: str, times: np.ndarray, rho_w: np.ndarray) -> np.ndarray:
    """Within-study correlation among a study's times, shape (n, m, m), per draw."""
    gap = np.abs(times[:, None] - times[None, :])
    eye = np.eye(len(times))
    rho = np.asarray(rho_w, float)[:, None, None]
    if within == "cs":
        return eye + (1 - eye) * rho
    return np.where(gap == 0, 1.0, rho ** np.where(gap == 0, 1.0, gap))


def _correlated_normals(options: LongitudinalOptions, times: np.ndarray,
                        draws: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """One draw v ~ MVN(0, R) per posterior draw, shape (n, K), built exactly per structure
    (AR(1) by its Markov recursion, CS by a shared component, UN by the LKJ factor)."""
    n, n_times = len(draws["mu"]), len(times)
    z = rng.standard_normal((n, n_times))
    if n_times == 1:
        return z
    if options.structure == "ar1":
        v = np.empty_like(z)
        v[:, 0] = z[:, 0]
        for k in range(1, n_times):
            a = draws["phi"] ** (times[k] - times[k - 1])
            v[:, k] = a * v[:, k - 1] + np.sqrt(1 - a**2) * z[:, k]
        return v
    if options.structure == "cs":
        rho = draws["rho"][:, None]
        shared = rng.standard_normal((n, 1))
        return np.sqrt(rho) * shared + np.sqrt(1 - rho) * z
    chol = cholesky_from_cpc(2.0 * draws["corr_cpc01"] - 1.0, n_times)
    return np.einsum("nkl,nl->nk", chol, z)


def new_study_effects(options: LongitudinalOptions, times: np.ndarray,
                      draws: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """θ_new = μ + u_new with u_new ~ MVN(0, Σ), one per posterior draw: shape (n, K)."""
    v = _correlated_normals(options, times, draws, rng)
    return draws["mu"] + tau_by_time(draws, len(times)) * v


def conditional_study_effects(data: LongitudinalData, options: LongitudinalOptions,
                              draws: dict[str, np.ndarray], rho_w: np.ndarray,
                              rng: np.random.Generator) -> np.ndarray:
    """θ_i at every time (observed or not) for every study, one draw from its exact
    conditional normal given the data and each posterior draw: shape (n, k, K).

    θ_i | y_i ~ N(μ + Σ_{·O} V⁻¹ (y_i − μ_O), Σ − Σ_{·O} V⁻¹ Σ_{O·}), V = Σ_OO + S_i.
    Vectorised over draws and over the studies of a group, in chunks of bounded memory.
    """
    times = data.times
    n, n_times = len(draws["mu"]), len(times)
    tau = tau_by_time(draws, n_times)
    sigma = between_correlation(options, times, draws) * tau[:, :, None] * tau[:, None, :]
    mu = draws["mu"]
    rho = np.asarray(rho_w, float)[:, None, None, None]
    out = np.empty((n, data.k, n_times))
    chunk = max(1, int(2e6 // (n * n_times * n_times)))
    for g in study_groups(data):
        eye = np.eye(g.m)
        for start in range(0, len(g.studies), chunk):
            part = slice(start, start + chunk)
            idx, y, se = g.time_index[part], g.y[part], g.se[part]
            gap = np.abs(times[idx][:, :, None] - times[idx][:, None, :])
            corr_w = eye + (1 - eye) * (rho if options.within == "cs"
                                        else rho ** np.where(gap == 0, 1.0, gap))
            s_within = corr_w * (se[:, :, None] * se[:, None, :])
            v = sigma[:, idx[:, :, None], idx[:, None, :]] + s_within  # (n, s, m, m)
            cross = np.moveaxis(sigma[:, :, idx], 1, 3)  # Σ_{·O}: (n, s, m, K)
            gain = np.linalg.solve(v, cross)  # V⁻¹ Σ_{O·}: (n, s, m, K)
            resid = y[None] - mu[:, idx]  # (n, s, m)
            mean = mu[:, None, :] + np.einsum("nsm,nsmk->nsk", resid, gain)
            cov = sigma[:, None] - np.einsum("nsmk,nsml->nskl", cross, gain)
            out[:, g.studies[part], :] = mean + _mvn_noise(cov, rng)
    return out


def _mvn_noise(cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One N(0, cov) draw per matrix in ``cov`` (..., K, K): by Cholesky, or — when a
    conditional covariance is numerically only semi-definite (a time observed very
    precisely) — by a symmetric square root with negative rounding errors set to 0."""
    z = rng.standard_normal(cov.shape[:-1])
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    try:
        root = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(cov)
        root = vectors * np.sqrt(np.clip(values, 0.0, None))[..., None, :]
    return np.einsum("...kl,...l->...k", root, z)
