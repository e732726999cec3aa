"""The ``bayesmeta`` command line: a thin Click layer over :mod:`bayesmeta.api`.

Exit status: 0 success; 2 bad input (one line naming file, row and column, or option);
3 results written but the sampler diagnostics failed and ``--strict`` was given;
1 an internal error (a bug: please report it; ``BAYESMETA_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bayesmeta.errors import BayesmetaError

EXIT_INPUT = 2
EXIT_DIAGNOSTICS = 3


class BayesmetaGroup(click.Group):
    """Turns every :class:`BayesmetaError` into a one-line message and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BayesmetaError as exc:
            err = click.ClickException(str(exc))
            err.exit_code = EXIT_INPUT
            raise err from None
        except click.exceptions.NoArgsIsHelpError:
            raise  # `bayesmeta fit` alone: show its help, as Click does
        except click.UsageError as exc:  # bad option syntax: one line too, with the help hint
            raise _one_line_usage_error(exc) from None


def _one_line_usage_error(exc: click.UsageError) -> click.ClickException:
    """Click prints usage errors on four lines; bayesmeta's rule is one line, exit 2."""
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    err = click.ClickException(" ".join(exc.format_message().split()) + where)
    err.exit_code = EXIT_INPUT
    return err


@click.group(cls=BayesmetaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bayesmeta")
def cli() -> None:
    """Bayesian meta-analysis of clinical trials: rare adverse events, continuous outcomes.

    Start with `bayesmeta data list` and `bayesmeta fit binary crins2014_ar`.
    """


# -- shared options --------------------------------------------------------------------
def _options(*decorators):
    """One decorator applying ``decorators`` in order (the first comes first in --help)."""
    def apply(f):
        for decorator in reversed(decorators):
            f = decorator(f)
        return f
    return apply


def _path_option(*decls: str, help: str):
    """An output file option (--json, --csv, --save, --plot)."""
    return click.option(*decls, type=click.Path(dir_okay=False, path_type=Path), help=help)


def _col_option(example: str):
    return click.option("--col", "columns", multiple=True, metavar="OURS=YOURS",
                        help=f"Map a column, e.g. --col {example} (repeatable).")


def _arm_options(rows: str):
    """--treatment and --control: the arm labels of one-row-per-arm data."""
    return _options(
        click.option("--treatment", help=f"{rows}: the arm label of the treatment arm."),
        click.option("--control", help=f"{rows}: the arm label of the control arm."))


_FORCE = click.option("--force", is_flag=True, help="Overwrite existing output files.")
_QUIET = click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
_SEP = click.option("--sep", default=",", show_default=True, help="Field separator of the CSV.")
_ENCODING = click.option("--encoding", default="utf-8", show_default=True,
                         help="Text encoding of the CSV.")
_LAYOUT = click.option("--layout", type=click.Choice(["auto", "wide", "long"]), default="auto",
                       show_default=True, help="One row per study (wide) or per arm (long).")
_SUBGROUP = click.option("--subgroup",
                         help="Keep only studies whose subgroup column has this value.")
_SUBGROUP_OPTIONS = _options(_SUBGROUP, click.option("--subgroup-column", default="subgroup",
                                                     show_default=True))

#: How two-arm counts are read (fit binary, sensitivity).
_binary_reading_options = _options(
    _LAYOUT, _col_option("events_t=deaths_msc"), _arm_options("Long layout"), _SEP, _ENCODING,
    _SUBGROUP_OPTIONS)

_sampler_options = _options(
    click.option("--sampler", type=click.Choice(["auto", "nutpie", "pymc", "numpyro",
                                                 "blackjax"]), default="auto",
                 show_default=True, help="NUTS implementation (auto = the fastest)."),
    click.option("--chains", type=int, default=4, show_default=True),
    click.option("--draws", type=int, default=1000, show_default=True,
                 help="Draws per chain kept after warm-up."),
    click.option("--tune", type=int, default=1000, show_default=True,
                 help="Warm-up draws per chain."),
    click.option("--seed", type=int, default=1, show_default=True,
                 help="Random seed: same data, settings and seed give the same numbers."),
    click.option("--target-accept", type=float, default=0.9, show_default=True,
                 help="NUTS target acceptance; raise to 0.99 after divergences."),
    click.option("--cores", type=int, default=None,
                 help="Cores for the chains [default: all]."),
)

_output_options = _options(
    _path_option("--json", "json_path",
                 help="Write the summary for scripts as JSON (see docs/json.md)."),
    _path_option("--csv", "csv_path", help="Write the summary table as CSV."),
    _path_option("--save", "save_path",
                 help="Save the full posterior, data and settings as NetCDF (.nc)."),
    _FORCE, _QUIET,
    click.option("--strict", is_flag=True,
                 help="Exit with status 3 when the sampler diagnostics fail."),
)


def _two_arm_model_options(model_file: str, effect: str, baseline: str, ratio: str,
                           threshold: str):
    """--model, --tau-prior, --effect-prior, --baseline-prior and --threshold (of the
    ``ratio``) of a two-arm model (fit binary, fit rates)."""
    return _options(
        click.option("--model", "model_file",
                     help=f"Model file: a bundled name ({model_file}) or a TOML path."),
        click.option("--tau-prior", help="Heterogeneity prior, e.g. halfnormal:0.5 [default]."),
        click.option("--effect-prior", help=effect),
        click.option("--baseline-prior", help=baseline),
        click.option("--threshold", "thresholds", type=float, multiple=True, metavar=ratio,
                     help=threshold))


def _sampler_kwargs(o: dict[str, Any]) -> dict[str, Any]:
    """The sampler options among a command's parameters, as API keyword arguments."""
    return {k: o[k] for k in ("sampler", "chains", "draws", "tune", "seed", "target_accept",
                              "cores")}


def _sampler_settings() -> dict[str, Any]:
    """The sampler options of the running command, as API keyword arguments."""
    return _sampler_kwargs(click.get_current_context().params)


def _label(data: str, subgroup: str | None, subgroup_column: str = "subgroup") -> str:
    """How the data are named in the output: with the subgroup, when one was chosen."""
    return data if subgroup is None else f"{data} [{subgroup_column} = {subgroup}]"


def _check_outputs(force: bool, *paths: Path | None) -> None:
    from bayesmeta.files import check_writable

    for p in paths:
        if p is not None:
            check_writable(p, force=force)


def _read_options(columns: tuple[str, ...], sep: str, encoding: str,
                  **more: Any) -> dict[str, Any]:
    """The reading options of a data file: --col, --sep, --encoding and ``more`` (layout,
    treatment and control of two-arm data)."""
    return {"columns": _parse_columns(columns), "sep": sep, "encoding": encoding, **more}


def _parse_columns(pairs: tuple[str, ...]) -> dict[str, str]:
    from bayesmeta.errors import InputError

    out: dict[str, str] = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise InputError(f"'{pair}' must look like OURS=YOURS, e.g. events_t=r_exp",
                             source="--col")
        out[ours.strip()] = theirs.strip()
    return out


# -- fit -------------------------------------------------------------------------------
@cli.group()
def fit() -> None:
    """Fit a meta-analysis model."""


@fit.command("binary")
@click.argument("data")
@_binary_reading_options
@_two_arm_model_options(
    "binomial_normal", effect="Prior of the pooled log OR, e.g. normal:0:2.82 [default].",
    baseline="Prior of study baselines, e.g. normal:0:10 [default].", ratio="OR",
    threshold="Also report P(OR > OR) (repeatable), e.g. --threshold 1.5.")
@click.option("--baseline-risk", type=float,
              help="Control-arm risk for absolute effects [default: pooled control arms].")
@click.option("--likelihood", type=click.Choice(["binomial", "conditional"]),
              default="binomial", show_default=True,
              help="binomial: binomial-normal model; conditional: each trial's treatment-arm "
                   "events given its total (non-central hypergeometric), no baselines.")
@_sampler_options
@_output_options
def fit_binary_cmd(data: str, layout: str, columns: tuple[str, ...], treatment: str | None,
                   control: str | None, sep: str, encoding: str, subgroup: str | None,
                   subgroup_column: str, model_file: str | None, tau_prior: str | None,
                   effect_prior: str | None, baseline_prior: str | None,
                   thresholds: tuple[float, ...], baseline_risk: float | None,
                   likelihood: str, sampler: str, chains: int, draws: int, tune: int,
                   seed: int, target_accept: float, cores: int | None,
                   json_path: Path | None, csv_path: Path | None, save_path: Path | None,
                   force: bool, quiet: bool, strict: bool) -> None:
    """Binomial-normal meta-analysis of two-arm event counts (rare adverse events).

    DATA is a CSV file (study, events_t, n_t, events_c, n_c — or one row per arm:
    study, arm, events, n) or a bundled dataset name (see `bayesmeta data list`).
    --likelihood conditional fits the non-central hypergeometric-normal model instead
    (each trial's treatment-arm events given its total; no baselines, no baseline prior).
    """
    from bayesmeta import api
    from bayesmeta.presentation.binary_text import render_binary
    from bayesmeta.presentation.progress import TerminalProgress

    _check_outputs(force, json_path, csv_path, save_path)
    binary = api.load_binary(data, subgroup=subgroup, subgroup_column=subgroup_column,
                             **_read_options(columns, sep, encoding, layout=layout,
                                             treatment=treatment, control=control))
    res = api.fit_binary(
        binary, model=model_file, tau_prior=tau_prior, effect_prior=effect_prior,
        baseline_prior=baseline_prior, thresholds=thresholds, baseline_risk=baseline_risk,
        likelihood=likelihood, progress=TerminalProgress(enabled=not quiet),
        **_sampler_settings())
    _show_fit(res, render_binary, _label(data, subgroup, subgroup_column),
              json_path, csv_path, save_path, force, strict)


@fit.command("longitudinal")
@click.argument("data")
@click.option("--time-col", help="Column holding the time of each row [default: time, months, "
              "month, follow_up or timepoint, the first present].")
@click.option("--missing-time", type=float,
              help="Time given to rows with an empty time cell (an assumption, reported), e.g. "
                   "24 for a '> 12 months' follow-up.")
@click.option("--time-unit", help="Unit of time for labels [default: months; none for a "
              "'timepoint' index].")
@click.option("--measure", type=click.Choice(["MD", "SMD"]), default=None,
              help="Arm-level data: mean difference or Hedges' g [default: MD].")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE",
              help="Keep rows with this value, e.g. --where outcome=sledai (repeatable).")
