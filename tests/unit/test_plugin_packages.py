"""Plugins as whole packages: the split plugin modules, `requires` and `public`
imports between plugins, Python dependencies on sys.path, templates a plugin
ships, and what a trigger executable is (not) handed."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from appliance import templates
from appliance.errors import PluginError, UserError
from appliance.manifest import Plugin, read_manifest, requirement
from appliance.registry import Registry
from appliance.trigger_adapter import trigger_plugin

CHECKOUT = Path(__file__).resolve().parents[2]


def write_plugin(root: Path, name: str, manifest: str, **files: str) -> Path:
    folder = root / "plugins" / name
    folder.mkdir(parents=True)
    (folder / "plugin.toml").write_text(textwrap.dedent(manifest))
    for filename, text in files.items():
        path = folder / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return folder


LIB = """
    name = "lib-plugin"
    public = ["helpers"]
"""
USER = """
    name = "user-plugin"
    requires = ["lib-plugin"]

    [commands."user:shout"]
    handler = "commands:shout"
    help = "Shout through lib-plugin's public module"
"""
USER_COMMANDS = """
    from appliance_ext.lib_plugin import helpers


    def shout(ctx):
        ctx.out.raw(helpers.shout(" ".join(ctx.args)))
        return 0
"""


@pytest.fixture
def two_plugins(root: Path) -> Path:
    write_plugin(root, "lib-plugin", LIB, **{"helpers.py": "def shout(s):\n    return s.upper()\n"})
    write_plugin(root, "user-plugin", USER, **{"commands.py": USER_COMMANDS})
    return root


# --- the split modules ------------------------------------------------------


def _core_imports(module: str) -> set[str]:
    tree = ast.parse((CHECKOUT / "appliance" / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("appliance"):
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_plugin_modules_import_downwards_only() -> None:
    """manifest <- plugin_imports, trigger_adapter <- registry: nothing points back up,
    type-only imports included."""
    layers = ["manifest", "plugin_imports", "trigger_adapter", "registry"]
    for i, module in enumerate(layers):
        above = {f"appliance.{m}" for m in layers[i + 1 :]}
        assert not _core_imports(module) & above, f"appliance/{module}.py imports upwards"
    assert not (CHECKOUT / "appliance" / "plugins.py").exists()


def test_reading_manifests_imports_no_plugin_machinery(root: Path) -> None:
    code = (
        "import sys; from appliance.registry import Registry; r = Registry(); "
        "assert r.command('apps:list'); "
        "print(sorted(m for m in ('pluggy', 'jinja2', 'pip') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=CHECKOUT
    )
    assert result.stdout.strip() == "[]"


# --- requires and public ----------------------------------------------------


def test_a_plugin_imports_the_public_module_of_a_plugin_it_requires(two_plugins, run) -> None:
    result = run("user:shout", "quiet", "please")
    assert (result.code, result.out) == (0, "QUIET PLEASE\n"), result.err
    registry = Registry()
    user = registry.get("user-plugin")
    assert user.requires == ["lib-plugin"]
    assert registry.importable_modules(user) == {"appliance_ext.lib_plugin.helpers"}
    assert registry.importable_modules(registry.get("lib-plugin")) == set()


def test_a_plugin_imports_a_builtin_plugin_it_requires(root: Path, run) -> None:
    write_plugin(
        root,
        "uses-config",
        """
        name = "uses-config"
        requires = ["config"]

        [commands."uses:check"]
        handler = "commands:check"
        help = "Check a key with the config plugin's validator"
        """,
        **{
            "commands.py": """
            from appliance_plugins.config import store


            def check(ctx):
                ctx.out.raw(store.config_key(ctx.args[0]))
                return 0
            """
        },
    )
    result = run("uses:check", "DATABASE_URL")
    assert (result.code, result.out) == (0, "DATABASE_URL\n"), result.err


def test_a_missing_required_plugin_fails_the_requiring_one_clearly(root: Path, run) -> None:
    write_plugin(root, "user-plugin", USER, **{"commands.py": USER_COMMANDS})
    result = run("user:shout", "hi")
    assert result.code == 1
    assert result.err == (
        " !     plugin user-plugin requires plugin lib-plugin, which is not installed\n"
    )


def test_a_disabled_required_plugin_fails_the_requiring_one_clearly(two_plugins, run) -> None:
    (two_plugins / "plugins.toml").write_text('disabled = ["lib-plugin"]\n')
    result = run("user:shout", "hi")
    assert result.code == 1
    assert "plugin user-plugin requires plugin lib-plugin, which is disabled" in result.err
    assert result.err.count("\n") == 1
    with pytest.raises(PluginError, match="requires plugin lib-plugin"):
        registry = Registry()
        registry.load(registry.get("user-plugin"))


def test_a_required_plugin_cannot_be_disabled_or_uninstalled(two_plugins, run) -> None:
    refused = run("plugin:disable", "lib-plugin")
    assert refused.code == 1
    assert "enabled plugin user-plugin requires it" in refused.err
    assert "requires it" in run("plugin:uninstall", "lib-plugin").err
    assert run("plugin:disable", "user-plugin").code == 0
    assert run("plugin:disable", "lib-plugin").code == 0
    assert "enable it first" in run("plugin:enable", "user-plugin").err
    assert run("plugin:enable", "lib-plugin").code == 0
    assert run("plugin:enable", "user-plugin").code == 0
    assert run("user:shout", "ok").out == "OK\n"


def test_a_plugin_cannot_require_itself(root: Path) -> None:
    folder = write_plugin(root, "selfish", 'name = "selfish"\nrequires = ["selfish"]\n')
    with pytest.raises(UserError, match="cannot require itself"):
        read_manifest(folder, builtin=False)


def test_a_disabled_plugin_cannot_be_imported_by_another(two_plugins) -> None:
    registry = Registry()
    registry.import_module(registry.get("lib-plugin"))  # the finder now knows the registry
    registry.get("lib-plugin").enabled = False
    for name in [m for m in sys.modules if m.startswith("appliance_ext.lib_plugin")]:
        del sys.modules[name]
    with pytest.raises(ImportError, match="plugin lib-plugin is disabled"):
        __import__("appliance_ext.lib_plugin.helpers")


# --- manifest fields --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["six", "requests>=2", "requests[socks]>=2,<3", "zope.interface==5.*", "bar (>=1.0)",
     'tomli>=1; python_version < "3.11"'],
)  # fmt: skip
def test_dependency_strings_accepted(text: str) -> None:
    assert requirement(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "six\n",
        "six\nrequests",
        "-e .",
        "-e git+https://example.com/x.git",
        "--index-url=https://evil.example/simple",
        "--index-url https://evil.example/simple six",
        "https://example.com/six.whl",
        "six @ https://example.com/six.whl",
        "./six",
        "/tmp/six",
        "six-1.0.tar.gz#sha256=0",
        "six\x00",
        " six",
        "",
        "six" + "0" * 300,
    ],
)
def test_dependency_strings_refused(text: str) -> None:
    with pytest.raises(UserError, match="invalid dependency"):
        requirement(text)


def test_manifest_lists_are_checked(root: Path) -> None:
    cases = {
        "dependencies = ['-e .']": "invalid dependency",
        "dependencies = 'six'": "must be a list of strings",
        f"dependencies = {['six'] * 51!r}": "more than 50",
        "requires = ['Not A Name']": "invalid plugin name",
        "public = ['../escape']": "invalid module name",
    }
    for i, (line, error) in enumerate(cases.items()):
        folder = write_plugin(root, f"bad-{i}", f'name = "bad-{i}"\n{line}\n')
        with pytest.raises(UserError, match=error):
            read_manifest(folder, builtin=False)
    assert not {f"bad-{i}" for i in range(len(cases))} & set(Registry().plugins)


def test_dependencies_reach_sys_path_only_when_the_plugin_loads(
    root: Path, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "depmod", raising=False)
    write_plugin(
        root,
        "with-deps",
        """
        name = "with-deps"
        dependencies = ["depmod>=1"]

        [commands."deps:show"]
        handler = "commands:show"
        help = "Use the dependency"
        """,
        **{"commands.py": "import depmod\n\n\ndef show(ctx):\n    ctx.out.raw(depmod.WORD)\n"},
    )
    deps = root / "plugin-deps" / "with-deps"
    missing = run("deps:show")
    assert missing.code == 1
    assert "its dependencies are not installed" in missing.err
    assert "plugin:install-dependencies with-deps" in missing.err
    deps.mkdir(parents=True)
    (deps / "depmod.py").write_text("WORD = 'found'\n")
    assert run("apps:list").code == 0
    assert str(deps) not in sys.path
    shown = run("deps:show")
    assert (shown.code, shown.out) == (0, "found\n"), shown.err
    assert sys.path[-1] == str(deps)  # after the appliance's own packages


# --- templates --------------------------------------------------------------


def test_templates_a_plugin_ships_are_found_after_the_overrides(root: Path) -> None:
    plugin = write_plugin(
        root,
        "caddy-proxy",
        'name = "caddy-proxy"\n',
        **{"templates/caddy/site.j2": "plugin {{ app|shout }}\n"},
    )
    shout = {"shout": str.upper}

    def render(app: str, **kwargs: object) -> str:
        return templates.render("caddy/site.j2", app, app=app, **kwargs)  # type: ignore[arg-type]

    assert render("demo", plugin_dir=plugin, filters=shout) == "plugin DEMO\n"
    with pytest.raises(UserError, match=r"caddy/site\.j2"):
        render("demo")  # not a built-in template
    with pytest.raises(UserError, match="shout"):
        render("demo", plugin_dir=plugin)  # the plugin's filter was not given
    host = root / "templates" / "caddy" / "site.j2"
    host.parent.mkdir(parents=True)
    host.write_text("host {{ app }}\n")
    assert render("demo", plugin_dir=plugin, filters=shout) == "host demo\n"
    per_app = root / "apps" / "demo" / "templates" / "caddy" / "site.j2"
    per_app.parent.mkdir(parents=True)
    per_app.write_text("app {{ app }}\n")
    assert render("demo", plugin_dir=plugin, filters=shout) == "app demo\n"
    assert render("other", plugin_dir=plugin, filters=shout) == "host other\n"
    assert templates.search_path("demo", plugin) == [
        per_app.parents[1],
        host.parents[1],
        plugin / "templates",
        templates.templates_dir(),
    ]


def test_the_core_templates_module_names_no_proxy() -> None:
    assert "nginx" not in (CHECKOUT / "appliance" / "templates.py").read_text().lower()


def test_proxy_nginx_renders_its_own_templates_with_its_filter(root: Path) -> None:
    registry = Registry()
    nginx = registry.import_module(registry.get("proxy-nginx"), "nginx")
    from appliance.state import App

    text = nginx.render(App("demo"), ["10.0.0.2:5000"], ["demo.example.com"])
    assert "upstream appliance-demo" in text and "server 10.0.0.2:5000" in text
    with pytest.raises(UserError, match="refusing to put"):
        nginx.render(App("demo"), ["10.0.0.2:5000; evil"], ["demo.example.com"])


# --- trigger executables ----------------------------------------------------


def test_triggers_are_never_handed_the_running_appliance(root: Path, tmp_path: Path) -> None:
    seen = tmp_path / "stdin.json"
    exe = tmp_path / "appliance_app_created"
    exe.write_text(f"#!/bin/sh\ncat > {seen}\n")
    exe.chmod(0o755)
    plugin = Plugin("trig", tmp_path, builtin=False)
    holder = trigger_plugin(plugin, "appliance_app_created", exe, ("app", "appliance", "out"))
    function = holder.appliance_app_created
    assert list(inspect.signature(function).parameters) == ["app", "out"]
    from appliance.output import Output
    from appliance.state import App

    function(app=App("demo"), out=Output())
    assert set(json.loads(seen.read_text())) == {"app"}
