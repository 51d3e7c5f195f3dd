"""Every validator refuses a trailing newline, a NUL and 10 kB of input, and every
anchored pattern in the code is applied with `fullmatch` (with `match`, `^...$` lets
a trailing newline through: `$` matches before it)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance import validate
from appliance.errors import UserError
from appliance.registry import Registry

CHECKOUT = Path(__file__).resolve().parents[2]


def plugin_module(plugin: str, module: str):
    registry = Registry()
    return registry.import_module(registry.get(plugin), module)


def validators() -> list[tuple[str, Callable[[str], object], str]]:
    """(name, validator, a valid input) for every validator of a name, path or value
    that reaches a path, a template, a config or a command line."""
    store = plugin_module("config", "store")
    paths = plugin_module("storage", "paths")
    network = plugin_module("network", "settings")
    limits = plugin_module("resource", "limits")
    cron = plugin_module("cron", "entries")
    images = plugin_module("builder-auto", "dockerfile")
    sources = plugin_module("builder-buildpack", "sources")
    keys = plugin_module("ssh-keys", "keys")
    checks = plugin_module("checks", "settings")
    return [
        ("app_name", validate.app_name, "hello-world"),
        ("key_name", validate.key_name, "alice@laptop"),
        ("plugin_name", validate.plugin_name, "my-plugin"),
        ("process_type", validate.process_type, "web"),
        ("branch", validate.branch, "release/v1"),
        ("domain", validate.domain, "app.example.com"),
        ("config_key", store.config_key, "DATABASE_URL"),
        ("storage path", lambda v: paths.absolute(v, "path"), "/var/lib/data"),
        ("storage directory", paths.directory_name, "uploads"),
        ("network", network.network_name, "backend"),
        ("memory", limits.memory_bytes, "512m"),
        ("cpus", limits.cpus, "1"),
        ("cron id", cron.valid_id, "0123abcd"),
        ("image", images.image_ref, "python:3.12-slim"),
        ("buildpack url", sources.parse_url, "https://github.com/heroku/heroku-buildpack-python"),
        ("public key", keys.parse_key, _public_key()),
        ("process types", checks.parse_types, "web,worker"),
    ]


def _public_key() -> str:
    from tests.unit.test_ssh_entry import public_key

    return public_key(7)


# Parsers of a line of a file (a public key as `cat key.pub` gives it, newline and
# all): they return the normalised value, never the text as typed.
LINE_FORMATS = {"public key"}


@pytest.mark.parametrize("variant", ["newline", "nul", "huge", "leading space"])
def test_every_validator_refuses_hostile_variants_of_a_valid_input(root, variant: str) -> None:
    for name, check, valid in validators():
        check(valid)  # the sample itself passes
        if name in LINE_FORMATS and variant in ("newline", "leading space"):
            continue
        hostile = {
            "newline": valid + "\n",
            "nul": valid[:2] + "\x00" + valid[2:],
            "huge": valid + "a" * 10_240,
            "leading space": " " + valid,
        }[variant]
        with pytest.raises(UserError):
            check(hostile)
            pytest.fail(f"{name} accepted {hostile[:40]!r}")


# Patterns applied with match()/search() on purpose: they find a prefix of a line
# (a Dockerfile instruction, a requirement's option), not validate a whole value.
PREFIX_PARSERS = {
    "_DIRECTIVE", "_INSTRUCTION", "_FLAG", "_ASSIGNMENT", "_INCLUDE", "_FIND_LINKS",
    "_LOCAL_REQUIREMENT", "_TOP", "_ITEM", "CONFIG_LINE", "pattern", "_CONTINUED",
}  # fmt: skip


def anchored_patterns(tree: ast.AST) -> set[str]:
    """Names bound to re.compile(r"...$") in a module."""
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "attr", "") == "compile"
            and node.value.args
        ):
            pattern = node.value.args[0]
            text = ast.unparse(pattern)
            if text.rstrip("'\")").endswith("$"):
                found.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return found


def test_anchored_patterns_are_applied_with_fullmatch() -> None:
    offenders = []
    for path in [*CHECKOUT.glob("appliance/**/*.py"), *CHECKOUT.glob("plugins/**/*.py")]:
        tree = ast.parse(path.read_text())
        anchored = anchored_patterns(tree) - PREFIX_PARSERS
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = node.func.value
            name = getattr(receiver, "id", getattr(receiver, "attr", ""))
            if node.func.attr in ("match", "search") and name in anchored:
                offenders.append(f"{path.relative_to(CHECKOUT)}:{node.lineno} {name}")
            if name == "re" and node.func.attr in ("match", "search") and node.args:
                literal = ast.unparse(node.args[0])
                if re.search(r"\$['\"]$", literal):
                    offenders.append(f"{path.relative_to(CHECKOUT)}:{node.lineno} re.match")
    assert not offenders, "use fullmatch: " + ", ".join(offenders)