@_col_option("yi=md --col sei=se_md")
@_arm_options("Arm rows")
@_SEP
@_ENCODING
@click.option("--structure", type=click.Choice(["ar1", "cs", "un"]), default="ar1",
              show_default=True, help="Between-study correlation over time: continuous-time "
              "AR(1), compound symmetry, or unstructured (LKJ).")
@click.option("--tau-per-time/--tau-common", default=None,
              help="One between-study SD per time point, or one for all [default: common for "
                   "ar1/cs, per time for un].")
@click.option("--within", type=click.Choice(["cs", "ar1"]), default="cs", show_default=True,
              help="Within-study correlation of a study's estimates: rho_w between any two "
                   "times (cs) or rho_w^|t - t'| (ar1).")
@click.option("--rho-within", help="Within-study correlation: a number (fixed) or a prior such "
              "as beta:2:2 [default: 0.5].")
@click.option("--effect-prior", help="Prior of each pooled effect [default: normal(0, 10 U), "
              "U the data's scale].")
@click.option("--tau-prior", help="Prior of the between-study SD [default: half-normal(U)].")
@click.option("--corr-prior", help="Prior of phi (ar1) or rho (cs) [default: uniform:0:1].")
@click.option("--lkj-eta", type=float, help="LKJ shape for --structure un [default: 2].")
@click.option("--lower-is-better/--higher-is-better", "lower_is_better", default=None,
              help="The outcome's direction, for P(benefit) [bundled datasets know theirs].")
@click.option("--threshold", "thresholds", type=float, multiple=True, metavar="C",
              help="Also report P(effect < C) and P(effect > C) (repeatable), e.g. a minimal "
                   "important difference.")
@_path_option("--plot", "plot_path",
              help="Draw the effect over time with its intervals (.png, .pdf, .svg).")
@_sampler_options
@_output_options
def fit_longitudinal_cmd(data: str, time_col: str | None, missing_time: float | None,
                         time_unit: str | None, measure: str | None, where: tuple[str, ...],
                         columns: tuple[str, ...], treatment: str | None, control: str | None,
                         sep: str, encoding: str, structure: str, tau_per_time: bool | None,
                         within: str, rho_within: str | None, effect_prior: str | None,
                         tau_prior: str | None, corr_prior: str | None, lkj_eta: float | None,
                         lower_is_better: bool | None, thresholds: tuple[float, ...],
                         plot_path: Path | None, sampler: str, chains: int, draws: int,
                         tune: int, seed: int, target_accept: float, cores: int | None,
                         json_path: Path | None, csv_path: Path | None, save_path: Path | None,
                         force: bool, quiet: bool, strict: bool) -> None:
    """Effects at repeated follow-ups, pooled jointly over time (continuous outcomes).

    DATA has one row per study and time point: contrasts (study, time, yi, sei or vi) or
    arms (study, time, mean_t, sd_t, n_t, mean_c, sd_c, n_c — or one row per arm: study,
    time, arm, mean, sd, n); or a bundled dataset name (try ishak2007).
    """
    from bayesmeta import api
    from bayesmeta.presentation.longitudinal_plot import check_plot_path, plot_effect_over_time
    from bayesmeta.presentation.longitudinal_text import render_longitudinal
    from bayesmeta.presentation.outputs import write_csv, write_json
    from bayesmeta.presentation.progress import TerminalProgress

    _check_outputs(force, json_path, csv_path, save_path)
    if plot_path is not None:
        check_plot_path(plot_path, force=force)
    res = api.fit_longitudinal(
        data, structure=structure, tau_per_time=tau_per_time, within=within,
        rho_within=rho_within, effect_prior=effect_prior, tau_prior=tau_prior,
        corr_prior=corr_prior, lkj_eta=lkj_eta, lower_is_better=lower_is_better,
        thresholds=thresholds, time_col=time_col, missing_time=missing_time,
        time_unit=time_unit, measure=measure, where=_parse_pairs(where, "--where"),
        progress=TerminalProgress(enabled=not quiet),
        read_options=_read_options(columns, sep, encoding, treatment=treatment,
                                   control=control),
        **_sampler_settings())
    click.echo(render_longitudinal(res, label=data))
    _write_files([
        (json_path, lambda p: write_json(res.to_dict(), p, force=force)),
        (csv_path, lambda p: write_csv(_longitudinal_table(res), p, force=force)),
        (save_path, lambda p: res.to_netcdf(p, force=force)),
        (plot_path, lambda p: plot_effect_over_time(res, p, force=force,
                                                    title=f"Effect over time — {data}"))])
    _report_diagnostics(res.diagnostics, strict)


def _parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    from bayesmeta.errors import InputError

    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"'{pair}' must look like COLUMN=VALUE, e.g. outcome=sledai",
                             source=option)
        out[key.strip()] = value.strip()
    return out


def _longitudinal_table(res: Any):
    """The summary (quantity × time) with the probabilities as extra rows in 'mean'."""
    import pandas as pd

    table = res.summary()
    extra = []
    for row in res.effects().itertuples():
        for key in ("p_lt_0", "p_gt_0", "p_new_lt_0", "p_new_gt_0", "p_benefit",
                    "p_new_benefit"):
            value = getattr(row, key)
            if value is not None:
                extra.append({"quantity": key, "time": row.time, "mean": value})
    probs = pd.DataFrame(extra).set_index(["quantity", "time"])
    return pd.concat([table, probs])


def _write_files(outputs: list[tuple[Path | None, Callable[[Path], object]]]) -> None:
    """Write each output whose path was given, in order, saying so."""
    for path, write in outputs:
        if path:
            write(path)
            click.echo(f"Wrote {path}")


def _write_outputs(res: Any, json_path: Path | None, csv_path: Path | None,
                   save_path: Path | None, force: bool) -> None:
    """A fit's --json, --csv (summary with probabilities) and --save files."""
    from bayesmeta.presentation.outputs import write_csv, write_json

    _write_files([(json_path, lambda p: write_json(res.to_dict(), p, force=force)),
                  (csv_path, lambda p: write_csv(_summary_with_probabilities(res), p,
                                                 force=force)),
                  (save_path, lambda p: res.to_netcdf(p, force=force))])


