"""Save a figure safely — format from the file's extension (PNG, SVG, PDF), never over an
existing file without ``force``, atomically — and turn figures into inline images."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from bayesmeta.errors import InputError
from bayesmeta.files import atomic_path, check_writable

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DPI = 150


def figure_of(obj: Any) -> Figure:
    """The matplotlib Figure of a Figure or an ArviZ PlotCollection."""
    if isinstance(obj, Figure):
        return obj
    get_viz = getattr(obj, "get_viz", None)
    if get_viz is not None:
        fig = get_viz("figure")
        fig = fig.item() if hasattr(fig, "item") else fig
        if isinstance(fig, Figure):
            return fig
    raise TypeError(f"not a matplotlib figure or PlotCollection: {type(obj).__name__}")


def format_of(path: str | Path) -> str:
    """The image format named by ``path``'s extension; an :class:`InputError` otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"unknown image format '{suffix or '(no extension)'}'; end the file "
                         "name in .png, .svg or .pdf", source=path)
    return FORMATS[suffix]


def check_figure_path(path: str | Path, *, force: bool) -> Path:
    """Check before any work that ``path`` has an image extension and may be written."""
    format_of(path)
    return check_writable(path, force=force)


def save_figure(obj: Any, path: str | Path, *, force: bool = False, dpi: int = DPI) -> Path:
    """Write the figure of ``obj`` to ``path`` (format from the extension)."""
    fmt = format_of(path)
    fig = figure_of(obj)
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight",
                    metadata=_metadata(fmt))
    return Path(path)


def _metadata(fmt: str) -> dict[str, Any]:
    # Fixed metadata: the same figure gives the same file (no creation dates).
    if fmt == "svg":
        return {"Date": None, "Creator": "bayesmeta"}
    if fmt == "pdf":
        return {"CreationDate": None, "Creator": "bayesmeta"}
    return {"Software": "bayesmeta"}


def finish(obj: Any, path: str | Path | None, *, force: bool) -> Any:
    """Save ``obj`` when a path is given; return it either way (the plot functions' tail)."""
    if path is not None:
        save_figure(obj, path, force=force)
    return obj


def data_uri(obj: Any, fmt: str = "png", *, dpi: int = 110) -> str:
    """The figure as a ``data:`` URI (base64), for self-contained HTML."""
    fig = figure_of(obj)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_metadata(fmt))
    mime = {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
