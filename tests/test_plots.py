"""Plots are checked for what they show — rows, scales, labels, printed numbers, curves —
against the numbers the result computes, not pixel by pixel."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

import bayesmeta as bm
from bayesmeta.errors import InputError, OutputExistsError
from bayesmeta.presentation.plots import PLOT_KINDS, figure_of, plot
from bayesmeta.presentation.plots.common import density_curve
from bayesmeta.presentation.text import prob_equals

pytestmark = pytest.mark.mcmc


def texts(fig: Figure, gid: str) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == gid]


def lines(fig: Figure, gid: str):
    return [ln for ax in fig.axes for ln in ax.lines if ln.get_gid() == gid]


def plot_axes(fig: Figure):
    """The forest plot's middle axes (the one with a visible x axis)."""
    return next(ax for ax in fig.axes if ax.axison)


def test_forest_plot_rows_scale_and_labels(crins_fit):
    fig = bm.forest_plot(crins_fit)
    studies = crins_fit.data.study
    labels = texts(fig, "study-label")
    assert len(labels) == len(studies) == 6
    assert [lb.removesuffix(" †") for lb in labels] == list(studies)
    assert texts(fig, "pooled-label") == ["Pooled OR"]
    assert texts(fig, "predictive-label") == ["OR in a new study"]
    ax = plot_axes(fig)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Odds ratio (log scale)"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "1" in ticks and all(float(t) > 0 for t in ticks)  # plain numbers, not 10^x
    assert texts(fig, "favours-left")[0].strip() == "← favours treatment"
    assert texts(fig, "favours-right")[0].strip() == "favours control →"
    # Gras (2008) has 0/50 events: no observed OR (no continuity correction), marked †.
    assert [lb for lb in labels if lb.endswith("†")] == ["Gras (2008) †"]
    assert texts(fig, "observed-missing") == ["zero cell †"]
    assert len(lines(fig, "observed")) == 5 and len(lines(fig, "model")) == 6


def test_forest_plot_draws_the_computed_estimates(crins_fit):
    fig = bm.forest_plot(crins_fit)
    effects = crins_fit.study_effects()
    shrunk = [float(ln.get_xdata()[0]) for ln in lines(fig, "model-point")]
    np.testing.assert_allclose(shrunk, np.exp(effects["log_or_median"]), rtol=1e-12)
    observed = [float(ln.get_xdata()[0]) for ln in lines(fig, "observed-point")]
    expected = np.exp(effects["observed_log_or"].dropna())
    np.testing.assert_allclose(observed, expected, rtol=1e-12)
    # Heffron (2003): 14/61 vs 15/20 — the observed OR by hand, (14·5)/(47·15).
    assert observed[0] == pytest.approx((14 * 5) / (47 * 15), rel=1e-12)
    diamond = next(p for p in plot_axes(fig).patches if p.get_gid() == "pooled")
    xs = sorted(set(np.round(diamond.get_xy()[:, 0], 12)))
    log_or = crins_fit.posterior("log_or")
    np.testing.assert_allclose(xs, np.exp([log_or.interval(0.95)[0], log_or.median,
                                           log_or.interval(0.95)[1]]), rtol=1e-9)


def test_forest_plot_of_double_zero_studies():
    """MSC serious adverse events: six double-zero trials, two with a single zero cell."""
    res = bm.fit_binary("msc_serious_ae", chains=2, draws=300, tune=300, seed=5)
    fig = bm.forest_plot(res)
    assert len(texts(fig, "study-label")) == 11
    missing = texts(fig, "observed-missing")
    assert missing.count("double zero †") == 6 and missing.count("zero cell †") == 2
    assert len(lines(fig, "observed")) == 3


@pytest.mark.parametrize("threshold", [None, 0.5])
def test_posterior_plot_prints_the_computed_probability(crins_fit, threshold):
    fig = bm.posterior_plot(crins_fit, threshold=threshold)
    c = 1.0 if threshold is None else threshold
    n = crins_fit.settings.chains * crins_fit.settings.draws
    printed = texts(fig, "p-harm")
    assert printed == [prob_equals(f"P(OR > {c:g})", crins_fit.prob_harm(c), n)]
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "log scale" in ax.get_xlabel()
    assert float(lines(fig, "threshold")[0].get_xdata()[0]) == c