def _show_fit(res: Any, render: Callable[..., str], label: str, json_path: Path | None,
              csv_path: Path | None, save_path: Path | None, force: bool,
              strict: bool) -> None:
    """The tail of every `fit` command: label the result (saved with --save, so that
    `show` prints it again), print it, write the outputs, report failed diagnostics."""
    res = dataclasses.replace(res, label=label)
    click.echo(render(res, label=label))
    _write_outputs(res, json_path, csv_path, save_path, force)
    if res.diagnostics is not None:  # exact fits have no sampler
        _report_diagnostics(res.diagnostics, strict)


#: CSV row labels of the probabilities in each result's JSON (``{c}``: a threshold).
PROBABILITY_LABELS = {
    "or_gt_1": "P(OR>1)", "or_gt": "P(OR>{c})", "or_new_gt": "P(OR_new>{c})",
    "rr_gt_1": "P(RR>1)", "rr_gt": "P(RR>{c})", "rr_new_gt": "P(RR_new>{c})",
    "hr_gt": "P(HR>{c})", "hr_new_gt": "P(HR_new>{c})",
    "mu_gt_0": "P(mu>0)", "mu_gt": "P(mu>{c})",
    "theta_new_gt_0": "P(theta_new>0)", "theta_new_gt": "P(theta_new>{c})",
}


def _summary_with_probabilities(res: Any):
    import pandas as pd

    table = res.summary()
    rows: dict[str, float] = {}
    for key, value in res.probabilities().items():
        label = PROBABILITY_LABELS.get(key, f"P({key})")
        if isinstance(value, dict):
            rows.update({label.format(c=c): p for c, p in value.items()})
        elif value is not None:
            rows[label] = value
    extra = pd.DataFrame({"mean": list(rows.values())}, index=pd.Index(list(rows),
                                                                       name="quantity"))
    return pd.concat([table, extra])


def _report_diagnostics(diag: Any, strict: bool) -> None:
    if not diag.ok:
        _warn(f"{len(diag.problems)} sampler problem(s): "
              + "; ".join(p.check for p in diag.problems) + " — see the remedies above.",
              strict)


def _warn(message: str, strict: bool) -> None:
    """A warning on standard error; with --strict, exit with status 3 after it."""
    click.secho(f"WARNING: {message}", fg="red", err=True)
    if strict:
        raise click.exceptions.Exit(EXIT_DIAGNOSTICS)


# -- fit effects / fit continuous (normal-normal model) --------------------------------
_nnhm_options = _options(
    click.option("--model", "model_file",
                 help="Model file: bundled (nnhm_log_ratio, nnhm_smd, nnhm_reference) or "
                      "a TOML path."),
    click.option("--tau-prior",
                 help="Heterogeneity prior, e.g. halfnormal:0.5, halfcauchy:25, "
                      "turner:adverse-events:pharma-vs-placebo, rhodes:general, "
                      "uniform_improper, jeffreys. Default by measure: logOR/logRR/logHR "
                      "halfnormal:0.5, SMD halfnormal:0.25; MD/RD/generic: none (give "
                      "one)."),
    click.option("--mu-prior", "--effect-prior", "mu_prior",
                 help="Prior of the pooled effect mu, e.g. normal:0:4 or flat. Default: "
                      "logOR etc. normal:0:4, SMD normal:0:2, otherwise flat."),
    click.option("--method", type=click.Choice(["exact", "mcmc"]), default="exact",
                 show_default=True,
                 help="exact: quadrature (milliseconds, no Monte Carlo error); mcmc: "
                      "NUTS on the same model in PyMC."),
    click.option("--threshold", "thresholds", type=float, multiple=True, metavar="C",
                 help="Also report P(effect > C) for the pooled and a new study's "
                      "effect (repeatable). C is on the displayed scale, as for plot, "
                      "report and sensitivity: an OR (RR, HR) for log ratios, e.g. "
                      "--threshold 1.5; otherwise the effects' own units."),
    _SUBGROUP_OPTIONS, _col_option("yi=logHR"), _SEP, _ENCODING,
)


@fit.command("effects")
@click.argument("data")
@click.option("--measure", help="Scale of the effects: logOR, logRR, logHR, RD, MD, SMD or "
                                "generic [default: generic; for 2x2 counts: logOR].")
@click.option("--cc", type=float, help="Two-arm counts only: continuity correction added to "
                                       "the cells (e.g. 0.5); none unless given, and reported.")
@click.option("--cc-to", type=click.Choice(["only0", "all", "if0all"]),
              help="Which tables get --cc (metafor's rules) [default: only0].")
@click.option("--keep-double-zero", is_flag=True,
              help="Two-arm counts: keep studies with no events in either arm (needs --cc).")
@click.option("--layout", type=click.Choice(["auto", "wide", "long"]), default="auto",
              show_default=True, help="Two-arm counts: one row per study or per arm.")
@click.option("--treatment", help="Long layout of counts: the treatment arm's label.")
@click.option("--control", help="Long layout of counts: the control arm's label.")
@_nnhm_options
@_sampler_options
@_output_options
def fit_effects_cmd(data: str, measure: str | None, cc: float | None, cc_to: str | None,
                    keep_double_zero: bool, layout: str, treatment: str | None,
                    control: str | None, model_file: str | None, tau_prior: str | None,
                    mu_prior: str | None, method: str, thresholds: tuple[float, ...],
                    subgroup: str | None, subgroup_column: str, columns: tuple[str, ...],
                    sep: str, encoding: str, sampler: str, chains: int, draws: int,
                    tune: int, seed: int, target_accept: float, cores: int | None,
                    json_path: Path | None, csv_path: Path | None, save_path: Path | None,
                    force: bool, quiet: bool, strict: bool) -> None:
    """Normal-normal random-effects meta-analysis of effect estimates (exact by default).

    DATA is a CSV file with study, yi and sei (or vi) — y/sigma, TE/seTE are recognised —
    or a bundled dataset name (see `bayesmeta data list`). Two-arm event counts are turned
    into log ORs (--measure logOR|logRR|RD), with a continuity correction only if --cc is
    given.
    """
    from bayesmeta import api
    from bayesmeta.errors import InputError
    from bayesmeta.presentation.effects_text import render_effects
    from bayesmeta.presentation.progress import TerminalProgress

    _check_outputs(force, json_path, csv_path, save_path)
    if cc is None and cc_to is not None:
        raise InputError("says which tables get the continuity correction: give --cc too "
                         "(e.g. --cc 0.5)", source="--cc-to")
    effects = api.load_effects(data, measure=measure, subgroup=subgroup,
                               subgroup_column=subgroup_column, cc=cc,
                               cc_to=cc_to or "only0", drop_double_zero=not keep_double_zero,
                               **_read_options(columns, sep, encoding, layout=layout,
                                               treatment=treatment, control=control))
    res = api.fit_effects(
        effects, model=model_file, tau_prior=tau_prior, mu_prior=mu_prior, method=method,
        thresholds=thresholds, progress=TerminalProgress(enabled=not quiet),
        **_sampler_settings())
    _show_fit(res, render_effects, _label(data, subgroup, subgroup_column),
              json_path, csv_path, save_path, force, strict)


@fit.command("continuous")
@click.argument("data")
@click.option("--measure", required=True, type=click.Choice(["MD", "SMD"],
                                                            case_sensitive=False),
              help="Mean difference (outcome's units) or standardised mean difference "
                   "(Hedges' g).")
@click.option("--outcome-type", type=click.Choice(["final", "change"]),
              help="Means are final values or changes from baseline (all studies), when "
                   "the file has no outcome_type column.")
