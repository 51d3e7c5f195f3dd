import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plugins"


def test_install_use_disable_uninstall(run, root: Path) -> None:
    installed = run("plugin:install", str(FIXTURES / "hello-plugin"))
    assert installed.code == 0, installed.err
    assert "Installed plugin hello-plugin 1.2.3" in installed.out
    rows = {r["name"]: r for r in json.loads(run("plugin:list", "--format", "json").out)}
    assert rows["hello-plugin"]["builtin"] is False
    assert rows["hello-plugin"]["hooks"] == [
        "appliance_app_created",
        "appliance_app_report",
        "appliance_post_deploy",
    ]
    assert rows["apps"]["builtin"] is True

    created = run("apps:create", "hello")
    assert created.code == 0
    assert "hello-plugin welcomes hello" in created.out
    payload = json.loads((root / "apps" / "hello" / "created-by-trigger").read_text())
    assert payload["app"]["name"] == "hello"
    report = json.loads(run("apps:report", "hello", "--format", "json").out)
    assert report["greeting"] == "hello, hello"
    greeted = run("hello:greet", "hello")
    assert greeted.out == "Hello, hello!\n", greeted.err
    assert "hello:greet" in run("help").out

    assert run("plugin:disable", "hello-plugin").code == 0
    assert "unknown command" in run("hello:greet", "hello").err
    assert "greeting" not in json.loads(run("apps:report", "hello", "--format", "json").out)
    assert run("plugin:enable", "hello-plugin").code == 0
    assert run("hello:greet", "hello").code == 0

    assert run("plugin:install", str(FIXTURES / "hello-plugin")).out.startswith(
        "-----> Upgraded plugin hello-plugin"
    )
    assert run("plugin:uninstall", "hello-plugin").code == 0
    assert "unknown command" in run("hello:greet", "hello").err
    assert not (root / "plugins" / "hello-plugin").exists()


