"""A third-party plugin installed from a directory: its hook fires during a real
deploy and its commands answer over SSH."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .conftest import FIXTURES, Host, make_repo, sh


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