@_LAYOUT
@_arm_options("Long layout")
@_nnhm_options
@_sampler_options
@_output_options
def fit_continuous_cmd(data: str, measure: str, outcome_type: str | None, layout: str,
                       treatment: str | None, control: str | None, model_file: str | None,
                       tau_prior: str | None, mu_prior: str | None, method: str,
                       thresholds: tuple[float, ...], subgroup: str | None,
                       subgroup_column: str, columns: tuple[str, ...], sep: str,
                       encoding: str, sampler: str, chains: int, draws: int, tune: int,
                       seed: int, target_accept: float, cores: int | None,
                       json_path: Path | None, csv_path: Path | None,
                       save_path: Path | None, force: bool, quiet: bool,
                       strict: bool) -> None:
    """Meta-analysis of arm-level continuous outcomes as MD or SMD (normal-normal model).

    DATA is a CSV file (study, mean_t, sd_t, n_t, mean_c, sd_c, n_c — metafor's m1i, sd1i,
    n1i, m2i, sd2i, n2i are recognised — or one row per arm: study, arm, mean, sd, n) or a
    bundled dataset name. An outcome_type column (final/change) or --outcome-type says
    whether means are final values or changes from baseline.
    """
    from bayesmeta import api
    from bayesmeta.presentation.effects_text import render_effects
    from bayesmeta.presentation.progress import TerminalProgress

    _check_outputs(force, json_path, csv_path, save_path)
    res = api.fit_continuous(
        data, measure=measure.upper(), outcome_type=outcome_type, model=model_file,
        tau_prior=tau_prior, mu_prior=mu_prior, method=method, thresholds=thresholds,
        subgroup=subgroup, progress=TerminalProgress(enabled=not quiet),
        read_options=_read_options(columns, sep, encoding, layout=layout,
                                   treatment=treatment, control=control),
        **_sampler_settings())
    _show_fit(res, render_effects, _label(data, subgroup, subgroup_column),
              json_path, csv_path, save_path, force, strict)


@fit.command("rates")
@click.argument("data")
@_col_option("exposure_t=py_msc")
@_SEP
@_ENCODING
@_SUBGROUP_OPTIONS
@_two_arm_model_options(
    "poisson_normal", effect="Prior of the pooled log rate ratio [normal:0:2.82].",
    baseline="Prior of study log event rates [normal:0:10].", ratio="RR",
    threshold="Also report P(rate ratio > RR) (repeatable).")
@click.option("--baseline-rate", type=float,
              help="Control-arm events per unit of person-time for absolute effects "
                   "[default: pooled control arms].")
@_sampler_options
@_output_options
def fit_rates_cmd(data: str, columns: tuple[str, ...], sep: str, encoding: str,
                  subgroup: str | None, subgroup_column: str, model_file: str | None,
                  tau_prior: str | None, effect_prior: str | None, baseline_prior: str | None,
                  thresholds: tuple[float, ...], baseline_rate: float | None, sampler: str,
                  chains: int, draws: int, tune: int, seed: int, target_accept: float,
                  cores: int | None, json_path: Path | None, csv_path: Path | None,
                  save_path: Path | None, force: bool, quiet: bool, strict: bool) -> None:
    """Poisson-normal meta-analysis of events over person-time (adverse-event rates).

    DATA is a CSV file with one row per study — study, events_t, exposure_t, events_c,
    exposure_c (person-time, e.g. person-years; metafor's x1i, t1i, x2i, t2i work too) —
    or a bundled dataset name (see `bayesmeta data list`).
    """
    from bayesmeta import api
    from bayesmeta.presentation.progress import TerminalProgress
    from bayesmeta.presentation.rates_text import render_rates

    _check_outputs(force, json_path, csv_path, save_path)
    rates = api.load_rates(data, subgroup=subgroup, subgroup_column=subgroup_column,
                           **_read_options(columns, sep, encoding))
    res = api.fit_rates(
        rates, model=model_file, tau_prior=tau_prior, effect_prior=effect_prior,
        baseline_prior=baseline_prior, thresholds=thresholds, baseline_rate=baseline_rate,
        progress=TerminalProgress(enabled=not quiet), **_sampler_settings())
    _show_fit(res, render_rates, _label(data, subgroup, subgroup_column),
              json_path, csv_path, save_path, force, strict)


# -- show ------------------------------------------------------------------------------
@cli.command("show")
@click.argument("path", type=click.Path(dir_okay=True, path_type=Path))
@_path_option("--json", "json_path",
              help="Write the summary for scripts as JSON (the same document as the fit's).")
@_path_option("--csv", "csv_path", help="Write the summary table as CSV.")
@_FORCE
def show_cmd(path: Path, json_path: Path | None, csv_path: Path | None, force: bool) -> None:
    """Print a saved fit (--save FILE.nc) again, without refitting.

    The summary, --json and --csv are those of the original fit: same draws, data, priors,
    settings, diagnostics and software versions.
    """
    from bayesmeta.presentation.render import render_result
    from bayesmeta.results.load import load_result

    _check_outputs(force, json_path, csv_path)
    res = load_result(path)
    click.echo(render_result(res))
    _write_outputs(res, json_path, csv_path, None, force)
    if res.diagnostics is not None:  # exact fits have no sampler
        _report_diagnostics(res.diagnostics, strict=False)


# -- compare -----------------------------------------------------------------------------
@cli.command("compare")
@click.argument("data", required=False)
@click.option("--methods", help="Comma-separated method names (see --list), or 'all' "
                                "[default: the teaching set for the data and measure].")
@click.option("--measure", type=click.Choice(["OR", "RR", "RD", "IRR", "all"]),
              help="Effect measure [default: OR for events, IRR for rates; all = every "
                   "measure].")
@click.option("--no-bayes", "no_bayes", is_flag=True,
              help="Only the classical methods (no MCMC; takes about a second).")
@click.option("--list", "list_methods", is_flag=True, help="List the methods and exit.")
@click.option("--tau-prior", help="Heterogeneity prior of every Bayesian model.")
@click.option("--effect-prior", help="Prior of the pooled effect of every Bayesian model.")
@click.option("--cc", type=float, default=0.5, show_default=True,
              help="Continuity correction of the inverse-variance methods.")
@click.option("--level", type=float, default=0.95, show_default=True,
              help="Confidence level of the classical intervals.")
@_SUBGROUP
@_col_option("events_t=deaths_msc")
@_path_option("--plot", "plot_path",
              help="Draw the forest-style comparison plot (.png, .pdf, .svg).")
@_sampler_options
@_path_option("--json", "json_path",
              help="Write every method's result as JSON (see docs/json.md).")
@_path_option("--csv", "csv_path", help="Write the comparison table as CSV.")
@_FORCE
@_QUIET
def compare_cmd(data: str | None, methods: str | None, measure: str | None, no_bayes: bool,
                list_methods: bool, tau_prior: str | None, effect_prior: str | None,
                cc: float, level: float, subgroup: str | None, columns: tuple[str, ...],
                plot_path: Path | None, sampler: str, chains: int, draws: int, tune: int,
                seed: int, target_accept: float, cores: int | None, json_path: Path | None,
                csv_path: Path | None, force: bool, quiet: bool) -> None:
    """Every classical method and every Bayesian model on the same data, in one table.

    DATA: two-arm event counts or events over person-time (CSV or bundled name). The
    classical methods (Mantel-Haenszel, Peto, inverse variance with DerSimonian-Laird,
    REML and Paule-Mandel, Hartung-Knapp intervals, the binomial-normal GLMM) are shown as
    comparators with what each does to zero cells; the Bayesian models use exact
    likelihoods.
    """
    from bayesmeta.api.comparison import METHODS
    from bayesmeta.errors import InputError
    from bayesmeta.presentation.text import table

    if list_methods:
        rows = [[m.name, m.kind, m.data_kind, m.measure, m.label, m.zeros]
                for m in METHODS.values()]
        click.echo(table(rows, header=["name", "kind", "data", "measure", "method",
                                       "zero cells"], align="llllll", indent=0))
        return
    if data is None:
        raise InputError("give a data file or bundled dataset name (or --list)",
                         source="DATA")
    from bayesmeta.api.comparison import compare
    from bayesmeta.presentation.comparison_text import render_comparison
    from bayesmeta.presentation.outputs import write_csv, write_json
    from bayesmeta.presentation.progress import TerminalProgress

    _check_outputs(force, json_path, csv_path, plot_path)
    if plot_path:
        from bayesmeta.presentation.comparison_plot import plot_format

        plot_format(plot_path)
    comparison = compare(
        data, methods=None if methods is None else methods.split(","), measure=measure,
        bayesian=not no_bayes, tau_prior=tau_prior, effect_prior=effect_prior, level=level,
        cc=cc, subgroup=subgroup, progress=TerminalProgress(enabled=not quiet),
        read_options={"columns": _parse_columns(columns)} if columns else None,
        **_sampler_settings())
    label = _label(data, subgroup)
    click.echo(render_comparison(comparison, label=label))

    def plot(path: Path) -> None:
        from bayesmeta.presentation.comparison_plot import plot_comparison

        plot_comparison(comparison, path, force=force, title=label)

    _write_files([(json_path, lambda p: write_json(comparison.to_dict(), p, force=force)),
                  (csv_path, lambda p: write_csv(comparison.table(), p, force=force)),
                  (plot_path, plot)])


