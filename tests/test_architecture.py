"""The package's layers (docs/architecture.md): who may import whom, and no import cycles.

Every ``import`` in the package's source is read with :mod:`ast`, including imports inside
functions (the lazy ones that keep the command line fast), so a lower layer cannot reach a
higher one even at call time.
"""

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gridcoherence"

#: Layer of each top-level part of the package, lowest first. A module may import its own
#: layer and lower ones, never a higher one. ``learning`` stands apart: it uses only the
#: private helpers.
LAYERS = {"_io": 0, "_numeric": 0, "_validation": 0, "_extras": 0, "__init__": 0,
          "models": 1, "cases": 2, "coherence": 3, "reduction": 4, "report": 5, "studies": 6,
          "cli": 7, "__main__": 7, "learning": 1}
INDEPENDENT = {"learning"}


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(p) for p in SOURCES}


def as_module(target):
    """The module a dotted import target lives in ("from . import x" may name an attribute)."""
    while target not in MODULES and "." in target:
        target = target.rpartition(".")[0]
    return target


def imports(path):
    """(imported module, at module level?) for every import of the package in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [target] if node.module else [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        found += [(as_module(t), id(node) in top_level) for t in targets
                  if t.split(".")[0] == "gridcoherence"]
    return found


def part(module):
    """The layer key of a dotted module name: 'gridcoherence.models.nodes' -> 'models'."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def test_every_part_of_the_package_has_a_layer():
    assert {part(module_name(p)) for p in SOURCES} <= set(LAYERS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_no_module_imports_a_higher_layer(path):
    source = part(module_name(path))
    for target, _ in imports(path):
        goal = part(target)
        if goal == source:
            continue
        assert goal not in INDEPENDENT or source in ("__init__",), f"{module_name(path)} imports {target}"
        if source in INDEPENDENT:
            assert LAYERS[goal] == 0, f"{module_name(path)} imports {target}: learning stands apart"
            continue
        assert LAYERS[goal] <= LAYERS[source], f"{module_name(path)} (layer {source}) imports {target}"


def test_no_import_cycles_at_module_level():
    graph = nx.DiGraph()
    for path in SOURCES:
        for target, top in imports(path):
            if top and target != module_name(path):
                graph.add_edge(module_name(path), target)
    cycles = list(nx.simple_cycles(graph))
    # A package __init__ that re-exports lazily imports nothing at module level, so any
    # cycle here is real.
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_models_and_reduction_stay_below_their_users():
    for path in SOURCES:
        source = part(module_name(path))
        targets = {part(t) for t, _ in imports(path)}
        if source == "models":
            assert not targets & {"cases", "coherence", "reduction", "report", "studies", "cli"}, path
        if source == "reduction":
            assert not targets & {"report", "studies", "cli"}, path


def test_no_module_touches_pyplot_or_the_backend():
    # Figures are matplotlib.figure.Figure objects: a user's backend (a notebook's, say)
    # is never switched, and no figure is left registered with pyplot.
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        assert "matplotlib.use(" not in text and "import matplotlib.pyplot" not in text, path
