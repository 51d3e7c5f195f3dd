"""The public API, policed: plugins import nothing of the core but `appliance.api`,
every public name resolves and says what it is, and the core names no feature."""

from __future__ import annotations

import ast
import inspect
import io
import re
import tokenize
import types
from pathlib import Path

import pytest

from appliance import api

TOP = Path(__file__).resolve().parents[2]
PLUGINS = TOP / "plugins"
CORE = TOP / "appliance"


def imports_of(path: Path) -> list[tuple[int, str, list[str]]]:
    """Every import in `path`, wherever it is (function-local, TYPE_CHECKING):
    (line, module, names imported from it)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
    return found


def plugin_files() -> list[Path]:
    return sorted(PLUGINS.rglob("*.py"))


def test_plugins_import_only_the_public_api_from_the_core() -> None:
    wrong = []
    for path in plugin_files():
        for line, module, names in imports_of(path):
            where = f"{path.relative_to(TOP)}:{line}"
            if module == "appliance" and names != ["api"]:
                wrong.append(f"{where}: from appliance import {', '.join(names)}")
            elif module.startswith("appliance.") and module != "appliance.api":
                wrong.append(f"{where}: {module}")
            elif module == "appliance.api":
                unknown = [n for n in names if n not in api.__all__]
                if unknown:
                    wrong.append(f"{where}: appliance.api has no {unknown}")
    assert not wrong, "plugins reach into the core's private modules:\n" + "\n".join(wrong)


def test_api_attributes_used_by_plugins_exist() -> None:
    """`api.NAME` in plugin code (after `from appliance import api`) names a public name."""
    wrong = []
    for path in plugin_files():
        text = path.read_text()
        if "from appliance import api" not in text:
            continue
        for match in re.finditer(r"(?<![\w.])api\.(\w+)", text):
            if match.group(1) not in api.__all__ and not match.group(1).startswith("__"):
                line = text.count("\n", 0, match.start()) + 1
                wrong.append(f"{path.relative_to(TOP)}:{line}: api.{match.group(1)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", api.__all__)
def test_every_public_name_resolves_and_is_documented(name: str) -> None:
    value = getattr(api, name)
    if isinstance(value, types.ModuleType) or inspect.isclass(value) or callable(value):
        assert inspect.getdoc(value), f"appliance.api.{name} has no docstring"


def test_a_name_that_is_not_public_is_refused() -> None:
    with pytest.raises(AttributeError, match=r"appliance\.api has no 'pipeline'"):
        api.pipeline  # noqa: B018


def test_importing_the_api_loads_only_what_is_used() -> None:
    """`from appliance.api import App` must not pull in the deploy pipeline or pluggy."""
    import subprocess
    import sys

    code = (
        "import sys; from appliance.api import App, UserError; "
        "print(','.join(m for m in ('appliance.pipeline', 'pluggy', 'jinja2', 'docker') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=TOP)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


FEATURE_WORDS = re.compile(r"nginx|docker|buildpack|dockerfile|letsencrypt|swarm", re.I)

PENDING_FEATURE_CODE = {
    # Passes DOCKER_HOST & co. to host processes (the appliance's own git hook, a
    # detached retire, triggers): they must reach the engine the scheduler uses.
    "hostenv.py",
}
"""Core modules whose code (not prose) still names a feature; it can only shrink."""


def code_tokens(path: Path) -> list[tuple[int, int, str]]:
    """Names and string literals of `path`, without comments and docstrings."""
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.add(value.lineno)
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME or (
            token.type == tokenize.STRING and token.start[0] not in docstrings
        ):
            found.append((token.start[0], token.type, token.string))
    return found


CORE_CONCEPTS = {
    *("apps", "audit", "builder", "checks", "config", "git", "plugin", "releases", "ssh-keys")
}
"""Plugins whose names are also the core's words: the app store, the audit log the
core writes, the pipeline's phases (a deploy's `builder`, its `checks` timing), config
vars, git push, plugins, the release ledger, keys and access."""


def feature_names() -> set[str]:
    found = {p.name for p in PLUGINS.iterdir() if (p / "plugin.toml").is_file()}
    return found - CORE_CONCEPTS


def names_a_feature(kind: int, text: str, plugins: set[str]) -> bool:
    if kind == tokenize.STRING:
        body = re.sub(r"^[a-zA-Z]*(\"\"\"|\'\'\'|\"|\')|(\"\"\"|\'\'\'|\"|\')$", "", text)
        return bool(FEATURE_WORDS.search(body)) or body in plugins
    return bool(FEATURE_WORDS.search(text))


def test_the_core_names_no_feature() -> None:
    plugins = feature_names()
    offenders: dict[str, list[str]] = {}
    for path in sorted(CORE.glob("*.py")):
        for line, kind, text in code_tokens(path):
            if names_a_feature(kind, text, plugins):
                offenders.setdefault(path.name, []).append(f"{line}: {text[:60]}")
    pending = {name for name in offenders if name in PENDING_FEATURE_CODE}
    wrong = {name: found for name, found in offenders.items() if name not in pending}
    assert not wrong, "the core names a feature:\n" + "\n".join(
        f"{name}:{entry}" for name, found in wrong.items() for entry in found
    )
    assert set(offenders) >= PENDING_FEATURE_CODE, (
        f"no longer naming a feature, remove from PENDING_FEATURE_CODE: "
        f"{sorted(PENDING_FEATURE_CODE - set(offenders))}"
    )


def test_plugins_import_other_plugins_only_through_what_they_require() -> None:
    """`from appliance_plugins.NAME import MODULE` only for a plugin named in `requires`,
    and only a module it lists as `public`."""
    from appliance.registry import Registry

    registry = Registry()
    wrong = []
    for plugin in registry.plugins.values():
        allowed = registry.importable_modules(plugin)
        own = plugin.module_name
        for path in sorted(plugin.path.rglob("*.py")):
            for line, module, names in imports_of(path):
                if not module.startswith(("appliance_plugins", "appliance_ext")):
                    continue
                if module == own or module.startswith(own + "."):
                    continue
                wanted = {f"{module}.{n}" for n in names} if names else {module}
                if not wanted <= allowed:
                    where = f"{path.relative_to(TOP)}:{line}"
                    wrong.append(f"{where}: {sorted(wanted - allowed)} (requires/public?)")
    assert not wrong, "\n".join(wrong)


def test_the_contract_test_sees_an_import_that_is_not_allowed(tmp_path: Path) -> None:
    """The check above is not vacuous: an import of a module no requires allows is seen."""
    path = tmp_path / "x.py"
    path.write_text("def f():\n    from appliance_plugins.git import repo\n")
    assert imports_of(path) == [(2, "appliance_plugins.git", ["repo"])]


NAMESPACES = [
    n for n in api.__all__ if isinstance(getattr(api, n), types.ModuleType)
]


@pytest.mark.parametrize("name", NAMESPACES)
def test_every_namespace_says_what_plugins_may_use(name: str) -> None:
    module = getattr(api, name)
    assert getattr(module, "__all__", None), f"appliance.{name} needs an __all__"
    for member in module.__all__:
        assert hasattr(module, member), f"appliance.{name}.__all__ names a missing {member}"


def test_plugins_use_only_the_public_part_of_a_namespace() -> None:
    """`releases.record` (the pipeline writes the ledger) is the core's, even though
    `from appliance.api import releases` gives the module."""
    wrong = []
    for path in plugin_files():
        tree = ast.parse(path.read_text())
        imported: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "appliance.api":
                for alias in node.names:
                    if alias.name in NAMESPACES:
                        imported[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in imported
            ):
                module = getattr(api, imported[node.value.id])
                if node.attr not in module.__all__:
                    where = f"{path.relative_to(TOP)}:{node.lineno}"
                    wrong.append(f"{where}: {imported[node.value.id]}.{node.attr}")
    assert not wrong, "plugins use the core's part of a namespace:\n" + "\n".join(wrong)