# -- sensitivity -----------------------------------------------------------------------
PLOT_FORMATS = ("png", "pdf", "svg")


@cli.command("sensitivity")
@click.argument("data")
@click.option("--model", "model_kind", type=click.Choice(["binary", "effects", "continuous"]),
              default="binary", show_default=True,
              help="binary: binomial-normal model of two-arm counts; effects / continuous: "
                   "normal-normal model of effect estimates / arm-level means (as `fit "
                   "effects` / `fit continuous`; exact by default).")
@click.option("--priors", "prior_set", default=None,
              help="Prior set: a TOML file or a bundled name [default: binary "
                   "sensitivity_rare_events (or sensitivity_tau); effects by measure: "
                   "sensitivity_log_ratio for logOR/RR/HR, sensitivity_smd for SMD].")
@click.option("--threshold", "thresholds", type=float, multiple=True, metavar="C",
              help="Decision threshold besides no effect (repeatable): an OR (RR, HR) for "
                   "binary data and log-ratio effects, e.g. --threshold 1.5; otherwise on the "
                   "measure's scale, e.g. an SMD of 0.2.")
@click.option("--method", type=click.Choice(["refit", "reweight", "exact", "mcmc"]),
              default=None,
              help="binary: refit [default] (MCMC under every prior) or reweight (reweight "
                   "the reference fit where Pareto k̂ allows, refit the rest); effects/"
                   "continuous: exact [default] (quadrature, milliseconds) or mcmc.")
@click.option("--tau-scale-curve", "tau_curve", metavar="FAMILY:FROM:TO",
              help="Effects/continuous: instead of a prior set, sweep the scale of one tau "
                   "prior family over a fine grid with exact fits and report P(harm) and the "
                   "pooled estimate as a curve, e.g. halfnormal:0.1:2 (also halfcauchy, "
                   "halft:NU, exponential (mean), uniform (upper bound)).")
@click.option("--grid", "grid_points", type=int, default=100, show_default=True,
              help="Points of the --tau-scale-curve grid (log-spaced).")
@click.option("--mu-prior", "mu_prior",
              help="With --tau-scale-curve: prior of the pooled effect mu [default: the "
                   "measure's, e.g. normal:0:4 for log ratios].")
@click.option("--measure", help="Effects: logOR, logRR, logHR, RD, MD, SMD or generic (as "
                                "`fit effects`); continuous: MD or SMD (required).")
@click.option("--outcome-type", type=click.Choice(["final", "change"]),
              help="Continuous: means are final values or changes from baseline.")
@click.option("--cc", type=float, help="Effects from two-arm counts: continuity correction "
                                       "(e.g. 0.5); none unless given, and reported.")
@click.option("--cc-to", type=click.Choice(["only0", "all", "if0all"]), default="only0",
              show_default=True, help="Which tables get --cc (metafor's rules).")
@click.option("--keep-double-zero", is_flag=True,
              help="Effects from two-arm counts: keep double-zero studies (needs --cc).")
@_binary_reading_options
@_sampler_options
@_path_option("--json", "json_path",
              help="Write the table, verdict and every fit's summary as JSON (docs/json.md).")
@_path_option("--csv", "csv_path", help="Write the table (a row per prior) as CSV.")
@_path_option("--plot", "plot_path",
              help="Plot the pooled effect and P(harm) across priors, or the curve (.png, "
                   ".pdf or .svg).")
@_FORCE
@_QUIET
@click.option("--strict", is_flag=True,
              help="Exit with status 3 when any fit's sampler diagnostics fail.")
def sensitivity_cmd(data: str, model_kind: str, prior_set: str | None,
                    thresholds: tuple[float, ...], method: str | None, tau_curve: str | None,
                    grid_points: int, mu_prior: str | None, measure: str | None,
                    outcome_type: str | None, cc: float | None, cc_to: str,
                    keep_double_zero: bool, layout: str, columns: tuple[str, ...],
                    treatment: str | None,
                    control: str | None, sep: str, encoding: str, subgroup: str | None,
                    subgroup_column: str, sampler: str, chains: int, draws: int, tune: int,
                    seed: int, target_accept: float, cores: int | None,
                    json_path: Path | None, csv_path: Path | None, plot_path: Path | None,
                    force: bool, quiet: bool, strict: bool) -> None:
    """Prior sensitivity: fit DATA under every prior of a prior set and compare.

    Prints a row per prior (pooled OR and 95% CrI, tau, P(OR > 1), P(theta_new > 0),
    diagnostics, power-scaling) and a verdict: whether each OR threshold is crossed under
    any prior and which prior moves it most. The model is compiled once; priors enter as
    data, so each row equals `fit binary` with that prior and seed.

    --model effects|continuous does the same with the normal-normal model, exactly (each
    row equals `fit effects` with that prior); --tau-scale-curve halfnormal:0.1:2 sweeps
    the tau prior's scale instead and reports P(harm) as a curve.
    """
    from bayesmeta import api
    from bayesmeta.errors import InputError
    from bayesmeta.presentation.progress import TerminalProgress
    from bayesmeta.presentation.sensitivity_text import render_sensitivity

    _check_outputs(force, json_path, csv_path, plot_path)
    if plot_path is not None and plot_path.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise InputError(f"the plot must be a {', '.join('.' + f for f in PLOT_FORMATS)} "
                         "file", source=plot_path)
    read_options = _read_options(columns, sep, encoding, layout=layout, treatment=treatment,
                                 control=control)
    label = _label(data, subgroup, subgroup_column)
    if tau_curve is not None or model_kind != "binary":
        _sensitivity_nnhm_cmd(
            data, model_kind=model_kind, prior_set=prior_set, thresholds=thresholds,
            method=method, tau_curve=tau_curve, grid_points=grid_points, mu_prior=mu_prior,
            measure=measure, outcome_type=outcome_type, cc=cc, cc_to=cc_to,
            keep_double_zero=keep_double_zero, subgroup=subgroup,
            subgroup_column=subgroup_column, read_options=read_options,
            sampler_settings=_sampler_settings(), json_path=json_path, csv_path=csv_path,
            plot_path=plot_path, force=force, quiet=quiet, strict=strict, label=label)
        return
    for option, value in (("--measure", measure), ("--outcome-type", outcome_type),
                          ("--cc", cc), ("--mu-prior", mu_prior)):
        if value is not None:
            raise InputError("is for --model effects|continuous (the binomial-normal model "
                             "takes two-arm counts as they are)", source=option)
    binary = api.load_binary(data, subgroup=subgroup, subgroup_column=subgroup_column,
                             **read_options)
    res = api.sensitivity(
        binary, priors=prior_set, model=model_kind, method=method, thresholds=thresholds,
        progress=TerminalProgress(enabled=not quiet), **_sampler_settings())
    click.echo(render_sensitivity(res, label=label))
    _write_sweep(res, json_path, csv_path, plot_path, force, label, "sampler", strict)


def _write_sweep(res: Any, json_path: Path | None, csv_path: Path | None,
                 plot_path: Path | None, force: bool, label: str, checks: str,
                 strict: bool) -> None:
    """The outputs of a prior sweep (JSON, table, plot), then a warning naming the priors
    whose fits failed their ``checks`` (sampler or quadrature)."""
    from bayesmeta.presentation.outputs import write_csv, write_json

    def plot(path: Path) -> None:
        from bayesmeta.presentation.sensitivity_plot import plot_sensitivity

        plot_sensitivity(res, path, force=force, label=label)

    _write_files([(json_path, lambda p: write_json(res.to_dict(), p, force=force)),
                  (csv_path, lambda p: write_csv(res.table(), p, force=force)),
                  (plot_path, plot)])
    bad = [r.name for r in res.rows if not r.diagnostics_ok]
    if bad:
        _warn(f"{checks} problems under {', '.join(bad)} — see the table.", strict)


