"""Small rooms, no cycles: the shape the architecture guide asks for, policed.

- No import cycle in `appliance/`, nor inside any plugin under `plugins/` (a built-in
  plugin loads as the package `appliance_plugins.<name_with_underscores>`). Every
  import counts: top-level, function-local and those under `if TYPE_CHECKING:`.
- No module over 400 lines and no function or method over 60 (from its `def` line
  to the last line of its body, decorators excluded) in `appliance/` or `plugins/`.
- The hook markers set exactly the option keys pluggy's own TypedDicts declare, so a
  pluggy upgrade that adds an option fails here instead of being silently dropped.

Only `ast` is used: nothing is imported or executed to build the graph.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
CORE = TOP / "appliance"
PLUGINS = TOP / "plugins"
BUILTIN_PACKAGE = "appliance_plugins"

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# Being split in issue 11; must be empty when the issue is resolved.
# Findings in the core modules being rewritten for issue 11, each exactly as
# `findings()` words it (without the figures, so an entry stays put while its code
# shrinks). The test fails for a finding not listed here and for an entry that no
# longer occurs: this set can only shrink. Only BEING_SPLIT modules may appear.
PENDING_CORE: set[str] = {
}
BEING_SPLIT = {
    f"appliance.{name}"
    for name in ("hooks", "hookspecs", "markers", "deploy", "pipeline", "cli", "command",
                 "daemon", "lifecycle", "recovery", "plugins", "templates", "triggers",
                 "host")  # host: new in the same rewrite
}  # fmt: skip


# --- the import graph ---------------------------------------------------------


def modules_under(folder: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every `.py` file under `folder`, which is
    imported as `package`."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([package, *parts])] = path
    return found


def imported_modules(module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The modules of `known` that the import statements anywhere in `path` load:
    `from X import y` loads X.y when y is a submodule, X otherwise; `import X.y`
    loads X.y. (A package passed through on the way to a submodule is no edge: every
    submodule pays that import, and counting it would make each package a cycle.)"""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = module.split(".")[: None if is_package else -1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([source] if source else [])])
            names = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            target = resolve(name, known)
            if target is not None and target != module:
                yield target


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The most specific module of `known` that importing `name` lands in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def import_graph(known: dict[str, Path]) -> dict[str, set[str]]:
    return {module: set(imported_modules(module, path, known)) for module, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def one_loop(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A concrete loop through the component's first module, to read in a failure."""
    start = component[0]
    members = set(component)
    paths = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for target in sorted(graph[path[-1]] & members):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                paths.append([*path, target])
    return component


# --- sizes --------------------------------------------------------------------


def long_functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, lines from `def` to the end of the body) for every function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            assert node.end_lineno is not None
            yield name, node.end_lineno - node.lineno + 1
            yield from long_functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from long_functions(node, f"{prefix}{node.name}.")
        else:
            yield from long_functions(node, prefix)


# --- the findings -------------------------------------------------------------


def trees() -> list[tuple[str, dict[str, Path]]]:
    """(where, modules) for the core and for each plugin folder."""
    found = [("appliance/", modules_under(CORE, "appliance"))]
    for folder in sorted(p for p in PLUGINS.iterdir() if p.is_dir()):
        package = f"{BUILTIN_PACKAGE}.{folder.name.replace('-', '_')}"
        found.append((f"plugins/{folder.name}/", modules_under(folder, package)))
    return found


@functools.cache
def findings() -> dict[str, str]:
    """Finding (stable wording, as PENDING_CORE lists it) -> detail with figures."""
    found: dict[str, str] = {}
    for _where, known in trees():
        graph = import_graph(known)
        for component in cycles(graph):
            key = "import cycle: " + ", ".join(component)
            found[key] = " -> ".join(one_loop(component, graph))
        for path in known.values():
            relative = path.relative_to(TOP).as_posix()
            text = path.read_text()
            lines = len(text.splitlines())
            if lines > MAX_MODULE_LINES:
                found[f"{relative}: module over {MAX_MODULE_LINES} lines"] = f"{lines} lines"
            for name, length in long_functions(ast.parse(text, relative)):
                if length > MAX_FUNCTION_LINES:
                    key = f"{relative}: {name} over {MAX_FUNCTION_LINES} lines"
                    found[key] = f"{length} lines"
    return found


def test_no_cycles_and_no_oversized_code() -> None:
    found = findings()
    new = {key: detail for key, detail in found.items() if key not in PENDING_CORE}
    assert not new, "split these (or break the cycle with a leaf module):\n" + "\n".join(
        f"  {key}  ({detail})" for key, detail in sorted(new.items())
    )


def test_pending_core_only_shrinks() -> None:
    stale = PENDING_CORE - findings().keys()
    assert not stale, "fixed, so remove from PENDING_CORE in this file:\n" + "\n".join(
        f"  {key}" for key in sorted(stale)
    )


def test_pending_core_names_only_modules_being_split() -> None:
    for key in PENDING_CORE:
        if key.startswith("import cycle: "):
            modules = set(key.removeprefix("import cycle: ").split(", "))
        else:
            path = key.split(":", 1)[0]
            modules = {path.removesuffix(".py").replace("/", ".")}
        assert modules <= BEING_SPLIT, f"PENDING_CORE may not excuse {modules - BEING_SPLIT}"


# --- the graph builder itself -------------------------------------------------


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text)