def test_exec_command(run) -> None:
    import subprocess
    import sys

    assert run("plugin:install", str(FIXTURES / "hello-plugin")).code == 0
    shout = subprocess.run(
        [sys.executable, "-m", "appliance", "hello:shout", "make", "noise"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (shout.returncode, shout.stdout) == (0, "MAKE NOISE\n")


def test_broken_plugins_never_land(run, root: Path) -> None:
    result = run("plugin:install", str(FIXTURES / "bad-hook"))
    assert result.code == 1 and "appliance_no_such_hook" in result.err
    assert not (root / "plugins" / "bad-hook").exists()
    assert run("plugin:install", "/nonexistent").code == 1
    assert run("plugin:install", "file:///etc; rm -rf /").code == 1


def test_builtins_cannot_be_uninstalled_or_shadowed(run, tmp_path: Path) -> None:
    assert "built in" in run("plugin:uninstall", "apps").err
    import shutil

    shutil.copytree(FIXTURES / "hello-plugin", tmp_path / "p")
    assert "built-in" in run("plugin:install", str(tmp_path / "p"), "--name", "apps").err


def test_disabling_a_builtin_removes_its_commands(run) -> None:
    assert run("plugin:disable", "domains").code == 0
    assert "unknown command" in run("domains:report").err
    assert run("plugin:enable", "domains").code == 0
    assert run("domains:report").code == 0


# --- Python dependencies, requires, and the install / uninstall hooks -------------

# Stands in for `pip install --target DIR -- REQ...`: each requirement's name becomes a
# module `NAME.py` in DIR (WORD = the requirement), and `nosuch*` fails as pip does.
FAKE_PIP = """
import pathlib, re, sys
target, reqs = pathlib.Path(sys.argv[1]), sys.argv[2:]
for req in reqs:
    if req.startswith("nosuch"):
        print("ERROR: Could not find a version that satisfies the requirement " + req,
              file=sys.stderr)
        print("ERROR: No matching distribution found for " + req, file=sys.stderr)
        sys.exit(1)
target.mkdir(parents=True, exist_ok=True)
for req in reqs:
    name = re.match(r"[A-Za-z0-9_]+", req).group(0)
    (target / (name + ".py")).write_text("WORD = %r\\n" % req)
"""

DEPS_PLUGIN = """\
name = "deps-plugin"
version = "1.0"
dependencies = ["fakedep>=1"]
hooks = ["appliance_plugin_installed", "appliance_plugin_uninstalled"]

[commands."deps:word"]
handler = "commands:word"
help = "Print what the dependency says"
"""

DEPS_INIT = """\
import fakedep

from appliance import state
from appliance.hookspecs import hookimpl


def _note(event, plugin):
    where = fakedep.__file__.replace(str(state.root()), "ROOT")
    with open(state.root() / "plugin-events", "a") as f:
        f.write(f"{event} {plugin.name} {plugin.deps_dir.is_dir()} {where}\\n")


@hookimpl
def appliance_plugin_installed(plugin, out):
    _note("installed", plugin)
    out.info(f"deps-plugin heard {plugin.name} arrive")


@hookimpl
def appliance_plugin_uninstalled(plugin, out):
    _note("uninstalled", plugin)
"""


@pytest.fixture
def fake_pip(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    from appliance.registry import Registry

    monkeypatch.setattr(sys, "path", list(sys.path))
    sys.modules.pop("fakedep", None)

    registry = Registry()
    deps = registry.import_module(registry.get("plugin"), "deps")
    calls: list[list[str]] = []
    real = deps.pip_argv

    def pip_argv(target: Path, requirements: list[str]) -> list[str]:
        argv = real(target, requirements)
        calls.append(argv)
        return [sys.executable, "-c", FAKE_PIP, str(target), *requirements]

    monkeypatch.setattr(deps, "pip_argv", pip_argv)
    yield calls
    sys.modules.pop("fakedep", None)


def deps_plugin(tmp_path: Path, dependencies: str = '"fakedep>=1"') -> Path:
    source = tmp_path / "deps-plugin"
    source.mkdir()
    manifest = DEPS_PLUGIN.replace('"fakedep>=1"', dependencies)
    (source / "plugin.toml").write_text(manifest)
    (source / "__init__.py").write_text(DEPS_INIT)
    (source / "commands.py").write_text(
        "def word(ctx):\n    import fakedep\n\n    ctx.out.raw(fakedep.WORD)\n"
    )
    return source


def test_install_puts_dependencies_in_the_state_root(
    run, root: Path, tmp_path: Path, fake_pip: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = run("plugin:install", str(deps_plugin(tmp_path)))
    assert installed.code == 0, installed.err
    assert "Dependencies: fakedep>=1" in installed.out
    argv = fake_pip[0]
    assert argv[:4] == [sys.executable, "-m", "pip", "install"]
    target = argv[argv.index("--target") + 1]
    assert argv[-2:] == ["--", "fakedep>=1"] and target.startswith(str(root / "plugin-deps"))
    deps_dir = root / "plugin-deps" / "deps-plugin"
    assert (deps_dir / "fakedep.py").is_file()
    assert not [p for p in (root / "plugin-deps").iterdir() if p.name.startswith(".")]
    assert run("deps:word").out == "fakedep>=1\n"

    again = run("plugin:install-dependencies", "deps-plugin")
    assert again.code == 0 and "Installed the dependencies of deps-plugin" in again.out
    assert len(fake_pip) == 2 and (deps_dir / "fakedep.py").is_file()

    assert run("plugin:uninstall", "deps-plugin").code == 0
    assert not deps_dir.exists()
    assert not (root / "plugins" / "deps-plugin").exists()


def test_a_failed_pip_install_leaves_the_plugin_uninstalled(
    run, root: Path, tmp_path: Path, fake_pip: list[list[str]]
) -> None:
    failed = run("plugin:install", str(deps_plugin(tmp_path, '"nosuchpkg==9"')))
    assert failed.code == 1
    assert failed.err == (
        " !     plugin deps-plugin: pip could not install its dependencies (ERROR: No "
        "matching distribution found for nosuchpkg==9); the plugin was not installed\n"
    )
    assert not (root / "plugins" / "deps-plugin").exists()
    assert not any((root / "plugin-deps").iterdir())


def test_a_plugin_requiring_a_missing_one_is_not_installed(run, root: Path, tmp_path: Path) -> None:
    source = tmp_path / "needy"
    shutil.copytree(FIXTURES / "hello-plugin", source)
    manifest = (source / "plugin.toml").read_text()
    (source / "plugin.toml").write_text(
        manifest.replace('name = "hello-plugin"', 'name = "needy"\nrequires = ["nowhere"]')
    )
    refused = run("plugin:install", str(source))
    assert refused.code == 1
    assert "plugin needy requires plugin nowhere, which is not installed" in refused.err
    assert not (root / "plugins" / "needy").exists()


def test_hook_appliance_plugin_installed(
    run, root: Path, tmp_path: Path, fake_pip: list[list[str]]
) -> None:
    installed = run("plugin:install", str(deps_plugin(tmp_path)))
    assert installed.code == 0, installed.err
    assert "deps-plugin heard deps-plugin arrive" in installed.out
    # Fired for the plugin just installed, with its dependencies already in place.
    assert (root / "plugin-events").read_text() == (
        "installed deps-plugin True ROOT/plugin-deps/deps-plugin/fakedep.py\n"
    )
    # Others hear of it too; a failing implementation is a warning, not a failure.
    hello = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello-plugin", hello)
    (hello / "triggers" / "appliance_plugin_installed").write_text("#!/bin/sh\nexit 3\n")
    (hello / "triggers" / "appliance_plugin_installed").chmod(0o755)
    second = run("plugin:install", str(hello))
    assert second.code == 0, second.err
    assert "deps-plugin heard hello-plugin arrive" in second.out
    assert "plugin hello-plugin: appliance_plugin_installed failed" in second.err
    assert (root / "plugins" / "hello-plugin").is_dir()


def test_hook_appliance_plugin_uninstalled(
    run, root: Path, tmp_path: Path, fake_pip: list[list[str]]
) -> None:
    assert run("plugin:install", str(deps_plugin(tmp_path))).code == 0
    (root / "plugin-events").unlink()
    removed = run("plugin:uninstall", "deps-plugin")
    assert removed.code == 0, removed.err
    # Fired before the plugin and its dependencies go.
    assert (root / "plugin-events").read_text() == (
        "uninstalled deps-plugin True ROOT/plugin-deps/deps-plugin/fakedep.py\n"
    )
    assert not (root / "plugin-deps" / "deps-plugin").exists()