def _sensitivity_nnhm_cmd(data: str, *, model_kind: str, prior_set: str | None,
                          thresholds: tuple[float, ...], method: str | None,
                          tau_curve: str | None, grid_points: int, mu_prior: str | None,
                          measure: str | None, outcome_type: str | None, cc: float | None,
                          cc_to: str, keep_double_zero: bool, subgroup: str | None,
                          subgroup_column: str, read_options: dict[str, Any],
                          sampler_settings: dict[str, Any], json_path: Path | None,
                          csv_path: Path | None, plot_path: Path | None, force: bool,
                          quiet: bool, strict: bool, label: str) -> None:
    """``sensitivity --model effects|continuous`` and ``--tau-scale-curve``."""
    from bayesmeta import api
    from bayesmeta.api.nnhm_sweeps import load_nnhm_effects
    from bayesmeta.errors import InputError
    from bayesmeta.presentation.progress import TerminalProgress

    if tau_curve is not None:  # refused before any data is read, with one line
        if model_kind == "binary":
            raise InputError("the curve needs the exact normal-normal model: add --model "
                             "effects (two-arm counts: with --cc 0.5) or --model continuous",
                             source="--tau-scale-curve")
        if method not in (None, "exact"):
            raise InputError("the curve is computed by the exact method only",
                             source="--method")
        if prior_set is not None:
            raise InputError("give a prior set or a curve, not both", source="--priors")
    elif mu_prior is not None:
        raise InputError("is for --tau-scale-curve (a prior set names its own mu priors)",
                         source="--mu-prior")
    progress = TerminalProgress(enabled=not quiet)
    effects = load_nnhm_effects(data, model=model_kind, measure=measure,
                                outcome_type=outcome_type, subgroup=subgroup,
                                subgroup_column=subgroup_column, cc=cc, cc_to=cc_to,
                                drop_double_zero=not keep_double_zero,
                                read_options=read_options)
    if tau_curve is not None:
        from bayesmeta.presentation.effects_sensitivity_text import render_tau_scale_curve
        from bayesmeta.presentation.outputs import write_csv, write_json
        from bayesmeta.presentation.sensitivity_plot import plot_tau_scale_curve

        curve = api.tau_scale_curve(effects, tau_curve, points=grid_points, mu_prior=mu_prior,
                                    thresholds=thresholds, progress=progress)
        click.echo(render_tau_scale_curve(curve, label=label))
        _write_files([(json_path, lambda p: write_json(curve.to_dict(), p, force=force)),
                      (csv_path, lambda p: write_csv(curve.table(), p, force=force)),
                      (plot_path, lambda p: plot_tau_scale_curve(curve, p, force=force,
                                                                 label=label))])
        return
    from bayesmeta.presentation.effects_sensitivity_text import render_effects_sensitivity

    res = api.sensitivity(effects, model="effects", priors=prior_set, method=method,
                          thresholds=thresholds, progress=progress, **sampler_settings)
    click.echo(render_effects_sensitivity(res, label=label))
    _write_sweep(res, json_path, csv_path, plot_path, force, label,
                 "sampler" if method == "mcmc" else "quadrature", strict)


# -- data ------------------------------------------------------------------------------
@cli.group()
def data() -> None:
    """List and show the bundled datasets."""


@data.command("list")
def data_list() -> None:
    """List bundled datasets (their names work wherever a data path does)."""
    from bayesmeta.data.datasets import registry
    from bayesmeta.presentation.text import table

    rows = [[ds.name, ds.kind, ds.outcome if len(ds.outcome) < 60 else ds.outcome[:57] + "..."]
            for ds in registry().values()]
    click.echo(table(rows, header=["name", "kind", "outcome"], align="lll", indent=0))


@data.command("show")
@click.argument("name")
def data_show(name: str) -> None:
    """Show a bundled dataset: source, notes and the table itself."""
    import pandas as pd

    from bayesmeta.data.datasets import get_dataset

    ds = get_dataset(name)
    frame = pd.read_csv(ds.path)
    wide_text = [c for c in frame.columns if c in {"source", "notes", "outcome_as_reported",
                                                   "condition", "population", "source_quote"}]
    click.echo(f"{ds.name}: {ds.title}\nOutcome: {ds.outcome}\nKind: {ds.kind}   "
               f"File: {ds.path}\nSource: {ds.citation}")
    if ds.notes:
        click.echo(f"Notes: {ds.notes}")
    click.echo("")
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        click.echo(frame.drop(columns=wide_text).to_string(index=False))


# -- plot, influence, report ---------------------------------------------------------------
def _analysis_options(f):
    """DATA plus the data, prior, threshold and sampler options of an analysis; DATA may
    also be a fit saved with ``--save`` (``.nc``), which is then used as it is."""
    return _options(
        _sampler_options,  # first in --help, as always
        click.argument("data"),
        click.option("--model", "model_name", default="binary", show_default=True,
                     help="Model: binary (binomial-normal; --likelihood conditional), "
                          "effects or continuous (normal-normal, exact by default), rates "
                          "(Poisson-normal), or a model file (bundled name such as "
                          "binomial_normal_vague or nnhm_reference, or a TOML path)."),
        _LAYOUT, _col_option("events_t=deaths_msc"), _arm_options("Long layout"),
        click.option("--sep", default=",", show_default=True, help="CSV field separator."),
        click.option("--encoding", default="utf-8", show_default=True),
        _SUBGROUP_OPTIONS,
        click.option("--tau-prior", help="Heterogeneity prior, e.g. halfnormal:0.5 "
                                         "[default]."),
        click.option("--effect-prior", "--mu-prior", "effect_prior",
                     help="Prior of the pooled effect: log OR or log rate ratio "
                          "[normal:0:2.82]; the normal-normal model's mu [by measure]."),
        click.option("--baseline-prior", help="Prior of study baselines [normal:0:10]."),
        click.option("--threshold", type=float, metavar="C",
                     help="Harm threshold on the displayed scale (OR, RR; MD, SMD as they "
                          "are): P(effect > C) is reported and shaded [default: no effect]."),
        click.option("--baseline-risk", type=float,
                     help="binary: control-arm risk for absolute effects [pooled control "
                          "arms]."),
        click.option("--likelihood", type=click.Choice(["binomial", "conditional"]),
                     help="binary: binomial-normal [default] or conditional "
                          "(hypergeometric) likelihood."),
        click.option("--measure", help="effects: logOR, logRR, logHR, RD, MD, SMD or generic "
                                       "[generic; 2x2 counts: logOR]; continuous: MD or SMD."),
        click.option("--method", type=click.Choice(["exact", "mcmc"]),
                     help="effects/continuous: exact quadrature [default] or mcmc."),
        click.option("--cc", type=float, help="effects from 2x2 counts: continuity "
                                              "correction (e.g. 0.5); none unless given."),
        click.option("--cc-to", type=click.Choice(["only0", "all", "if0all"]),
                     help="effects from 2x2 counts: which tables get --cc [only0]."),
        click.option("--keep-double-zero", is_flag=True,
                     help="effects from 2x2 counts: keep double-zero studies (needs --cc)."),
        click.option("--outcome-type", type=click.Choice(["final", "change"]),
                     help="continuous: means are final values or changes from baseline."),
        click.option("--baseline-rate", type=float,
                     help="rates: control-arm events per unit of person-time for absolute "
                          "effects [pooled control arms]."),
    )(f)


_FIT_ONLY = ("layout", "columns", "treatment", "control", "sep", "encoding", "subgroup",
             "tau_prior", "effect_prior", "baseline_prior", "baseline_risk", "sampler",
             "chains", "draws", "tune", "seed", "target_accept", "cores", "likelihood",
             "measure", "method", "cc", "cc_to", "keep_double_zero", "outcome_type",
             "baseline_rate")

#: Options that belong to one model type only (``--model``); the others refuse them.
_MODEL_SPECIFIC = ("layout", "treatment", "control", "baseline_prior", "baseline_risk",
                   "likelihood", "measure", "method", "cc", "cc_to", "keep_double_zero",
                   "outcome_type", "baseline_rate")


