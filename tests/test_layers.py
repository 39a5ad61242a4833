"""Imports run down the layers and never in a circle (docs/architecture.md, "Layers").

Every ``import inpaintkit...`` in ``src/inpaintkit`` (at module level or inside a function: both
are dependencies) is read with :mod:`ast`. The test fails on an import from a lower layer to a
higher one, on an import between ``methods/`` and ``train/`` (one layer, kept apart), on a
method that imports another method or a recipe another recipe (helper modules that register
nothing may be shared), and on any cycle of imports between modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "inpaintkit"

#: (layer, module prefixes), bottom first; a module may import its own layer's package and
#: anything below. Keep in step with docs/architecture.md.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("errors", "convert", "codecs", "cache", "registry", "signatures", "typed_values",
              "ranks")),
    ("io", ("io", "masks", "object_masks", "metrics", "blend", "composite", "atomic", "quiet",
            "headers", "decode16", "limits", "file_encoding")),
    ("nn", ("nn", "data")),
    ("losses", ("losses",)),
    ("models", ("models", "perceptual")),
    ("weights", ("weights",)),
    ("methods", ("methods", "train")),
    ("api", ("api", "image_input", "options", "plugins", "catalog", "style_transfer", "samples")),
    ("edges", ("cli", "web", "eval", "shard", "__init__", "__main__")),
]  # fmt: skip


#: layers whose packages never import each other (a method never imports a recipe and back).
APART = ("methods",)


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> tuple[int, str]:
    """(layer index, the package within the layer) of a module name relative to inpaintkit."""
    head = module.split(".")[0]
    for i, (_, prefixes) in enumerate(LAYERS):
        if head in prefixes:
            return i, head
    raise AssertionError(f"module inpaintkit.{module} is in no layer: add it to LAYERS")


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The inpaintkit modules ``path`` imports at run time: ``from inpaintkit.x import y`` is an
    import of ``x.y`` where y is a module of x, else of ``x`` (``if TYPE_CHECKING:`` skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # ``if TYPE_CHECKING:`` imports are for type checkers only
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            names = [n for n in subs if n.removeprefix("inpaintkit.") in modules]
            if len(names) < len(subs):  # some names are the package's own code
                names.append(node.module)
        for name in names:
            if name == "inpaintkit" or not name.startswith("inpaintkit."):
                continue
            rel = name.removeprefix("inpaintkit.")
            if rel in modules:
                found.add(rel)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PKG.rglob("*.py")}
    mods = set(files)
    out = {}
    for mod, path in files.items():
        deps = imports_of(path, mods)
        # ``from inpaintkit.weights import song`` names the submodule, not the package's code
        out[mod] = {d for d in deps if d != mod}
    return out


def _cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def upward(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for mod, deps in sorted(g.items()):
        li, pkg = layer_of(mod)
        for dep in sorted(deps):
            lj, dep_pkg = layer_of(dep)
            if lj > li:
                bad.append(f"{mod} ({LAYERS[li][0]}) imports {dep} ({LAYERS[lj][0]})")
            elif lj == li and dep_pkg != pkg and LAYERS[li][0] in APART:
                bad.append(f"{mod} imports {dep}: two packages of layer {LAYERS[li][0]}")
    return bad


def registering(path: Path, decorator: str) -> bool:
    """Whether the module at ``path`` registers a method / a recipe (a plug-in)."""
    return f"@{decorator}" in path.read_text(encoding="utf-8")


def test_every_module_is_in_a_layer() -> None:
    for mod in graph():
        layer_of(mod)


def test_no_import_cycle() -> None:
    assert _cycles(graph()) == []


def test_no_upward_import() -> None:
    assert upward(graph()) == []


@pytest.mark.parametrize(("package", "decorator"), [("methods", "register_method"),
                                                    ("train", "register_recipe")])  # fmt: skip
def test_a_plugin_never_imports_another_plugin(package: str, decorator: str) -> None:
    g = graph()
    plugins = {module_name(p) for p in (PKG / package).glob("*.py") if registering(p, decorator)}
    bad = [f"{m} imports {d}" for m in sorted(plugins) for d in sorted(g[m]) if d in plugins]
    assert bad == []


def test_the_check_sees_a_cycle_and_an_upward_import() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert upward({"masks": {"methods.tv"}, "methods.tv": set()}) == [
        "masks (io) imports methods.tv (methods)"
    ]
    assert upward({"methods.tv": {"train.loop"}, "train.loop": set()}) == [
        "methods.tv imports train.loop: two packages of layer methods"
    ]
