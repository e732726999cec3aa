"""Malformed input, table-driven: every row must give exit status 2 and ONE line that names
the place (file, row, column, or option) and the problem — never a traceback, never a fit.

Each row is a :class:`Malformed`: the files to create, the command line (``{dir}`` is the
temporary folder) and fragments the one-line message must contain. Binary counts, effect
estimates, 2×2 tables turned into log ORs, continuous arms, event rates, model files and
saved fits have their rows; a reader that lands later (longitudinal) adds a block with its
own command, e.g. ``csv_row("...", "fit", "...", text=..., expect=(...))`` — nothing else
changes.
Inputs that look odd but are fine (BOM, CRLF, quoted commas, unicode names) are in
``ACCEPTED`` at the end: they must be read, not refused.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bayesmeta.cli import cli
from bayesmeta.data.binary import read_binary
from bayesmeta.errors import InputError
from tests.conftest import ROOT

FAST = ("--chains", "2", "--draws", "300", "--tune", "300", "-q")
H = "study,events_t,n_t,events_c,n_c\n"
GOOD = H + "A,1,10,0,12\nB,2,20,1,18\n"
LONG = "study,arm,events,n\n"
TOML_HEAD = 'model = "binomial_normal"\n[priors]\n'

FileContent = str | bytes | Callable[[Path], None]


@dataclass(frozen=True)
class Malformed:
    """One malformed input: files to create, command-line arguments, expected fragments."""

    name: str
    args: tuple[str, ...]
    expect: tuple[str, ...]
    files: dict[str, FileContent] = field(default_factory=dict)


def csv_row(name: str, *command: str, text: FileContent, expect: tuple[str, ...],
            args: tuple[str, ...] = (), file: str = "data.csv") -> Malformed:
    """A data file given to ``command`` (e.g. "fit", "binary"); its path is expected in
    the message unless the place is an option."""
    path = "{dir}/" + file
    return Malformed(name, (*command, path, *FAST, *args), expect, {file: text})


def binary(name: str, text: FileContent, *expect: str, args: tuple[str, ...] = (),
           file: str = "data.csv", place: bool = True) -> Malformed:
    where = ("{dir}/" + file,) if place else ()
    return csv_row(name, "fit", "binary", text=text, expect=(*where, *expect), args=args,
                   file=file)


def option(name: str, *args: str, expect: tuple[str, ...]) -> Malformed:
    return Malformed(name, ("fit", "binary", "{dir}/data.csv", *FAST, *args), expect,
                     {"data.csv": GOOD})


def model_file(name: str, text: FileContent, *expect: str) -> Malformed:
    return Malformed(name, ("fit", "binary", "{dir}/data.csv", *FAST, "--model",
                            "{dir}/model.toml"), ("{dir}/model.toml", *expect),
                     {"data.csv": GOOD, "model.toml": text})


def _netcdf_without_schema(path: Path) -> None:
    import xarray as xr

    xr.Dataset({"x": ("i", [1.0, 2.0])}).to_netcdf(path)


# --- effect sizes, continuous arms, event rates (normal-normal and Poisson models) -------
EH = "study,yi,sei\n"
EGOOD = EH + "A,0.5,0.3\nB,-0.1,0.4\nC,0.3,0.2\n"
CH = "study,mean_t,sd_t,n_t,mean_c,sd_c,n_c\n"
CGOOD = CH + "A,10,4,30,12,4,31\nB,9,5,25,11,5,24\n"
CTYPED = CH.replace("\n", ",outcome_type\n")
RH = "study,events_t,exposure_t,events_c,exposure_c\n"
RGOOD = RH + "A,3,120.5,7,118\nB,0,80,2,75.5\n"
TAU = ("--tau-prior", "halfnormal:1")  # effects on their own scale have no default


def effects(name: str, text: FileContent, *expect: str, args: tuple[str, ...] = (),
            place: bool = True) -> Malformed:
    """A row for `fit effects` (estimates with SEs, or 2x2 tables turned into log ORs)."""
    where = ("{dir}/data.csv",) if place else ()
    return csv_row(name, "fit", "effects", text=text, expect=(*where, *expect), args=args)


def continuous(name: str, text: FileContent, *expect: str, args: tuple[str, ...] = ("--measure",
               "MD", *TAU), place: bool = True) -> Malformed:
    where = ("{dir}/data.csv",) if place else ()
    return csv_row(name, "fit", "continuous", text=text, expect=(*where, *expect), args=args)


def rates(name: str, text: FileContent, *expect: str, args: tuple[str, ...] = (),
          place: bool = True, file: str = "data.csv") -> Malformed:
    where = ("{dir}/" + file,) if place else ()
    return csv_row(name, "fit", "rates", text=text, expect=(*where, *expect), args=args,
                   file=file)


def _saved_effects_fit_without_posterior(path: Path) -> None:
    import xarray as xr

    import bayesmeta as bm

    full = path.with_name("full.nc")
    bm.fit_effects("eight_schools", tau_prior="halfnormal:10").to_netcdf(full)
    tree = xr.open_datatree(full).load()
    del tree["exact_posterior"]
    tree.to_netcdf(path)


CASES: list[Malformed] = [
    # --- binary data, one row per study (wide) ------------------------------------------
    binary("events exceed n_t", H + "A,1,10,0,12\nB,25,20,0,18\n",
           "row 3", "column 'events_t'", "events (25) exceed n_t (20)"),
    binary("events exceed n_c", H + "A,1,10,13,12\nB,2,20,0,18\n",
           "row 2", "column 'events_c'", "exceed n_c (12)"),
    binary("negative count", H + "A,1,10,0,12\nB,-1,20,0,18\n",
           "row 3", "column 'events_t'", "negative"),
    binary("negative arm size", H + "A,1,-10,0,12\nB,1,20,0,18\n",
           "row 2", "column 'n_t'", "negative"),
    binary("fractional count", H + "A,1.5,10,0,12\nB,1,20,0,18\n",
           "row 2", "column 'events_t'", "not a whole number"),
    binary("empty cell", H + "A,1,10,,12\nB,1,20,0,18\n",
           "row 2", "column 'events_c'", "missing value"),
    binary("NA cell", H + "A,1,10,0,12\nB,1,NA,0,18\n", "row 3", "column 'n_t'",
           "missing value"),
    binary("whitespace-only cell", H + "A,1,10,0,12\nB,1,   ,0,18\n", "row 3",
           "column 'n_t'", "missing value"),
    binary("arm without patients", H + "A,0,0,0,12\nB,1,20,0,18\n",
           "row 2", "column 'n_t'", "no patients"),
    binary("duplicate study label", H + "A,1,10,0,12\nA,1,20,0,18\n",
           "row 3", "column 'study'", "repeats row 2"),
    binary("missing study label", H + ",1,10,0,12\nB,1,20,0,18\n",
           "row 2", "column 'study'", "missing value"),
    binary("one study", H + "A,1,10,0,12\n", "only 1 study"),
    binary("header only", H, "no studies"),
    binary("empty file", "", "file is empty"),
    binary("blank lines only", "\n\n  \n", "file is empty"),
    binary("missing column", "study,events_t,n_t,events_c\nA,1,10,0\nB,1,20,0\n",
           "missing column 'n_c'", "--col"),
    binary("word for a number", H + "A,1,ten,0,12\nB,1,20,0,18\n",
           "row 2", "column 'n_t'", "'ten' is not a number"),
    binary("decimal comma", H + 'A,1,"10,5",0,12\nB,1,20,0,18\n', "row 2", "decimal comma"),
    binary("thousands separator", H + 'A,1,"1,000",0,12\nB,1,20,0,18\n', "row 2",
           "column 'n_t'", "thousands separator? write 1000"),
    binary("percent sign", H + "A,5%,100,0,12\nB,1,20,0,18\n", "row 2",
           "column 'events_t'", "'5%' is not a number"),
    binary("boolean text", H + "A,TRUE,10,0,12\nB,1,20,0,18\n", "row 2", "'TRUE'"),
    binary("too many fields", H + "A,1,10,0,12,7\nB,1,20,0,18\n",
           "row 2", "6 fields but the header has 5"),
    binary("too few fields", H + "A,1,10,0,12\nB,1,20\n", "row 3",
           "3 fields but the header has 5"),
    binary("unclosed quote", H + 'A,"1,10,0,12\nB,1,20,0,18\n', "row 2",
           "quote", "not closed"),
    binary("semicolon separated", "study;events_t;n_t;events_c;n_c\nA;1;10;0;12\n",
           "row 1", "semicolons", "--sep ';'"),
    binary("tab separated", "study\tevents_t\tn_t\tevents_c\tn_c\nA\t1\t10\t0\t12\n",
           "row 1", "tabs", "--sep '\\t'"),
    binary("infinite count", H + "A,1,inf,0,12\nB,1,20,0,18\n", "row 2",
           "not a finite number"),
    binary("huge count", H + "A,1,1e12,0,12\nB,1,20,0,18\n", "row 2", "implausibly large"),
    binary("count beyond float range", H + "A,1,10,0,12\nB,1,20,0,1e400\n", "row 3",
           "column 'n_c'", "not a finite number"),
    binary("duplicate column name", "study,events_t,n_t,events_c,n_c,n_c\nA,1,10,0,12,1\n",
           "row 1", "'n_c' appears twice"),
    binary("unnamed column with values", "study,events_t,,events_c,n_c\nA,1,10,0,12\n",
           "row 1", "header cell 3 is empty"),
    binary("Latin-1 bytes", (H + "Müller,1,10,0,12\nB,1,20,0,18\n").encode("latin-1"),
           "row 2", "not utf-8 text", "--encoding"),
    binary("UTF-16 file", GOOD.encode("utf-16"), "UTF-16", "--encoding utf-16"),
    binary("Excel .xlsx workbook", b"PK\x03\x04" + bytes(300), "Excel (.xlsx)", "CSV UTF-8",
           file="trials.xlsx"),
    binary("Excel .xls workbook", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(300),
           "Excel (.xls)", file="trials.xls"),
    binary("binary garbage", bytes(range(256)) * 4, "binary file"),
    Malformed("file not found", ("fit", "binary", "{dir}/none.csv", *FAST),
              ("{dir}/none.csv", "file not found")),
    Malformed("directory as data", ("fit", "binary", "{dir}", *FAST),
              ("{dir}", "is a directory")),
    binary("column map to a missing column", GOOD, "column 'nope'", "not in the file",
           args=("--col", "events_t=nope")),
    binary("column map without '='", GOOD, "--col", "OURS=YOURS", args=("--col", "events_t"),
           place=False),
    binary("empty separator", GOOD, "--sep", "one character", args=("--sep", ""),
           place=False),
    binary("two-character separator", GOOD, "--sep", "one character", args=("--sep", ";;"),
           place=False),
    binary("wrong separator given", GOOD, "row 1", "separated by commas", "--sep ','",
           args=("--sep", ";")),
    binary("unknown encoding", GOOD, "--encoding", "unknown text encoding 'klingon'",
           args=("--encoding", "klingon"), place=False),
    # --- binary data, one row per arm (long) ---------------------------------------------
    binary("unknown arm label", LONG + "A,treatment,1,10\nA,mystery,0,12\n",
           "row 3", "column 'arm'", "arm 'mystery' is neither"),
    binary("two treatment arms", LONG + "A,treatment,1,10\nA,treatment,0,12\n",
           "row 3", "second treatment arm", "first in row 2"),
    binary("study without control arm", LONG + "A,t,1,10\nA,c,0,12\nB,t,1,5\n",
           "row 4", "study 'B' has no control arm"),
    binary("events exceed n (long)", LONG + "A,t,11,10\nA,c,0,12\n", "row 2",
           "events (11) exceed n (10)"),
    binary("one study (long)", LONG + "A,t,1,10\nA,c,0,12\n", "only 1 study"),
    binary("long layout without arm column", GOOD, "missing column 'arm'",
           args=("--layout", "long")),
    binary("arm labels not in the file", LONG + "A,t,1,10\nA,c,0,12\nB,t,2,9\nB,c,1,8\n",
           "row 2", "arm 't' is neither", "'MSC' or 'saline'",
           args=("--treatment", "MSC", "--control", "saline")),
    binary("arm label option with one row per study", GOOD, "--treatment", "one row per study",
           args=("--treatment", "MSC")),
    # --- command-line options ------------------------------------------------------------
    option("negative prior scale", "--tau-prior", "halfnormal:-1",
           expect=("--tau-prior", "scale must be greater than 0")),
    option("tau prior on the real line", "--tau-prior", "normal:0:1",
           expect=("--tau-prior", "needs positive values")),
    option("unknown prior name", "--tau-prior", "wibble:1",
           expect=("--tau-prior", "unknown prior 'wibble'", "halfnormal")),
    option("too few prior parameters", "--effect-prior", "normal:0",
           expect=("--effect-prior", "takes 2 parameter(s)")),
    option("prior parameter not a number", "--effect-prior", "normal:0:big",
           expect=("--effect-prior", "'big' is not a number")),
    option("prior parameter NaN", "--effect-prior", "normal:0:nan",
           expect=("--effect-prior", "not a finite number")),
    option("empty prior", "--tau-prior", "", expect=("--tau-prior", "empty prior")),
    option("uniform bounds reversed", "--tau-prior", "uniform:5:1",
           expect=("--tau-prior", "upper (1) must exceed lower (5)")),
    option("improper prior for MCMC", "--tau-prior", "uniform_improper",
           expect=("--tau-prior", "improper prior")),
    option("baseline prior on tau's space", "--baseline-prior", "halfnormal:1",
           expect=("--baseline-prior", "needs real values")),
    option("threshold zero", "--threshold", "0", expect=("--threshold", "positive")),
    option("threshold negative", "--threshold", "-2", expect=("--threshold", "positive")),
    option("threshold infinite", "--threshold", "inf", expect=("--threshold", "positive")),
    option("threshold NaN", "--threshold", "nan", expect=("--threshold", "positive")),
    option("threshold not a number", "--threshold", "two",
           expect=("'--threshold'", "not a valid float", "--help")),
    option("baseline risk above 1", "--baseline-risk", "1.5",
           expect=("--baseline-risk", "between 0 and 1")),
    option("baseline risk zero", "--baseline-risk", "0",
           expect=("--baseline-risk", "between 0 and 1")),
    option("target acceptance above 1", "--target-accept", "1.2",
           expect=("--target-accept", "between 0 and 1")),
    option("no draws", "--draws", "0", expect=("--draws", "at least 1")),
    option("draws not a number", "--draws", "abc",
           expect=("'--draws'", "'abc' is not a valid integer")),
    option("absurd number of chains", "--chains", "1000000000",
           expect=("--chains", "at most 64")),
    option("absurd number of draws", "--draws", "100000000",
           expect=("--draws", "a typo?")),
    option("zero cores", "--cores", "0", expect=("--cores", "at least 1")),
    option("negative seed", "--seed", "-1", expect=("--seed", "not be negative")),
    option("negative warm-up", "--tune", "-1", expect=("--tune", "not be negative")),
    option("unknown sampler", "--sampler", "gibbs", expect=("'--sampler'", "'gibbs'")),
    option("unknown layout", "--layout", "diagonal", expect=("'--layout'", "'diagonal'")),
    option("unknown option", "--bogus", expect=("No such option", "--bogus")),
    option("output in a missing folder", "--json", "{dir}/no/fit.json",
           expect=("{dir}/no/fit.json", "does not exist")),
    option("output is a folder", "--save", "{dir}",
           expect=("'--save'", "is a directory")),
    option("subgroup without a subgroup column", "--subgroup", "x",
           expect=("no column 'subgroup' to select on",)),
    Malformed("subgroup leaving too few studies",
              ("fit", "binary", "msc_serious_ae", *FAST, "--subgroup", "nope"),
              ("subgroup = 'nope' leaves 0 studies", "autoimmune")),
    # --- bundled datasets ---------------------------------------------------------------
    Malformed("unknown dataset name", ("fit", "binary", "crins2015", *FAST),
              ("'crins2015' is neither a file nor a bundled dataset", "crins2014_ar")),
    Malformed("dataset of another kind", ("fit", "binary", "eight_schools", *FAST),
              ("holds effects data, not binary",)),
    Malformed("data show of an unknown name", ("data", "show", "nope"),
              ("no bundled dataset 'nope'",)),
    # --- TOML model files --------------------------------------------------------------
    model_file("invalid TOML", TOML_HEAD.replace("]", ""), "not valid TOML"),
    model_file("model file not UTF-8", (TOML_HEAD + '# Günhan\ntau = "halfnormal:1"\n')
               .encode("latin-1"), "not UTF-8"),
    model_file("unknown model", 'model = "magic"\n', "key 'model' must be one of"),
    model_file("model key missing", '[priors]\ntau = "halfnormal:1"\n',
               "key 'model'", "got None"),
    model_file("unknown prior slot", TOML_HEAD + 'sigma = "halfnormal:1"\n',
               "[priors]", "unknown prior 'sigma'", "baseline, effect, tau"),
    model_file("prior given as a number", TOML_HEAD + "tau = 0.5\n", "[priors]",
               "'tau' must be a string"),
    model_file("negative scale in a model file", TOML_HEAD + 'tau = "halfcauchy:-1"\n',
               "[priors] tau", "scale must be greater than 0"),
    model_file("improper prior in a model file", TOML_HEAD + 'effect = "flat"\n',
               "[priors] effect", "improper prior"),
    model_file("wrong support in a model file", TOML_HEAD + 'tau = "normal:0:1"\n',
               "[priors] tau", "needs positive values"),
    model_file("priors not a table", 'model = "binomial_normal"\npriors = "vague"\n',
               "[priors] must be a table"),
    option("unknown bundled model", "--model", "no_such_model",
           expect=("--model", "neither a model file nor a bundled model")),
    option("model file is a folder", "--model", "{dir}", expect=("{dir}", "is a directory")),
    # --- saved fits (`bayesmeta show`) ------------------------------------------------
    Malformed("show a missing file", ("show", "{dir}/fit.nc"), ("{dir}/fit.nc", "not found")),
    Malformed("show a CSV file", ("show", "{dir}/data.csv"),
              ("{dir}/data.csv", "not a NetCDF file"), {"data.csv": GOOD}),
    Malformed("show a foreign NetCDF file", ("show", "{dir}/other.nc"),
              ("{dir}/other.nc", "not one saved by bayesmeta"),
              {"other.nc": _netcdf_without_schema}),
    Malformed("show a truncated NetCDF file", ("show", "{dir}/cut.nc"),
              ("{dir}/cut.nc", "cannot be read as NetCDF"),
              {"cut.nc": b"\x89HDF\r\n\x1a\n" + bytes(64)}),
    # --- effect estimates (fit effects) ------------------------------------------------
    effects("effects: no estimate column", "study,logHR,sei\nA,0.5,0.3\nB,0.1,0.4\n",
            "missing column 'yi'", "--col yi=NAME"),
    effects("effects: no standard error or variance", "study,yi\nA,0.5\nB,0.1\n",
            "missing column 'sei'", "vi instead"),
    effects("effects: zero standard error", EH + "A,0.5,0\nB,0.1,0.4\n", "row 2",
            "column 'sei'", "must be greater than 0", args=TAU),
    effects("effects: negative variance", "study,yi,vi\nA,0.5,-0.09\nB,0.1,0.16\n",
            "row 2", "column 'vi'", "must be greater than 0", args=TAU),
    effects("effects: sei and vi disagree", "study,yi,sei,vi\nA,0.5,0.3,0.09\nB,0.1,0.4,0.4\n",
            "row 3", "column 'vi'", "is not sei²", args=TAU),
    effects("effects: estimate not a number", EH + "A,big,0.3\nB,0.1,0.4\n", "row 2",
            "column 'yi'", "'big' is not a number", args=TAU),
    effects("effects: infinite estimate", EH + "A,-inf,0.3\nB,0.1,0.4\n", "row 2",
            "column 'yi'", "not a finite number", args=TAU),
    effects("effects: estimate beyond double precision's reach", EH + "A,1e300,0.3\nB,0.1,0.4\n",
            "row 2", "column 'yi'", "implausibly large for an effect estimate", args=TAU),
    effects("effects: standard error that underflows", EH + "A,0.5,1e-200\nB,0.1,0.4\n",
            "row 2", "column 'sei'", "implausibly small for a standard error", args=TAU),
    effects("effects: duplicate study", EH + "A,0.5,0.3\nA,0.1,0.4\n", "row 3",
            "column 'study'", "repeats row 2", args=TAU),
    effects("effects: one study", EH + "A,0.5,0.3\n", "only 1 study", args=TAU),
    effects("effects: study of one patient", "study,yi,sei,n\nA,0.5,0.3,1\nB,0.1,0.4,50\n",
            "row 2", "column 'n'", "fewer than 2", args=TAU),
    effects("effects: semicolon separated", EGOOD.replace(",", ";"), "row 1", "semicolons",
            args=TAU),
    effects("effects: unknown measure", EGOOD, "--measure", "unknown measure 'ratio'",
            args=("--measure", "ratio"), place=False),
    effects("effects: continuity correction for estimates", EGOOD, "--cc",
            "effect estimates", args=(*TAU, "--cc", "0.5"), place=False),
    effects("effects: arm layout for estimates", EGOOD, "--layout", "two-arm event counts",
            args=(*TAU, "--layout", "long"), place=False),
    effects("effects: MD without a tau prior", EGOOD, "--tau-prior",
            "no default prior for tau", "MD scale", args=("--measure", "MD"), place=False),
    effects("effects: improper posterior", EH + "A,0.5,0.3\nB,0.1,0.4\n", "--tau-prior",
            "posterior is improper for 2 studies", args=("--tau-prior", "uniform_improper"),
            place=False),
    effects("effects: mu prior on positive values", EGOOD, "--mu-prior", "needs real values",
            args=(*TAU, "--mu-prior", "halfnormal:1"), place=False),
    effects("effects: t prior on mu, exact method", EGOOD, "--mu-prior", "normal or flat",
            args=(*TAU, "--mu-prior", "student_t:3:0:1"), place=False),
    effects("effects: improper tau prior with MCMC", EGOOD, "--tau-prior", "improper",
            "--method exact", args=("--tau-prior", "uniform_improper", "--mu-prior",
                                    "normal:0:1", "--method", "mcmc"), place=False),
    effects("effects: flat mu prior with MCMC", EGOOD, "--mu-prior", "'flat' on mu is improper",
            args=(*TAU, "--method", "mcmc"), place=False),
    effects("effects: Jeffreys prior with MCMC", EGOOD, "--tau-prior", "'jeffreys'",
            args=("--tau-prior", "jeffreys", "--mu-prior", "normal:0:1", "--method", "mcmc"),
            place=False),
    effects("effects: improper prior of a model file with MCMC", EGOOD,
            "nnhm_reference.toml [priors] mu", "improper",
            args=("--model", "nnhm_reference", "--method", "mcmc"), place=False),
    effects("effects: unknown method", EGOOD, "'--method'", "'gibbs'",
            args=("--method", "gibbs"), place=False),
    effects("effects: threshold not finite", EGOOD, "--threshold", "finite number",
            args=(*TAU, "--threshold", "nan"), place=False),
    effects("effects: model file of another model", EGOOD, "binomial_normal.toml",
            "not nnhm", args=("--model", "binomial_normal"), place=False),
    effects("effects: unknown Turner prior", EGOOD, "--tau-prior", "turner priors are",
            args=("--tau-prior", "turner:nope"), place=False),
    Malformed("effects: bundled dataset of another kind",
              ("fit", "effects", "hart1999_warfarin", *FAST),
              ("bundled dataset 'hart1999_warfarin' holds rates data, not effects",)),
    # --- 2x2 tables turned into log ORs (fit effects) ---------------------------------
    effects("2x2 to log OR: zero cell without --cc", H + "A,0,10,1,12\nB,2,20,1,18\n",
            "study 'A' has a zero cell", "--cc 0.5", "fit binary"),
    effects("2x2 to log OR: negative continuity correction", GOOD, "--cc", "positive number",
            args=("--cc", "-0.5"), place=False),
    effects("2x2 to log OR: continuity correction above 1", GOOD, "--cc", "up to 1",
            args=("--cc", "5"), place=False),
    effects("2x2 to log OR: measure MD for counts", GOOD, "--measure", "not MD",
            args=("--measure", "MD"), place=False),
    effects("2x2 to log OR: keep double zeros without --cc",
            H + "A,0,10,0,12\nB,2,20,1,18\nC,1,20,3,18\n", "--keep-double-zero",
            "needs a continuity correction", args=("--keep-double-zero",), place=False),
    effects("2x2 to log OR: --cc-to without --cc", GOOD, "--cc-to", "give --cc too",
            args=("--cc-to", "all"), place=False),
    effects("2x2 to log OR: unknown --cc-to rule", GOOD, "'--cc-to'", "'sometimes'",
            args=("--cc", "0.5", "--cc-to", "sometimes"), place=False),
    effects("2x2 to log OR: double zeros leave one study",
            H + "A,0,10,0,12\nB,0,20,0,18\nC,1,20,3,18\n", "double-zero",
            "needs at least two"),
    # --- arm-level continuous data (fit continuous) -------------------------------------
    continuous("continuous: SD of zero", CH + "A,10,0,30,12,4,31\nB,9,5,25,11,5,24\n",
               "row 2", "column 'sd_t'", "must be greater than 0"),
    continuous("continuous: arm of one patient", CH + "A,10,4,1,12,4,31\nB,9,5,25,11,5,24\n",
               "row 2", "column 'n_t'", "at least 2 for its SD"),
    continuous("continuous: fractional patients", CH + "A,10,4,30,12,4,30.5\nB,9,5,25,11,5,24\n",
               "row 2", "column 'n_c'", "not a whole number"),
    continuous("continuous: mean not a number", CH + "A,ten,4,30,12,4,31\nB,9,5,25,11,5,24\n",
               "row 2", "column 'mean_t'", "'ten' is not a number"),
    continuous("continuous: missing column",
               "study,mean_t,sd_t,n_t,mean_c,sd_c\nA,10,4,30,12,4\nB,9,5,25,11,5\n",
               "missing column 'n_c'", "--col mean_t=NAME"),
    continuous("continuous: SD that overflows the variance",
               CH + "A,10,1e200,30,12,4,31\nB,9,5,25,11,5,24\n", "study 'A'",
               "beyond what can be computed"),
    continuous("continuous: measure RD", CGOOD, "'--measure'", "'RD'",
               args=("--measure", "RD"), place=False),
    continuous("continuous: no measure", CGOOD, "Missing option '--measure'", args=(),
               place=False),
    continuous("continuous: unknown outcome type option", CGOOD, "'--outcome-type'",
               "'weekly'", args=("--measure", "MD", "--outcome-type", "weekly"), place=False),
    continuous("continuous: unknown outcome type cell",
               CTYPED + "A,10,4,30,12,4,31,final\nB,9,5,25,11,5,24,weekly\n", "row 3",
               "column 'outcome_type'", "neither 'final'"),
    continuous("continuous: outcome type contradicts the option",
               CTYPED + "A,10,4,30,12,4,31,final\nB,9,5,25,11,5,24,change\n", "row 3",
               "contradicts --outcome-type final",
               args=("--measure", "MD", "--outcome-type", "final", *TAU)),
    continuous("continuous: SMD of final values and changes",
               CTYPED + "A,10,4,30,12,4,31,final\nB,9,5,25,11,5,24,change\n"
               "C,9,5,25,11,5,24,final\n", "row 3", "column 'outcome_type'",
               "cannot combine final values and changes", args=("--measure", "SMD")),
    continuous("continuous (long): study without control arm",
               "study,arm,mean,sd,n\nA,t,10,4,30\nA,c,12,4,31\nB,t,9,5,25\n", "row 4",
               "study 'B' has no control arm"),
    continuous("continuous (long): arms of different kinds",
               "study,arm,mean,sd,n,outcome_type\nA,t,10,4,30,final\nA,c,12,4,31,change\n"
               "B,t,9,5,25,final\nB,c,11,5,24,final\n", "row 3",
               "one arm gives final values, the other changes"),
    continuous("continuous: MD without a tau prior", CGOOD, "--tau-prior", "MD scale",
               args=("--measure", "MD"), place=False),
    continuous("continuous: continuity correction", CGOOD, "No such option", "--cc",
               args=("--measure", "MD", "--cc", "0.5"), place=False),
    Malformed("continuous: bundled dataset of another kind",
              ("fit", "continuous", "eight_schools", "--measure", "MD", *FAST),
              ("bundled dataset 'eight_schools' holds effects data, not continuous",)),
    # --- events over person-time (fit rates) --------------------------------------------
    rates("rates: zero person-time", RH + "A,3,0,7,118\nB,0,80,2,75.5\n", "row 2",
          "column 'exposure_t'", "must be greater than 0"),
    rates("rates: negative person-time", RH + "A,3,120,7,118\nB,0,80,2,-75\n", "row 3",
          "column 'exposure_c'", "must be greater than 0"),
    rates("rates: person-time with its unit", RH + "A,3,120 py,7,118\nB,0,80,2,75\n",
          "row 2", "column 'exposure_t'", "'120 py' is not a number"),
    rates("rates: fractional events", RH + "A,3.5,120,7,118\nB,0,80,2,75\n", "row 2",
          "column 'events_t'", "not a whole number"),
    rates("rates: negative events", RH + "A,3,120,-7,118\nB,0,80,2,75\n", "row 2",
          "column 'events_c'", "negative"),
    rates("rates: huge event count", RH + "A,3,120,7,118\nB,1e12,80,2,75\n", "row 3",
          "implausibly large"),
    rates("rates: missing person-time column",
          "study,events_t,exposure_t,events_c\nA,3,120,7\nB,0,80,2\n",
          "missing column 'exposure_c'", "--col exposure_t=NAME"),
    rates("rates: patients instead of person-time", GOOD, "missing column 'exposure_t'",
          "person-time"),
    rates("rates: one study", RH + "A,3,120,7,118\n", "only 1 study"),
    rates("rates: duplicate study", RH + "A,3,120,7,118\nA,0,80,2,75\n", "row 3",
          "repeats row 2"),
    rates("rates: Latin-1 bytes", (RH + "Müller,3,120,7,118\nB,0,80,2,75\n").encode("latin-1"),
          "row 2", "not utf-8 text", "--encoding"),
    rates("rates: baseline rate zero", RGOOD, "--baseline-rate", "positive rate",
          args=("--baseline-rate", "0"), place=False),
    rates("rates: baseline rate infinite", RGOOD, "--baseline-rate", "positive rate",
          args=("--baseline-rate", "inf"), place=False),
    rates("rates: threshold zero", RGOOD, "--threshold", "positive number",
          args=("--threshold", "0"), place=False),
    rates("rates: improper tau prior", RGOOD, "--tau-prior", "improper prior",
          args=("--tau-prior", "uniform_improper"), place=False),
    rates("rates: effect prior on positive values", RGOOD, "--effect-prior",
          "needs real values", args=("--effect-prior", "halfnormal:1"), place=False),
    rates("rates: model file of another model", RGOOD, "nnhm_log_ratio.toml",
          "not poisson_normal", args=("--model", "nnhm_log_ratio"), place=False),
    Malformed("rates: improper prior in a model file",
              ("fit", "rates", "{dir}/data.csv", *FAST, "--model", "{dir}/model.toml"),
              ("{dir}/model.toml [priors] tau", "improper prior"),
              {"data.csv": RGOOD, "model.toml": 'model = "poisson_normal"\n[priors]\n'
                                                'tau = "uniform_improper"\n'}),
    Malformed("rates: bundled dataset of another kind", ("fit", "rates", "crins2014_ar", *FAST),
              ("bundled dataset 'crins2014_ar' holds binary data, not rates",)),
    # --- the conditional likelihood (fit binary --likelihood conditional) ---------------
    option("conditional: baseline prior", "--likelihood", "conditional", "--baseline-prior",
           "normal:0:1", expect=("--baseline-prior", "has no baseline prior")),
    option("unknown likelihood", "--likelihood", "exact",
           expect=("'--likelihood'", "'exact'")),
    Malformed("show a saved effects fit without its posterior", ("show", "{dir}/fit.nc"),
              ("{dir}/fit.nc", "not a complete bayesmeta effect-size fit"),
              {"fit.nc": _saved_effects_fit_without_posterior}),
]


def materialise(case: Malformed, folder: Path) -> list[str]:
    for name, content in case.files.items():
        path = folder / name
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return [a.replace("{dir}", str(folder)) for a in case.args]


def test_the_table_has_at_least_forty_distinct_cases():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) and len(names) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_input_exits_2_with_one_line_naming_the_place(tmp_path, case):
    args = materialise(case, tmp_path)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    lines = output.splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    for fragment in case.expect:
        assert fragment.replace("{dir}", str(tmp_path)) in lines[0], lines[0]


@pytest.mark.parametrize("name", ["UTF-16 file", "unknown sampler", "invalid TOML"])
def test_real_console_entry_point_agrees(tmp_path, name):
    """A few rows through the installed entry point in a fresh process (stderr, exit 2)."""
    case = next(c for c in CASES if c.name == name)
    args = materialise(case, tmp_path)
    proc = subprocess.run([sys.executable, "-c", "from bayesmeta.cli import main; main()",
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert all(f.replace("{dir}", str(tmp_path)) in proc.stderr for f in case.expect)


# --- DataFrames (Python API): the place is the index label and column ---------------------
def frame(**changes) -> pd.DataFrame:
    base = {"study": ["A", "B"], "events_t": [1, 2], "n_t": [10, 20], "events_c": [0, 1],
            "n_c": [12, 18]}
    base.update(changes)
    return pd.DataFrame(base, index=[7, 8])


FRAME_CASES = {
    "NaN count": (frame(events_t=[1, np.nan]), "index 8, column 'events_t': missing value"),
    "pandas NA": (frame(events_t=pd.array([1, None], dtype="Int64")), "missing value"),
    "fractional count": (frame(n_c=[12, 17.5]), "index 8, column 'n_c'"),
    "negative count": (frame(events_c=[-1, 0]), "index 7, column 'events_c'"),
    "boolean count": (frame(events_t=[1, True]), "index 8, column 'events_t'"),
    "missing study label": (frame(study=["A", None]), "index 8, column 'study'"),
    "events exceed n": (frame(events_t=[11, 2]), "index 7, column 'events_t'"),
    "infinite arm size": (frame(n_t=[10, np.inf]), "not a finite number"),
    "no rows": (frame().iloc[:0], "no studies"),
    "duplicate columns": (pd.DataFrame([["A", 1, 10, 0, 12], ["B", 1, 9, 1, 8]],
                                       columns=["study", "events_t", "events_t", "events_c",
                                                "n_c"]), "appears twice"),
}


@pytest.mark.parametrize("name", list(FRAME_CASES))
def test_malformed_dataframe_gives_one_line_error(name):
    df, fragment = FRAME_CASES[name]
    with pytest.raises(InputError) as info:
        read_binary(df)
    message = str(info.value)
    assert "\n" not in message and message.startswith("data frame")
    assert fragment in message, message


# --- odd but valid inputs: read, not refused ---------------------------------------------
EXPECTED = {"study": ("A", "B"), "events_t": [1, 2], "n_t": [10, 20], "events_c": [0, 1],
            "n_c": [12, 18]}
ACCEPTED: dict[str, tuple[bytes, dict]] = {
    "UTF-8 BOM and CRLF (Excel's 'CSV UTF-8')":
        (b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode(), {}),
    "old Mac line endings": (GOOD.replace("\n", "\r").encode(), {}),
    "spaces around values and blank lines": (
        b"study, events_t , n_t,events_c ,n_c\n\n A ,1, 10,0 ,12\n\nB,2,20,1,18\n\n\n", {}),
    "trailing empty columns from a spreadsheet":
        ((H.strip() + ",,\nA,1,10,0,12,,\nB,2,20,1,18,,\n").encode(), {}),
    "counts written as 10.0 and 1e1": (
        (H + "A,1.0,1e1,0,12\nB,2,20,1,18\n").encode(), {}),
    "tab separated with --sep '\\t'": (GOOD.replace(",", "\t").encode(), {"sep": "\\t"}),
    "semicolons with --sep ';'": (GOOD.replace(",", ";").encode(), {"sep": ";"}),
    "UTF-16 with --encoding utf-16": (GOOD.encode("utf-16"), {"encoding": "utf-16"}),
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_odd_but_valid_files_are_read(tmp_path, name):
    raw, options = ACCEPTED[name]
    path = tmp_path / "data.csv"
    path.write_bytes(raw)
    d = read_binary(path, **options)
    assert d.study == EXPECTED["study"]
    for column in ("events_t", "n_t", "events_c", "n_c"):
        assert getattr(d, column).tolist() == EXPECTED[column]


def test_quoted_fields_and_unicode_study_names_are_kept_exactly(tmp_path):
    path = tmp_path / "data.csv"
    names = ["Müller, 2001", "李 (2010)", 'O"Brien 1999', "Ñúñez – RCT ☺"]
    body = "".join(f'"{n.replace(chr(34), chr(34) * 2)}",1,10,0,12\n' for n in names)
    path.write_text(H + body, encoding="utf-8")
    assert list(read_binary(path).study) == names
    latin = tmp_path / "latin.csv"
    latin.write_bytes((H + "Müller,1,10,0,12\nB,1,20,0,18\n").encode("latin-1"))
    assert read_binary(latin, encoding="latin-1").study[0] == "Müller"


# --- the same rules through the Python API (no command line in between) -------------------
def test_api_refuses_count_options_for_effect_estimates_and_double_zeros_without_cc():
    import bayesmeta as bm
    from bayesmeta.data.binary import BinaryData
    from bayesmeta.data.effects import effects_from_binary

    estimates = bm.load_effects("eight_schools")
    for options, option in (({"cc": 0.5}, "--cc"), ({"cc_to": "all"}, "--cc-to"),
                            ({"drop_double_zero": False}, "--keep-double-zero"),
                            ({"layout": "long"}, "--layout")):
        with pytest.raises(InputError, match=rf"^{option}: applies to two-arm event counts"):
            bm.load_effects(estimates, **options)
        with pytest.raises(InputError, match=rf"^{option}: applies to two-arm event counts"):
            bm.load_effects("eight_schools", **options)
    counts = BinaryData(("A", "B", "C"), np.array([0, 2, 1]), np.array([10, 20, 20]),
                        np.array([0, 1, 3]), np.array([12, 18, 18]))
    with pytest.raises(InputError, match=r"^--keep-double-zero: .* needs a continuity"):
        effects_from_binary(counts, drop_double_zero=False)
    kept = effects_from_binary(counts, cc=0.5, drop_double_zero=False)
    assert kept.study == ("A", "B", "C")


def test_api_rate_and_prior_checks_name_the_option():
    import bayesmeta as bm
    from bayesmeta.api import conditional_priors, poisson_normal_priors

    with pytest.raises(InputError, match=r"^--tau-prior: 'uniform_improper' is an improper"):
        poisson_normal_priors(tau_prior="uniform_improper")
    with pytest.raises(InputError, match=r"^--effect-prior: 'flat' is an improper"):
        conditional_priors(effect_prior="flat")
    with pytest.raises(InputError, match=r"^--baseline-rate: must be a positive rate"):
        bm.fit_rates("hart1999_warfarin", baseline_rate=float("inf"))
