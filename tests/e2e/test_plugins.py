"""A third-party plugin installed from a directory: its hook fires during a real
deploy and its commands answer over SSH; a plugin's Python dependency comes from
the package index and survives an upgrade of the appliance."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .conftest import CHECKOUT, DOMAIN, FIXTURES, Host, make_repo, sh

STATE = Path("/var/lib/appliance")


def test_private_directory_gets_a_clear_error(host: Host, tmp_path: Path) -> None:
    source = tmp_path / "hello-plugin"
    shutil.copytree(FIXTURES / "plugins" / "hello-plugin", source)
    tmp_path.chmod(0o700)
    refused = sh("appliance", "plugin:install", source)
    assert refused.returncode == 1 and "chmod -R a+rX" in refused.stderr


def test_third_party_plugin(host: Host, tmp_path: Path) -> None:
    shared = Path(tempfile.mkdtemp(prefix="appliance-e2e-plugin-"))
    source = shared / "hello-plugin"
    shutil.copytree(FIXTURES / "plugins" / "hello-plugin", source)
    subprocess.run(["chmod", "-R", "a+rX", shared], check=True)
    installed = sh("appliance", "plugin:install", source)
    assert installed.returncode == 0, installed.stderr
    try:
        app = host.new_app()
        repo = make_repo(tmp_path, "dockerfile-hello")
        pushed = host.push(repo, app)
        assert pushed.returncode == 0, pushed.stderr
        assert f"hello-plugin welcomes {app}" in pushed.stderr
        assert f"hello-plugin saw {app} v1 go live" in pushed.stderr
        greeted = host.ssh("hello:greet", app)
        assert greeted.stdout == f"Hello, {app}!\n", greeted.stderr
        shouted = host.ssh("hello:shout", "quiet", "please")
        assert shouted.stdout == "QUIET PLEASE\n"
        listed = host.ssh("plugin:list")
        assert "hello-plugin" in listed.stdout and "1.2.3" in listed.stdout
    finally:
        assert sh("appliance", "plugin:uninstall", "hello-plugin").returncode == 0
        shutil.rmtree(shared)
    assert "not allowed" in host.ssh("hello:greet", app).stderr


SIX_PLUGIN = """\
name = "six-plugin"
version = "1.0"
description = "Needs a package from the index"
dependencies = ["six>=1.10"]

[commands."six:where"]
handler = "commands:where"
help = "Say where six was imported from"
"""

SIX_COMMANDS = """\
def where(ctx):
    import six

    ctx.out.raw(six.__file__)
    return 0
"""


def test_plugin_with_a_python_dependency(host: Host) -> None:
    shared = Path(tempfile.mkdtemp(prefix="appliance-e2e-deps-"))
    source = shared / "six-plugin"
    source.mkdir()
    (source / "plugin.toml").write_text(SIX_PLUGIN)
    (source / "commands.py").write_text(SIX_COMMANDS)
    subprocess.run(["chmod", "-R", "a+rX", shared], check=True)
    deps = STATE / "plugin-deps" / "six-plugin"
    try:
        installed = sh("appliance", "plugin:install", source)
        assert installed.returncode == 0, installed.stderr
        assert "Dependencies: six>=1.10" in installed.stdout
        assert (deps / "six.py").is_file()
        where = host.ssh("six:where")
        assert where.stdout == f"{deps / 'six.py'}\n", where.stderr

        upgraded = sh("bash", CHECKOUT / "install.sh", "--domain", DOMAIN, timeout=900)
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        assert (deps / "six.py").is_file()
        assert host.ssh("six:where").stdout == f"{deps / 'six.py'}\n"
    finally:
        removed = sh("appliance", "plugin:uninstall", "six-plugin")
        shutil.rmtree(shared)
    assert removed.returncode == 0, removed.stderr
    assert not deps.exists()
    assert "unknown command" in sh("appliance", "six:where").stderr
