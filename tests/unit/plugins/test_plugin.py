import json
from pathlib import Path

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
