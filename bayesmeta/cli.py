"""The ``bayesmeta`` command line: a thin Click layer over :mod:`bayesmeta.api`.

Exit status: 0 success; 2 bad input (one line naming file, row and column, or option);
3 results written but the sampler diagnostics failed and ``--strict`` was given;
1 an internal error (a bug: please report it; ``BAYESMETA_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import os
import sys
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


@click.group(cls=BayesmetaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bayesmeta")
def cli() -> None:
    """Bayesian meta-analysis of clinical trials: rare adverse events, continuous outcomes.

    Start with `bayesmeta data list` and `bayesmeta fit binary crins2014_ar`.
    """


# -- shared options --------------------------------------------------------------------
def _sampler_options(f):
    options = [
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
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _output_options(f):
    options = [
        click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the summary for scripts as JSON (see docs/json.md)."),
        click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the summary table as CSV."),
        click.option("--save", "save_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Save the full posterior, data and settings as NetCDF (.nc)."),
        click.option("--force", is_flag=True, help="Overwrite existing output files."),
        click.option("--quiet", "-q", is_flag=True, help="No progress messages."),
        click.option("--strict", is_flag=True,
                     help="Exit with status 3 when the sampler diagnostics fail."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _check_outputs(force: bool, *paths: Path | None) -> None:
    from bayesmeta.files import check_writable

    for p in paths:
        if p is not None:
            check_writable(p, force=force)


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
@click.option("--layout", type=click.Choice(["auto", "wide", "long"]), default="auto",
              show_default=True, help="One row per study (wide) or per arm (long).")
@click.option("--col", "columns", multiple=True, metavar="OURS=YOURS",
              help="Map a column, e.g. --col events_t=deaths_msc (repeatable).")
@click.option("--treatment", help="Long layout: the arm label of the treatment arm.")
@click.option("--control", help="Long layout: the arm label of the control arm.")
@click.option("--sep", default=",", show_default=True, help="Field separator of the CSV.")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the CSV.")
@click.option("--subgroup", help="Keep only studies whose subgroup column has this value.")
@click.option("--subgroup-column", default="subgroup", show_default=True)
@click.option("--model", "model_file",
              help="Model file: a bundled name (binomial_normal) or a TOML path.")
@click.option("--tau-prior", help="Heterogeneity prior, e.g. halfnormal:0.5 [default].")
@click.option("--effect-prior", help="Prior of the pooled log OR, e.g. normal:0:2.82 [default].")
@click.option("--baseline-prior", help="Prior of study baselines, e.g. normal:0:10 [default].")
@click.option("--threshold", "thresholds", type=float, multiple=True, metavar="OR",
              help="Also report P(OR > OR) (repeatable), e.g. --threshold 1.5.")
@click.option("--baseline-risk", type=float,
              help="Control-arm risk for absolute effects [default: pooled control arms].")
@_sampler_options
@_output_options
def fit_binary_cmd(data: str, layout: str, columns: tuple[str, ...], treatment: str | None,
                   control: str | None, sep: str, encoding: str, subgroup: str | None,
                   subgroup_column: str, model_file: str | None, tau_prior: str | None,
                   effect_prior: str | None, baseline_prior: str | None,
                   thresholds: tuple[float, ...], baseline_risk: float | None,
                   sampler: str, chains: int, draws: int, tune: int, seed: int,
                   target_accept: float, cores: int | None, json_path: Path | None,
                   csv_path: Path | None, save_path: Path | None, force: bool, quiet: bool,
                   strict: bool) -> None:
    """Binomial-normal meta-analysis of two-arm event counts (rare adverse events).

    DATA is a CSV file (study, events_t, n_t, events_c, n_c — or one row per arm:
    study, arm, events, n) or a bundled dataset name (see `bayesmeta data list`).
    """
    from bayesmeta import api
    from bayesmeta.presentation.binary_text import render_binary
    from bayesmeta.presentation.progress import TerminalProgress

    _check_outputs(force, json_path, csv_path, save_path)
    read_options = {"layout": layout, "columns": _parse_columns(columns),
                    "treatment": treatment, "control": control, "sep": sep,
                    "encoding": encoding}
    binary = api.load_binary(data, subgroup=subgroup, subgroup_column=subgroup_column,
                             **read_options)
    res = api.fit_binary(
        binary, model=model_file, tau_prior=tau_prior, effect_prior=effect_prior,
        baseline_prior=baseline_prior, sampler=sampler, chains=chains, draws=draws,
        tune=tune, seed=seed, target_accept=target_accept, cores=cores,
        thresholds=thresholds, baseline_risk=baseline_risk,
        progress=TerminalProgress(enabled=not quiet))
    label = data if subgroup is None else f"{data} [{subgroup_column} = {subgroup}]"
    click.echo(render_binary(res, label=label))
    _write_outputs(res, json_path, csv_path, save_path, force)
    _report_diagnostics(res.diagnostics, strict)


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
@click.option("--col", "columns", multiple=True, metavar="OURS=YOURS",
              help="Map a column, e.g. --col yi=md --col sei=se_md (repeatable).")
@click.option("--treatment", help="Arm rows: the arm label of the treatment arm.")
@click.option("--control", help="Arm rows: the arm label of the control arm.")
@click.option("--sep", default=",", show_default=True, help="Field separator of the CSV.")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the CSV.")
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
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
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
        sampler=sampler, chains=chains, draws=draws, tune=tune, seed=seed,
        target_accept=target_accept, cores=cores, progress=TerminalProgress(enabled=not quiet),
        read_options={"columns": _parse_columns(columns), "treatment": treatment,
                      "control": control, "sep": sep, "encoding": encoding})
    click.echo(render_longitudinal(res, label=data))
    if json_path:
        from bayesmeta.presentation.outputs import write_json

        write_json(res.to_dict(), json_path, force=force)
        click.echo(f"Wrote {json_path}")
    if csv_path:
        from bayesmeta.presentation.outputs import write_csv

        write_csv(_longitudinal_table(res), csv_path, force=force)
        click.echo(f"Wrote {csv_path}")
    if save_path:
        res.to_netcdf(save_path, force=force)
        click.echo(f"Wrote {save_path}")
    if plot_path:
        plot_effect_over_time(res, plot_path, force=force,
                              title=f"Effect over time — {data}")
        click.echo(f"Wrote {plot_path}")
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


def _write_outputs(res: Any, json_path: Path | None, csv_path: Path | None,
                   save_path: Path | None, force: bool) -> None:
    from bayesmeta.presentation.outputs import write_csv, write_json

    if json_path:
        write_json(res.to_dict(), json_path, force=force)
        click.echo(f"Wrote {json_path}")
    if csv_path:
        write_csv(_summary_with_probabilities(res), csv_path, force=force)
        click.echo(f"Wrote {csv_path}")
    if save_path:
        res.to_netcdf(save_path, force=force)
        click.echo(f"Wrote {save_path}")


def _summary_with_probabilities(res: Any):
    import pandas as pd

    table = res.summary()
    probs = res.probabilities()
    rows = {"P(OR>1)": probs["or_gt_1"], "P(theta_new>0)": probs["theta_new_gt_0"]}
    rows.update({f"P(OR>{c})": p for c, p in probs.get("or_gt", {}).items()})
    rows.update({f"P(OR_new>{c})": p for c, p in probs.get("or_new_gt", {}).items()})
    extra = pd.DataFrame({"mean": list(rows.values())}, index=pd.Index(list(rows),
                                                                       name="quantity"))
    return pd.concat([table, extra])


def _report_diagnostics(diag: Any, strict: bool) -> None:
    if diag.ok:
        return
    click.secho(f"WARNING: {len(diag.problems)} sampler problem(s): "
                + "; ".join(p.check for p in diag.problems)
                + " — see the remedies above.", fg="red", err=True)
    if strict:
        raise click.exceptions.Exit(EXIT_DIAGNOSTICS)


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
