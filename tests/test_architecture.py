"""One direction of flow: no module imports a layer above its own (see ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bayesmeta"

# Lower number = lower layer. A module may import its own layer and any lower one.
LAYERS = {
    "errors": 0, "files": 0, "resources": 0,
    "data": 1,
    "priors": 2, "models": 2,
    "inference": 3,
    "results": 4,
    "validation": 4,
    "api": 5,
    "presentation": 6,
    "cli": 7,
}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "bayesmeta" or len(parts) < 2:
        return None
    return LAYERS.get(parts[1])


def test_no_module_imports_a_higher_layer():
    offences = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        own = layer_of(module)
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                other = layer_of(name)
                if other is not None and other > own:
                    offences.append(f"{module} (layer {own}) imports {name} (layer {other})")
    assert not offences, "\n".join(offences)


def test_every_package_module_has_a_layer():
    for child in PACKAGE.iterdir():
        name = child.stem
        if name.startswith("_") or child.suffix not in {".py", ""}:
            continue
        assert name in LAYERS, f"bayesmeta/{child.name} has no layer in LAYERS"