def test_posterior_plot_shades_the_harm_side(crins_fit):
    """The shaded area is the density beyond the threshold: its x values lie above it, and
    its area matches P(OR > 0.2) up to kernel smoothing (ArviZ's KDE of 8,000 draws; the
    smoothing shifts mass by well under 0.02 near the mode)."""
    c = 0.2
    fig = bm.posterior_plot(crins_fit, threshold=c)
    shade = next(col for col in fig.axes[0].collections if col.get_gid() == "harm-region")
    xs = np.concatenate([path.vertices[:, 0] for path in shade.get_paths()])
    assert xs.min() >= c * (1 - 1e-9)
    grid, pdf = density_curve(crins_fit.posterior("log_or"))
    beyond = grid > math.log(c)
    area = float(np.sum(pdf[beyond]) * (grid[1] - grid[0]))
    assert area == pytest.approx(crins_fit.prob_harm(c), abs=0.02)


def test_posterior_plot_predictive(crins_fit):
    fig = bm.posterior_plot(crins_fit, predictive=True)
    n = crins_fit.settings.chains * crins_fit.settings.draws
    assert texts(fig, "p-harm") == [prob_equals(
        "P(OR_new > 1)", crins_fit.prob_harm(1.0, predictive=True), n)]
    assert "new study" in fig.axes[0].get_xlabel()


def test_tau_plot_prior_curve_is_the_prior_density(crins_fit):
    fig = bm.tau_plot(crins_fit)
    prior_line = lines(fig, "prior")[0]
    x, y = prior_line.get_xdata(), prior_line.get_ydata()
    # half-normal(0.5) density by hand: 2 φ(x / 0.5) / 0.5
    by_hand = 2 * np.exp(-0.5 * (x / 0.5) ** 2) / (0.5 * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(y, by_hand, rtol=1e-12)
    assert prior_line.get_label() == "prior: half-normal(scale=0.5)"
    post = lines(fig, "posterior")[0]
    assert post.get_xdata().min() >= 0
    ax = fig.axes[0]
    assert ax.get_xlim()[0] == 0 and ax.get_xlabel().startswith("τ")


def test_tau_plot_with_another_prior(crins_fit):
    prior = bm.parse_prior("halfcauchy:1")
    fig = bm.tau_plot(crins_fit, prior=prior)
    line = lines(fig, "prior")[0]
    x = line.get_xdata()
    np.testing.assert_allclose(line.get_ydata(), 2 / (math.pi * (1 + x**2)), rtol=1e-12)


@pytest.mark.parametrize("kind", ["trace", "rank"])
def test_arviz_diagnostic_plots(crins_fit, kind):
    pc = plot(kind, crins_fit)
    fig = figure_of(pc)
    assert hasattr(pc, "savefig")  # ArviZ's PlotCollection
    words = " ".join([ax.get_title() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]
                     + [ax.get_xlabel() for ax in fig.axes])
    assert "theta" in words and "tau" in words


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                           (".pdf", b"%PDF")])
def test_saving_by_extension_and_never_over_a_file(crins_fit, tmp_path, suffix, magic):
    path = tmp_path / f"forest{suffix}"
    bm.forest_plot(crins_fit, path)
    assert path.read_bytes().startswith(magic)
    with pytest.raises(OutputExistsError):
        bm.tau_plot(crins_fit, path)
    assert path.read_bytes().startswith(magic)
    bm.tau_plot(crins_fit, path, force=True)


def test_unknown_image_format_and_plot_kind(crins_fit, tmp_path):
    with pytest.raises(InputError, match=r"unknown image format '\.gif'"):
        bm.forest_plot(crins_fit, tmp_path / "f.gif")
    with pytest.raises(InputError, match="unknown plot 'violin'"):
        plot("violin", crins_fit)
    assert set(PLOT_KINDS) >= {"forest", "posterior", "tau", "trace", "rank"}


def test_cli_plot_from_a_saved_fit(crins_fit, tmp_path):
    """`bayesmeta plot KIND fit.nc -o FILE`: no refit, format by extension, --force."""
    from click.testing import CliRunner

    from bayesmeta.cli import cli

    saved = crins_fit.to_netcdf(tmp_path / "fit.nc")

    def run(*args):
        return CliRunner().invoke(cli, ["plot", *args], catch_exceptions=False)

    for kind, name, magic in (("forest", "f.svg", b"<?xml"), ("posterior", "p.pdf", b"%PDF"),
                              ("tau", "t.png", b"\x89PNG"), ("rank", "r.png", b"\x89PNG")):
        result = run(kind, str(saved), "-o", str(tmp_path / name), "-q")
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_bytes().startswith(magic)
    again = run("forest", str(saved), "-o", str(tmp_path / "f.svg"), "-q")
    assert again.exit_code == 2 and "--force" in again.output
    bad = run("forest", str(saved), "-o", str(tmp_path / "f.jpeg"), "-q")
    assert bad.exit_code == 2 and "unknown image format '.jpeg'" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