def _refuse_options(o: dict[str, Any], allowed: tuple[str, ...], model: str) -> None:
    """An option of another model type given with this one: one line naming it."""
    from bayesmeta.errors import InputError

    for name in _MODEL_SPECIFIC:
        value = o.get(name)
        if name in allowed or value in (None, False) or (name == "layout" and value == "auto"):
            continue
        flag = "--" + name.replace("_", "-")
        raise InputError(f"does not apply to --model {model}", source=flag)


def _is_saved_fit(data: str) -> bool:
    return data.lower().endswith(".nc")


def _result_from_options(ctx: click.Context, progress: Any) -> tuple[Any, str]:
    """Fit the model chosen by the shared options (or read a saved fit); the result and a
    label for the data."""
    from click.core import ParameterSource

    from bayesmeta.errors import InputError

    o = ctx.params
    data = o["data"]
    if _is_saved_fit(data):
        given = [name for name in (*_FIT_ONLY, "model_name")
                 if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)]
        if given:
            flags = ", ".join("--" + g.replace("_name", "").replace("_", "-") for g in given)
            raise InputError(f"{flags} cannot change a saved fit; refit from the data "
                             "instead", source=data)
        progress.stage(f"Reading the saved fit {data}")
        res = _load_saved(data)
        if not hasattr(res, "effect_scale"):  # `show` reads it; plots etc. do not yet
            raise InputError(f"holds a '{res.schema}' fit, which plot, influence and report "
                             "do not draw yet; `bayesmeta show` prints it", source=data)
        return res, data
    name = o["model_name"]
    if name not in MODEL_TYPES and not Path(name).exists():
        from bayesmeta.models.spec_files import bundled_model_files

        if name not in bundled_model_files():
            raise InputError(f"unknown model '{name}'; model types: {', '.join(MODEL_TYPES)}; "
                             f"bundled model files: {', '.join(bundled_model_files())}; or a "
                             "TOML model file's path", source="--model")
    # A name that is not a model type is a model file: its `model` key picks the fitter.
    fitter = MODEL_TYPES.get(name) or _fitter_for_model_file(name)
    res = fitter(o, None if name in MODEL_TYPES else name, progress)
    return res, _label(data, o["subgroup"], o["subgroup_column"])


def _fit_binary_from_options(o: dict[str, Any], model_file: str | None, progress: Any,
                             likelihood: str | None = None) -> Any:
    from bayesmeta import api

    _refuse_options(o, ("layout", "treatment", "control", "baseline_prior", "baseline_risk",
                        "likelihood"), "binary")
    binary = api.load_binary(o["data"], subgroup=o["subgroup"],
                             subgroup_column=o["subgroup_column"], **_read_options_of(o))
    return api.fit_binary(
        binary, model=model_file, tau_prior=o["tau_prior"], effect_prior=o["effect_prior"],
        baseline_prior=o["baseline_prior"], thresholds=_thresholds_of(o),
        baseline_risk=o["baseline_risk"],
        likelihood=likelihood or o["likelihood"] or "binomial", progress=progress,
        **_sampler_kwargs(o))


def _read_options_of(o: dict[str, Any]) -> dict[str, Any]:
    """The reading options among the shared options of an analysis (two-arm layouts)."""
    return _read_options(o["columns"], o["sep"], o["encoding"], layout=o["layout"],
                         treatment=o["treatment"], control=o["control"])


def _thresholds_of(o: dict[str, Any]) -> tuple[float, ...]:
    """--threshold of an analysis as the thresholds of a fit."""
    return () if o["threshold"] is None else (o["threshold"],)


def _fit_effects_from_options(o: dict[str, Any], model_file: str | None, progress: Any) -> Any:
    """The normal-normal model on effect estimates (or log ORs from 2x2 counts), as `fit
    effects`; --threshold is on the displayed scale (an OR for log ORs)."""
    from bayesmeta import api

    _refuse_options(o, ("layout", "treatment", "control", "measure", "method", "cc", "cc_to",
                        "keep_double_zero"), "effects")
    effects = api.load_effects(o["data"], measure=o["measure"], subgroup=o["subgroup"],
                               subgroup_column=o["subgroup_column"], cc=o["cc"],
                               cc_to=o["cc_to"] or "only0",
                               drop_double_zero=not o["keep_double_zero"],
                               **_read_options_of(o))
    return api.fit_effects(effects, model=model_file, tau_prior=o["tau_prior"],
                           mu_prior=o["effect_prior"], method=o["method"] or "exact",
                           thresholds=_thresholds_of(o), progress=progress,
                           **_sampler_kwargs(o))


def _fit_continuous_from_options(o: dict[str, Any], model_file: str | None,
                                 progress: Any) -> Any:
    """The normal-normal model on arm-level means/SDs as MD or SMD, as `fit continuous`."""
    from bayesmeta import api
    from bayesmeta.errors import InputError

    _refuse_options(o, ("layout", "treatment", "control", "measure", "method",
                        "outcome_type"), "continuous")
    if o["measure"] is None or o["measure"].upper() not in ("MD", "SMD"):
        raise InputError("--model continuous needs --measure MD or --measure SMD",
                         source="--measure")
    return api.fit_continuous(
        o["data"], measure=o["measure"].upper(), outcome_type=o["outcome_type"],
        model=model_file, tau_prior=o["tau_prior"], mu_prior=o["effect_prior"],
        method=o["method"] or "exact", thresholds=_thresholds_of(o), subgroup=o["subgroup"],
        progress=progress, read_options=_read_options_of(o), **_sampler_kwargs(o))


def _fit_rates_from_options(o: dict[str, Any], model_file: str | None, progress: Any) -> Any:
    """The Poisson-normal model on events over person-time, as `fit rates`."""
    from bayesmeta import api

    _refuse_options(o, ("baseline_prior", "baseline_rate"), "rates")
    rates = api.load_rates(o["data"], subgroup=o["subgroup"],
                           subgroup_column=o["subgroup_column"],
                           **_read_options(o["columns"], o["sep"], o["encoding"]))
    return api.fit_rates(rates, model=model_file, tau_prior=o["tau_prior"],
                         effect_prior=o["effect_prior"], baseline_prior=o["baseline_prior"],
                         thresholds=_thresholds_of(o), baseline_rate=o["baseline_rate"],
                         progress=progress, **_sampler_kwargs(o))


def _fit_conditional_from_options(o: dict[str, Any], model_file: str | None,
                                  progress: Any) -> Any:
    return _fit_binary_from_options(o, model_file, progress, likelihood="conditional")


#: ``--model`` values naming a model type, and the function fitting it from the shared
#: options (``options, model_file, progress``); any other value is read as a model file.
#: A new model adds its entry.
MODEL_TYPES: dict[str, Any] = {"binary": _fit_binary_from_options,
                               "binomial_normal": _fit_binary_from_options,
                               "conditional": _fit_conditional_from_options,
                               "effects": _fit_effects_from_options,
                               "nnhm": _fit_effects_from_options,
                               "continuous": _fit_continuous_from_options,
                               "rates": _fit_rates_from_options,
                               "poisson_normal": _fit_rates_from_options}

#: The fitter of a model file, by the file's ``model`` key.
MODEL_FILE_FITTERS: dict[str, Any] = {
    "binomial_normal": _fit_binary_from_options,
    "conditional_hypergeometric": _fit_conditional_from_options,
    "nnhm": _fit_effects_from_options,
    "poisson_normal": _fit_rates_from_options,
}


def _fitter_for_model_file(name: str) -> Any:
    from bayesmeta.errors import InputError
    from bayesmeta.models.spec_files import load_model_spec

    spec = load_model_spec(name)
    if spec.model not in MODEL_FILE_FITTERS:
        raise InputError(f"model file is for '{spec.model}', which plot, influence and "
                         "report do not fit", source=str(spec.path))
    return MODEL_FILE_FITTERS[spec.model]


