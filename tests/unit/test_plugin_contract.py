"""The plugin contract, policed: every hook is documented and tested, and every
built-in plugin declares exactly the hooks it implements and commands that resolve.

Modelled on datasette's `test_plugin_hooks_have_tests` and
`test_plugin_hooks_are_documented`.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

from appliance import hookspecs, triggers
from appliance.manifest import Plugin
from appliance.markers import IMPL_ATTR, SPEC_ATTR
from appliance.registry import Registry

TOP = Path(__file__).resolve().parents[2]
DOCS = TOP / "docs" / "plugins.md"
TESTS = Path(__file__).resolve().parent
KINDS = ("Event", "Decision", "Collect")

HOOKS = [
    name
    for name, function in vars(hookspecs).items()
    if name.startswith("appliance_") and hasattr(function, SPEC_ATTR)
]


def spec(name: str):  # type: ignore[no-untyped-def]
    return getattr(hookspecs, name)


def kind(name: str) -> str:
    return (inspect.getdoc(spec(name)) or "").split(" ", 1)[0].rstrip(":")


def builtin_plugins() -> list[Plugin]:
    return [p for p in Registry().plugins.values() if p.builtin]


def implemented(module: object) -> set[str]:
    """The hooks pluggy would register from `module`: marked `appliance_*` callables."""
    found = set()
    for name in dir(module):
        opts = getattr(getattr(module, name), IMPL_ATTR, None)
        if name.startswith("appliance_") and opts is not None:
            found.add(opts.get("specname") or name)
    return found


def doc_sections() -> dict[str, str]:
    """`### appliance_xxx` heading -> its text, up to the next heading outside code."""
    sections: dict[str, str] = {}
    current: str | None = None
    fenced = False
    for line in DOCS.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,3} ", line):
            match = re.fullmatch(r"### (appliance_\w+)", line.strip())
            current = match.group(1) if match else None
            if current:
                assert current not in sections, f"docs/plugins.md: '{line}' appears twice"
                sections[current] = ""
            continue
        if current:
            sections[current] += line + "\n"
    return sections


def signature(name: str) -> str:
    """`def appliance_x(app: App, out: Output) -> None`, as hookspecs.py declares it."""
    sig = inspect.signature(spec(name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {name}({params}) -> {sig.return_annotation}"


def test_hooks_are_found() -> None:
    assert len(HOOKS) >= 17
    assert "appliance_build" in HOOKS and "appliance_post_deploy" in HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_hookspec_docstring_names_its_kind(name: str) -> None:
    assert kind(name) in KINDS, f"{name}'s docstring must start with Event, Decision or Collect"
    firstresult = getattr(spec(name), SPEC_ATTR)["firstresult"]
    assert firstresult == (kind(name) == "Decision"), (
        f"{name}: a Decision hook is firstresult=True, and only a Decision hook is"
    )


@pytest.mark.parametrize("name", HOOKS)
def test_event_hooks_say_pipeline_or_isolated(name: str) -> None:
    if kind(name) == "Event":
        doc = inspect.getdoc(spec(name)) or ""
        assert doc.startswith(("Event (pipeline)", "Event (isolated)")), name


def test_triggers_know_which_hooks_return_a_value() -> None:
    """A trigger's stdout is the return value of every Decision and Collect hook."""
    returning = {name for name in HOOKS if kind(name) in ("Decision", "Collect")}
    assert set(triggers.RETURNS_VALUE) == returning


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name: str) -> None:
    sections = doc_sections()
    assert name in sections, f"docs/plugins.md needs a '### {name}' section"
    assert signature(name) in sections[name], (
        f"the '### {name}' section must show the signature: {signature(name)}"
    )
    assert f"**{kind(name)}" in sections[name], f"the '### {name}' section must name its kind"


def test_documented_hooks_are_exactly_the_hooks() -> None:
    """(Their order is the generator's: tests/unit/test_plugin_docs.py.)"""
    assert sorted(doc_sections()) == sorted(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name: str) -> None:
    text = "\n".join(p.read_text() for p in sorted(TESTS.rglob("test_*.py")))
    assert re.search(rf"^def test_hook_{name}\(", text, flags=re.MULTILINE), (
        f"tests/unit needs a test named test_hook_{name}"
    )


def test_builtin_plugins_declare_exactly_the_hooks_they_implement(root: Path) -> None:
    registry = Registry()
    plugins = builtin_plugins()
    assert {"apps", "git", "scheduler-docker", "proxy-nginx"} <= {p.name for p in plugins}
    for plugin in plugins:
        module = registry.import_module(plugin)
        assert sorted(plugin.hooks) == sorted(implemented(module)), (
            f"{plugin.path / 'plugin.toml'}: hooks must list exactly the hookimpls of "
            f"its __init__.py"
        )
        assert len(plugin.hooks) == len(set(plugin.hooks)), f"{plugin.name}: hook listed twice"
        unknown = set(plugin.declared_hooks()) - set(HOOKS)
        assert not unknown, f"{plugin.name} names hooks that do not exist: {sorted(unknown)}"


def test_builtin_commands_resolve(root: Path) -> None:
    registry = Registry()
    commands = [c for p in builtin_plugins() for c in p.commands.values()]
    assert {"apps:create", "plugin:install"} <= {c.name for c in commands}
    for command in commands:
        assert re.fullmatch(r"[a-z][a-z0-9-]*(:[a-z0-9-]+)?", command.name), command.name
        if command.exec:
            exe = command.plugin.path / command.exec
            assert exe.is_file() and os.access(exe, os.X_OK), f"{command.name}: {exe}"
        else:
            assert callable(registry.handler(command)), command.name
        assert command.help, f"{command.name} needs a help line"


def test_builtin_command_names_are_unique(root: Path) -> None:
    seen: dict[str, str] = {}
    for plugin in builtin_plugins():
        for name in plugin.commands:
            assert name not in seen, f"{name} is declared by {seen.get(name)} and {plugin.name}"
            seen[name] = plugin.name


def test_all_builtin_plugins_load_cleanly(root: Path) -> None:
    registry = Registry(hookspecs)
    registry.load_all()
    registry.pm.check_pending()
    registered = {registry.pm.get_name(p) for p in registry.pm.get_plugins()}
    assert {p.name for p in builtin_plugins() if p.hooks} <= registered
