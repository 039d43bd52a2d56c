"""
The emulator's layout (docs/dev_guide/emulator_internals.rst): its folders are layers, and its
imports form no cycle.

The import graph is read from the sources (every ``import`` statement, at module level or inside a
function or an ``if TYPE_CHECKING:`` block), so a cycle hidden behind a lazy import counts too.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import sunpy_jsoc_cutout.testing

PACKAGE = "sunpy_jsoc_cutout.testing"
ROOT = Path(sunpy_jsoc_cutout.testing.__file__).parent

#: The folders from the top layer down: a module may import its own folder and the folders below
#: it, never one above. ``testing/__init__.py`` and ``__main__.py`` stand above them all.
LAYERS = ("server", "exports", "processing", "catalogue", "sun", "common")
TOP_MODULES = {PACKAGE, f"{PACKAGE}.__main__"}
#: The only module of the package outside the emulator that the emulator may import.
ALLOWED_OUTSIDE = {"sunpy_jsoc_cutout.version"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imported_names(name: str, path: Path):
    """Every module name an import statement of the module names (its ``from X import y``: ``X.y``
    when that is a module, else ``X``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            submodules = [f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in MODULES]
            yield from submodules or [target]


def _edges() -> dict[str, set[str]]:
    return {
        name: {target for target in _imported_names(name, path) if target in MODULES and target != name}
        for name, path in MODULES.items()
    }


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges[v]:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _folder(name: str) -> str | None:
    """The layer folder of a module, None for the top modules."""
    return None if name in TOP_MODULES else name.removeprefix(f"{PACKAGE}.").split(".")[0]


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.walk_packages([str(ROOT)], f"{PACKAGE}.")))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_the_sources_are_the_modules_found():
    found = {m.name for m in pkgutil.walk_packages([str(ROOT)], f"{PACKAGE}.")} | {PACKAGE}
    assert found == set(MODULES)


def test_no_import_cycles():
    cycles = _cycles(_edges())
    assert not cycles, "import cycles (lazy imports included): " + "; ".join(" <-> ".join(c) for c in cycles)


def test_every_module_lives_in_a_layer_folder():
    folders = {_folder(name) for name in MODULES} - {None}
    assert folders == set(LAYERS), f"folders {sorted(folders)}; the documented layers are {LAYERS}"


def test_a_layer_never_imports_a_layer_above_it():
    rank = {folder: i for i, folder in enumerate(LAYERS)}
    unknown = sorted(name for name in MODULES if _folder(name) is not None and _folder(name) not in rank)
    assert not unknown, f"modules outside the layer folders {LAYERS}: {unknown}"
    upward = sorted(
        f"{name} ({_folder(name)}) imports {target} ({_folder(target)})"
        for name, targets in _edges().items()
        if _folder(name) is not None
        for target in targets
        if _folder(target) is None or rank[_folder(target)] < rank[_folder(name)]
    )
    assert not upward, "imports against the layer order " + " > ".join(LAYERS) + ":\n" + "\n".join(upward)


def test_the_emulator_never_imports_the_client():
    client = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items()
        for target in _imported_names(name, path)
        if target.split(".")[0] == "sunpy_jsoc_cutout"
        and not (target == PACKAGE or target.startswith(f"{PACKAGE}."))
        and target not in ALLOWED_OUTSIDE
    )
    assert not client, "the emulator imports the client side:\n" + "\n".join(client)


def test_the_checks_see_a_cycle_and_an_upward_import():
    """The helpers themselves: a two-module cycle and a lower layer importing a higher one."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert _folder(f"{PACKAGE}.sun.render") == "sun"
    assert _folder(f"{PACKAGE}.__main__") is None
