"""Where the bundled datasets (``data/``) and model files (``models/``) live.

In a source checkout (editable install) they are the top-level ``data/`` and ``models/``
folders next to the package; a built wheel carries copies under ``bayesmeta/_bundled/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """Return the bundled folder ``name`` ("data" or "models")."""
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder '{name}' not found next to {_PACKAGE}")