def _command_line(ctx: click.Context) -> str:
    """The command as typed, rebuilt from the options that were given (for the report)."""
    import shlex

    from click.core import ParameterSource

    words = ["bayesmeta", *ctx.command_path.split()[1:]]
    params = sorted(ctx.command.params, key=lambda p: not isinstance(p, click.Argument))
    for param in params:
        name = param.name or ""
        if ctx.get_parameter_source(name) in (ParameterSource.DEFAULT, None):
            continue
        value = ctx.params[name]
        if isinstance(param, click.Argument):
            words.append(str(value))
            continue
        flag = max(param.opts, key=len)
        if getattr(param, "is_flag", False):
            if value:
                words.append(flag)
        elif isinstance(value, tuple):
            words += [w for v in value for w in (flag, str(v))]
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def _warn_diagnostics(diag: Any) -> None:
    """Failed sampler checks, with their remedies, on standard error."""
    if diag is None or diag.ok:
        return
    from bayesmeta.presentation.binary_text import diagnostics_text

    click.secho(diagnostics_text(diag), fg="red", err=True)


def _threshold_of(ctx: click.Context, res: Any) -> float | None:
    """The harm threshold on the displayed scale: --threshold, else the fit's first (a
    result whose thresholds are on another scale gives ``display_thresholds``)."""
    c = ctx.params.get("threshold")
    if c is not None:
        return c
    shown = getattr(res, "display_thresholds", getattr(res, "thresholds", ()))
    return shown[0] if shown else None


@cli.command("plot")
@click.argument("kind", type=click.Choice(["forest", "posterior", "tau", "trace", "rank"]))
@_analysis_options
@click.option("-o", "--output", "output", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Image file: .png, .svg or .pdf.")
@click.option("--predictive", is_flag=True,
              help="posterior: show the effect (OR) of a new study instead of the pooled "
                   "one.")
@click.option("--title", help="Title of the figure.")
@_path_option("--json", "json_path",
              help="Also write the fit's summary as JSON (see docs/json.md).")
@_FORCE
@_QUIET
@click.pass_context
def plot_cmd(ctx: click.Context, kind: str, output: Path, predictive: bool,
             title: str | None, json_path: Path | None, force: bool, quiet: bool,
             **_: Any) -> None:
    """Draw a plot of a meta-analysis: KIND is forest, posterior (harm shaded, P(harm)
    printed), tau (prior vs posterior), trace or rank (sampler diagnostics).

    DATA is a CSV file, a bundled dataset name, or a fit saved with `fit binary --save
    fit.nc` (plotted without refitting). The image format follows OUTPUT's extension.
    """
    from bayesmeta.presentation.outputs import write_json
    from bayesmeta.presentation.plots import plot
    from bayesmeta.presentation.plots.save import check_figure_path
    from bayesmeta.presentation.progress import TerminalProgress

    check_figure_path(output, force=force)
    _check_outputs(force, json_path)
    progress = TerminalProgress(enabled=not quiet)
    res, label = _result_from_options(ctx, progress)
    progress.stage(f"Drawing the {kind} plot")
    options: dict[str, Any] = {"title": title, "threshold": _threshold_of(ctx, res),
                               "predictive": predictive}
    if kind == "forest" and title is None:
        from bayesmeta.presentation.report.builder import report_model_for

        options["title"] = f"{label}: {report_model_for(res).short_name or 'model'}"
    _write_files([(output, lambda p: plot(kind, res, p, force=force, **options)),
                  (json_path, lambda p: write_json(res.to_dict(), p, force=force))])
    _warn_diagnostics(res.diagnostics)


@cli.command("influence")
@_analysis_options
@click.option("--no-refits", is_flag=True,
              help="Only PSIS-LOO (no leave-one-study-out refits).")
@click.option("--study", "studies", multiple=True,
              help="Refit without only these studies (repeatable) [default: each study].")
@_path_option("--json", "json_path",
              help="Write the influence table as JSON (see docs/json.md).")
@_path_option("--csv", "csv_path", help="Write the influence table as CSV.")
@_FORCE
@_QUIET
@click.pass_context
def influence_cmd(ctx: click.Context, no_refits: bool, studies: tuple[str, ...],
                  json_path: Path | None, csv_path: Path | None, force: bool, quiet: bool,
                  **_: Any) -> None:
    """Which study drives the result: PSIS-LOO Pareto k per study, and the pooled OR and
    P(harm) refitted without each study (same priors, settings and seed).

    DATA is a CSV file, a bundled dataset name or a saved fit (.nc).
    """
    from bayesmeta import api
    from bayesmeta.presentation.influence_text import render_influence
    from bayesmeta.presentation.outputs import write_csv, write_json
    from bayesmeta.presentation.progress import TerminalProgress

    _check_outputs(force, json_path, csv_path)
    progress = TerminalProgress(enabled=not quiet)
    res, label = _result_from_options(ctx, progress)
    inf = api.influence(res, refits=not no_refits, threshold=_threshold_of(ctx, res),
                        studies=studies or None, progress=progress)
    click.echo(render_influence(inf, label=label))
    _write_files([(json_path, lambda p: write_json(inf.to_dict(), p, force=force)),
                  (csv_path, lambda p: write_csv(inf.to_frame(), p, force=force))])
    _warn_diagnostics(res.diagnostics)


@cli.command("report")
@_analysis_options
@click.option("-o", "--output", "output", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The HTML file to write.")
@click.option("--no-influence", is_flag=True, help="Leave out the influence analysis.")
@click.option("--no-refits", is_flag=True,
              help="Influence from PSIS-LOO only (no leave-one-study-out refits).")
@click.option("--title", help="Title of the report.")
@click.option("--images", type=click.Choice(["png", "svg"]), default="png",
              show_default=True, help="Format of the inline images.")
@_path_option("--json", "json_path",
              help="Also write the results as JSON (the fit document with 'influence').")
@_FORCE
@_QUIET
@click.pass_context
def report_cmd(ctx: click.Context, output: Path, no_influence: bool, no_refits: bool,
               title: str | None, images: str, json_path: Path | None, force: bool,
               quiet: bool, **_: Any) -> None:
    """Write one self-contained HTML report (opens offline): data, model in math, priors
    with sources, results, harm in words, influence, diagnostics, plots, a methods
    paragraph with citations, software versions and the seed.

    DATA is a CSV file, a bundled dataset name or a saved fit (.nc).
    """
    from bayesmeta import api
    from bayesmeta.presentation.outputs import write_json
    from bayesmeta.presentation.progress import TerminalProgress
    from bayesmeta.presentation.report import build_report, write_report

    _check_outputs(force, output, json_path)
    progress = TerminalProgress(enabled=not quiet)
    res, label = _result_from_options(ctx, progress)
    threshold = _threshold_of(ctx, res)
    inf = None
    if not no_influence:
        progress.stage("Influence: PSIS-LOO" + ("" if no_refits else
                                                " and leave-one-study-out refits"))
        inf = api.influence(res, refits=not no_refits, threshold=threshold,
                            progress=progress)
    progress.stage("Drawing the figures and writing the report")
    html = build_report(res, influence=inf, title=title, label=label, threshold=threshold,
                        command=_command_line(ctx), image_format=images)

    def write_document(path: Path) -> None:
        doc = res.to_dict()
        if inf is not None:
            doc["influence"] = inf.to_dict()
        write_json(doc, path, force=force)

    _write_files([(output, lambda p: write_report(html, p, force=force)),
                  (json_path, write_document)])
    _warn_diagnostics(res.diagnostics)


def _load_saved(path: str):
    from bayesmeta.results.load import load_result

    return load_result(path)


def main() -> None:
    """Console entry point: run the CLI, then leave without the slow interpreter teardown.

    PyTensor/numba objects make a normal interpreter shutdown take ~0.8 s; every output
    file is already written atomically and closed, so we flush and exit at once.
    """
    debug = bool(os.environ.get("BAYESMETA_DEBUG"))
    try:
        code = cli.main(standalone_mode=False)
        code = code if isinstance(code, int) else 0
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.UsageError as exc:  # raised before any command runs (e.g. a bad command)
        if isinstance(exc, click.exceptions.NoArgsIsHelpError):
            exc.show()
        else:
            _one_line_usage_error(exc).show()
        code = EXIT_INPUT
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        code = 1
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = 130
    except Exception as exc:  # a bug: one line, not a traceback, unless debugging
        if debug:
            raise
        click.echo(f"bayesmeta: internal error: {type(exc).__name__}: {exc} "
                   "(set BAYESMETA_DEBUG=1 for the traceback; please report it)", err=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
