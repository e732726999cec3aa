"""Outputs are safe and reproducible: atomic writes, no overwriting without --force,
bit-identical JSON across processes, and saved fits that reprint without refitting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

from bayesmeta.cli import cli
from bayesmeta.errors import InputError, OutputExistsError
from bayesmeta.files import write_text_atomic, write_with
from bayesmeta.presentation.outputs import write_csv, write_json
from tests.conftest import ROOT

FAST = ["--chains", "2", "--draws", "300", "--tune", "300", "-q"]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- atomic writes ------------------------------------------------------------------------
class Boom(RuntimeError):
    pass


def half_then_fail(tmp: Path) -> None:
    tmp.write_text('{"partial": ')
    raise Boom("disk full")


def test_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "fit.json"
    with pytest.raises(Boom):
        write_with(target, half_then_fail, force=False)
    assert leftovers(tmp_path) == []


def test_failed_overwrite_keeps_the_old_file_intact(tmp_path):
    target = tmp_path / "fit.json"
    target.write_text("old result")
    with pytest.raises(Boom):
        write_with(target, half_then_fail, force=True)
    assert target.read_text() == "old result"
    assert leftovers(tmp_path) == ["fit.json"]


def test_interrupt_during_write_cleans_up(tmp_path):
    def interrupted(tmp: Path) -> None:
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_with(tmp_path / "fit.nc", interrupted, force=False)
    assert leftovers(tmp_path) == []


def test_killed_process_never_leaves_a_partial_target(tmp_path):
    """SIGKILL in the middle of writing: the target does not exist (only the hidden
    temporary file, which no reader mistakes for a result)."""
    script = textwrap.dedent(f"""
        import sys, time
        from bayesmeta.files import write_with
        def slow(tmp):
            tmp.write_text("half a result")
            print("writing", flush=True)
            time.sleep(60)
        write_with({str(tmp_path / "fit.json")!r}, slow, force=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert not (tmp_path / "fit.json").exists()
    assert all(name.startswith(".fit.json.") for name in leftovers(tmp_path))


# --- never overwrite without --force: every writer ----------------------------------------
WRITERS = {
    "text": lambda p, force: write_text_atomic(p, "new", force=force),
    "json": lambda p, force: write_json({"a": 1}, p, force=force),
    "csv": lambda p, force: write_csv(pd.DataFrame({"a": [1]}), p, force=force),
    "with": lambda p, force: write_with(p, lambda tmp: tmp.write_text("new"), force=force),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_writers_refuse_to_overwrite_without_force(tmp_path, writer):
    target = tmp_path / "out.file"
    target.write_text("precious")
    with pytest.raises(OutputExistsError, match="--force"):
        WRITERS[writer](target, False)
    assert target.read_text() == "precious"
    WRITERS[writer](target, True)
    assert target.read_text() != "precious"
    assert leftovers(tmp_path) == ["out.file"]


def test_netcdf_writer_refuses_to_overwrite(tmp_path, crins_fit):
    target = tmp_path / "fit.nc"
    target.write_text("precious")
    with pytest.raises(OutputExistsError):
        crins_fit.to_netcdf(target)
    assert target.read_text() == "precious"


@pytest.mark.parametrize("option", ["--json", "--csv", "--save"])
def test_cli_refuses_every_existing_output_before_fitting(tmp_path, option):
    target = tmp_path / "out"
    target.write_text("precious")
    result = CliRunner().invoke(cli, ["fit", "binary", "crins2014_ar", option, str(target),
                                      *FAST])
    assert result.exit_code == 2 and "--force" in result.output
    assert target.read_text() == "precious"


def test_show_refuses_to_overwrite_and_rejects_non_results(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("precious")
    runner = CliRunner()
    result = runner.invoke(cli, ["show", str(tmp_path / "missing.nc"), "--json", str(target)])
    assert result.exit_code == 2 and "--force" in result.output
    cases = {
        "missing.nc": "file not found",
        "text.nc": "is not a NetCDF file",
        "other.nc": "not one saved by bayesmeta",
    }
    (tmp_path / "text.nc").write_text("study,events_t\n")
    xr.Dataset({"x": ("i", [1.0])}).to_netcdf(tmp_path / "other.nc")
    for name, fragment in cases.items():
        result = runner.invoke(cli, ["show", str(tmp_path / name)])
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") == 1 and fragment in result.output, result.output
        assert str(tmp_path / name) in result.output


# --- saved files carry everything; `show` reprints without refitting ----------------------
@pytest.mark.mcmc
def test_saved_netcdf_carries_data_priors_seed_model_and_versions(tmp_path, crins_fit):
    path = crins_fit.to_netcdf(tmp_path / "fit.nc")
    tree = xr.open_datatree(path)
    attrs = tree.attrs
    assert attrs["bayesmeta_schema"] == "bayesmeta.fit.binary/1"
    assert attrs["bayesmeta_model"] == "binomial_normal"
    assert int(attrs["bayesmeta_seed"]) == 11
    settings = json.loads(attrs["bayesmeta_settings"])
    assert settings["priors"]["tau"]["spec"] == "halfnormal:0.5"
    assert settings["sampler"]["draws"] == 2000 and settings["thresholds"] == [0.5]
    versions = json.loads(attrs["bayesmeta_versions"])
    assert {"bayesmeta", "pymc", "arviz", "nutpie", "numpy", "python"} <= set(versions)
    assert tree["observed_data"]["n_c"].values.tolist() == crins_fit.data.n_c.tolist()
    assert list(tree["observed_data"]["study"].values) == list(crins_fit.data.study)
    assert json.loads(attrs["bayesmeta_diagnostics"])["chains"] == 4
    tree.close()


@pytest.mark.mcmc
def test_reloaded_result_answers_like_the_fitted_one(tmp_path, crins_fit):
    from bayesmeta.results.load import load_result

    back = load_result(crins_fit.to_netcdf(tmp_path / "fit.nc"))
    assert back.to_dict() == crins_fit.to_dict()
    assert back.prob_harm(0.5) == crins_fit.prob_harm(0.5)
    pd.testing.assert_frame_equal(back.study_effects(), crins_fit.study_effects())


@pytest.mark.mcmc
def test_same_seed_bit_identical_json_across_processes_and_show_reprints_it(tmp_path):
    """Two separate `bayesmeta fit binary` processes with the same inputs and seed write
    byte-identical JSON; `bayesmeta show` of the saved fit prints the same summary and
    writes the same JSON byte for byte, without refitting."""
    data = tmp_path / "trials.csv"  # unicode labels, quoted comma, extra column
    data.write_text('study,events_t,n_t,events_c,n_c,region\n"Müller, 2001",2,40,5,41,EU\n'
                    "李 2010,0,25,3,24,Asia\nSmith 1999,7,60,9,58,US\n", encoding="utf-8")
    outputs, imported = [], []
    # a: an empty compile cache (the model's kernel compiled); b: the kernel loaded from
    # numba's disk cache. Both must give the same numbers (with numba's fastmath a fresh
    # compile and a cached one did not), and neither needs PyMC.
    cache = tmp_path / "compile-cache"
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={cache}")
    run_cli = ("import sys; from bayesmeta.cli import cli; cli.main(sys.argv[1:], "
               "standalone_mode=False); sys.stderr.write('\\nIMPORTED:' + ' '.join(m for m "
               "in ('pymc', 'arviz', 'matplotlib.pyplot') if m in sys.modules))")
    stamps = []
    for run in ("a", "b"):
        js, nc = tmp_path / f"{run}.json", tmp_path / f"{run}.nc"
        proc = subprocess.run(
            [sys.executable, "-c", run_cli, "fit", "binary",
             str(data), "--threshold", "1.5", "--seed", "7", "--json", str(js), "--save",
             str(nc), *FAST], capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout.replace(f"{run}.json", "a.json").replace(f"{run}.nc", "a.nc"))
        imported.append(proc.stderr.rsplit("IMPORTED:", 1)[1].split())
        callbacks = sorted(cache.glob("numba/*_numba*"))
        stamps.append({path: path.stat().st_mtime_ns for path in callbacks})
    assert len(stamps[0]) >= 4 and stamps[0] == stamps[1]  # b loaded them, wrote nothing
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert outputs[0] == outputs[1]
    assert imported == [[], []]  # neither PyMC nor arviz's plotting stack, ever

    shown = CliRunner().invoke(cli, ["show", str(tmp_path / "a.nc"), "--json",
                                     str(tmp_path / "shown.json")])
    assert shown.exit_code == 0, shown.output

    def summary(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if not ln.startswith("Wrote ")
                and not ln.startswith("WARNING")]

    assert summary(shown.output) == summary(outputs[0])
    assert "Müller, 2001" in shown.output
    assert (tmp_path / "shown.json").read_bytes() == (tmp_path / "a.json").read_bytes()


def test_load_result_errors_are_input_errors(tmp_path):
    from bayesmeta.results.load import load_result

    with pytest.raises(InputError, match="is a directory"):
        load_result(tmp_path)
    broken = tmp_path / "cut.nc"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(InputError, match="cannot be read as NetCDF"):
        load_result(broken)
