"""Versions of the software that produced a result (stored with every output)."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version


def software_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("bayesmeta", "pymc", "pytensor", "nutpie", "arviz", "arviz-stats", "numpy",
                "scipy", "pandas", "xarray"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out
