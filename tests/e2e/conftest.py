"""End-to-end fixtures: the appliance installed on this host by install.sh, a real
sshd, Docker engine and nginx, and git pushes over SSH to appliance@127.0.0.1.

scripts/test.sh installs and starts the services and builds the base image the
fixture apps use; these fixtures install the appliance from the checkout exactly
as a user would.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
FIXTURES = CHECKOUT / "tests" / "fixtures"
DOMAIN = "appliance.test"
SSH_OPTIONS = [
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "BatchMode=yes",
]


def sh(*argv: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 600)
    return subprocess.run([str(a) for a in argv], check=False, **kwargs)


@dataclass
class Host:
    key: Path
    key_name: str
    apps: list[str] = field(default_factory=list)

    def new_app(self, prefix: str = "e2e") -> str:
        name = f"{prefix}-{secrets.token_hex(3)}"
        self.apps.append(name)
        return name

    def ssh(self, *command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return sh(
            "ssh",
            "-i",
            self.key,
            *SSH_OPTIONS,
            "appliance@127.0.0.1",
            *command,
            input=stdin if stdin is not None else "",
        )

    def ssh_bytes(self, *command: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["ssh", "-i", str(self.key), *SSH_OPTIONS, "appliance@127.0.0.1", *command],
            input=stdin, capture_output=True, timeout=600, check=False,
        )  # fmt: skip

    def git_env(self) -> dict[str, str]:
        ssh = " ".join(["ssh", "-i", str(self.key), *SSH_OPTIONS])
        return {**os.environ, "GIT_SSH_COMMAND": ssh}

    def push(self, repo: Path, app: str, branch: str = "main") -> subprocess.CompletedProcess[str]:
        return sh(
            "git",
            "-C",
            repo,
            "push",
            f"appliance@127.0.0.1:{app}",
            f"{branch}:{branch}",
            env=self.git_env(),
        )

    def get(self, app: str, path: str = "/") -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": f"{app}.{DOMAIN}"})
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()


def make_repo(tmp_path: Path, fixture: str) -> Path:
    repo = tmp_path / fixture
    shutil.copytree(FIXTURES / "apps" / fixture, repo)
    sh("git", "init", "-q", "-b", "main", repo)
    commit(repo, "first")
    return repo


def commit(repo: Path, message: str) -> None:
    sh("git", "-C", repo, "add", "-A")
    result = sh(
        "git",
        "-C",
        repo,
        "-c",
        "user.email=e2e@example.com",
        "-c",
        "user.name=e2e",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        message,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def installed() -> None:
    """Run install.sh from the checkout, as a user would (idempotent)."""
    if os.geteuid() != 0:
        pytest.fail("the end-to-end tests run as root: use scripts/test.sh")
    if "APPLIANCE_ROOT" in os.environ:  # leaked by a unit test: commands would miss the install
        pytest.fail(f"APPLIANCE_ROOT={os.environ['APPLIANCE_ROOT']} is set in the test process")
    result = sh("bash", CHECKOUT / "install.sh", "--domain", DOMAIN, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def host(installed: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    keydir = tmp_path_factory.mktemp("ssh")
    key = keydir / "id_ed25519"
    assert sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).returncode == 0
    name = f"e2e-{secrets.token_hex(3)}"
    public = (keydir / "id_ed25519.pub").read_text()
    added = sh("appliance", "ssh-keys:add", name, "--admin", input=public)
    assert added.returncode == 0, added.stderr
    test_host = Host(key=key, key_name=name)
    yield test_host
    leftovers = []
    for app in test_host.apps:
        destroyed = sh("appliance", "apps:destroy", app, "--force")
        if destroyed.returncode != 0 and "does not exist" not in destroyed.stderr:
            leftovers.append(f"{app}: {destroyed.stderr.strip()}")
    sh("appliance", "ssh-keys:remove", name)
    assert not leftovers, "could not destroy test apps: " + "; ".join(leftovers)