def test_cycles_count_type_only_and_local_imports(tmp_path: Path) -> None:
    write(tmp_path, {
        "__init__.py": "from . import a\ndef hook():\n    from .b import helper\n",
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n",
        "b.py": "def helper():\n    from appliance_plugins.x import hook\n",
        "c.py": "from . import a\n",
    })  # fmt: skip
    graph = import_graph(modules_under(tmp_path, "appliance_plugins.x"))
    assert graph["appliance_plugins.x.c"] == {"appliance_plugins.x.a"}
    assert cycles(graph) == [
        ["appliance_plugins.x", "appliance_plugins.x.a", "appliance_plugins.x.b"]
    ]


def test_a_submodule_import_is_no_edge_to_its_package(tmp_path: Path) -> None:
    write(tmp_path, {
        "__init__.py": "from . import a\nfrom .a import f\n",
        "a.py": "from . import b\nimport appliance_plugins.x.b\n",
        "b.py": "from . import f\n",  # a name from __init__: an edge to it
    })  # fmt: skip
    graph = import_graph(modules_under(tmp_path, "appliance_plugins.x"))
    assert graph["appliance_plugins.x.a"] == {"appliance_plugins.x.b"}
    assert cycles(graph) == [
        ["appliance_plugins.x", "appliance_plugins.x.a", "appliance_plugins.x.b"]
    ]


def test_function_length_excludes_decorators() -> None:
    tree = ast.parse("@a\n@b\ndef f():\n    x = 1\n\n    return x\nclass C:\n    def m(self):\n"
                     "        def inner():\n            pass\n")  # fmt: skip
    assert dict(long_functions(tree)) == {"f": 4, "C.m": 3, "C.m.inner": 2}


# --- the markers follow pluggy ------------------------------------------------


def pluggy_keys(name: str) -> set[str]:
    import pluggy

    typed = getattr(pluggy, name, None)
    if typed is None:
        from pluggy import _hooks

        typed = getattr(_hooks, name)
    return set(typed.__required_keys__ | typed.__optional_keys__)


def marked_keys(marker: object) -> set[str]:
    def function() -> None: ...

    marker(function)  # type: ignore[operator]
    (opts,) = [v for v in vars(function).values() if isinstance(v, dict)]
    return set(opts)


@pytest.mark.parametrize("marker, typed", [("hookimpl", "HookimplOpts"),
                                           ("hookspec", "HookspecOpts")])  # fmt: skip
def test_markers_set_exactly_pluggys_option_keys(marker: str, typed: str) -> None:
    from appliance import markers

    assert marked_keys(getattr(markers, marker)) == pluggy_keys(typed)


def test_every_core_package_is_shipped() -> None:
    """A package under appliance/ that pyproject.toml does not list is missing from an
    install (setuptools takes only the packages named): every e2e test would fail."""
    import tomllib

    with open(TOP / "pyproject.toml", "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.parent.relative_to(TOP).parts)
        for path in (TOP / "appliance").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert found <= listed, f"pyproject.toml must list {sorted(found - listed)}"
