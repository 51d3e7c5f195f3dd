"""Security: buildpack URLs never make the host read or connect where a key says
(issue 10): local buildpacks come only from directories an operator allows on the host
(never the state root or the storage base), remote ones only from public addresses, and
the setting that allows either is refused over SSH. Driven over real SSH with the admin
`host` key: if an admin cannot, no granted key can."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import FIXTURES, Host, commit, make_repo
from ..test_builder_buildpack import STACK, allowed_local_dirs, body, build_containers

STATE = Path("/var/lib/appliance")
SETTINGS = STATE / "settings.toml"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def listed(host: Host, app: str) -> list[str]:
    shown = host.ssh("buildpacks:list", app, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return list(json.loads(shown.stdout))


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr.strip() and result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture
def app(host: Host) -> str:
    name = host.new_app("sec-bp")
    assert host.ssh("apps:create", name).returncode == 0
    return name


@pytest.fixture
def shared() -> Iterator[Path]:
    """Two copies of the fixture buildpacks the appliance user can read: `allowed/`
    (listed by the operator) and `other/` (not listed)."""
    top = Path(tempfile.mkdtemp(prefix="appliance-e2e-buildpacks-"))
    for name in ("allowed", "other"):
        shutil.copytree(FIXTURES / "buildpacks", top / name)
    (top / "allowed" / "escape").symlink_to(top / "other" / "tiny")
    subprocess.run(["chmod", "-R", "a+rX", top], check=True)
    with allowed_local_dirs(top / "allowed"):
        yield top
    shutil.rmtree(top)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/var/lib/appliance-storage", "never allowed"),
        ("/var/lib/appliance/apps", "never allowed"),
        ("file:///etc", "buildpacks:set-global local-dirs"),
        ("/etc", "buildpacks:set-global local-dirs"),
        ("http://127.0.0.1:22/x.git", "127.0.0.1, which is not a public address"),
        ("http://2130706433/x.git", "127.0.0.1, which is not a public address"),
        ("http://0177.0.0.1/x.git", "127.0.0.1, which is not a public address"),
        ("git://10.0.0.5/x.git", "10.0.0.5, which is not a public address"),
        ("git@169.254.169.254:x.git", "169.254.169.254, which is not a public address"),
        ("ssh://git@localhost:2222/x.git", "which is not a public address"),
    ],
)
def test_buildpacks_add_refuses_host_paths_and_private_hosts(
    host: Host, app: str, url: str, says: str
) -> None:
    before = digest(STATE / "apps" / app / "app.toml")
    for command in ("buildpacks:add", "buildpacks:set"):
        refused = one_line(host.ssh(command, app, url))
        assert says in refused
    assert listed(host, app) == []
    assert digest(STATE / "apps" / app / "app.toml") == before


def test_the_setting_that_allows_them_is_local_only(host: Host) -> None:
    before = digest(SETTINGS)
    for key, value in (("local-dirs", "/var/lib"), ("private-hosts", "127.0.0.1"),
                       ("local-dirs", "")):  # fmt: skip
        args = [key, value] if value else [key]
        refused = one_line(host.ssh("buildpacks:set-global", *args))
        assert "runs only on the host" in refused
    assert digest(SETTINGS) == before


def test_a_push_naming_a_directory_not_allowed_is_refused(
    host: Host, app: str, tmp_path: Path, shared: Path
) -> None:
    assert host.ssh("buildpacks:set-stack", app, STACK).returncode == 0
    configured = host.ssh("config:set", app, "TINY_GREETING=hello-from-config",
                          "TINY_OVERRIDE=from-config")  # fmt: skip
    assert configured.returncode == 0, configured.stderr
    repo = make_repo(tmp_path, "buildpack-tiny")
    allowed = shared / "allowed"
    (repo / ".buildpacks").write_text(f"{allowed / 'tiny'}\n{allowed / 'tiny-after'}\n")
    commit(repo, "allowed buildpacks")
    first = host.push(repo, app)
    assert first.returncode == 0, first.stderr
    assert host.get(app) == (200, body())

    for named, says in (
        (shared / "other" / "tiny", "buildpacks:set-global local-dirs"),  # not listed
        (allowed / "escape", "buildpacks:set-global local-dirs"),  # a link out of it
        (Path("/var/lib/appliance/apps") / app, "never allowed"),  # the state root
    ):
        (repo / ".buildpacks").write_text(f"{named}\n")
        (repo / "message.txt").write_text("never built\n")
        commit(repo, f"buildpack {named}")
        refused = host.push(repo, app)
        assert refused.returncode != 0
        assert says in refused.stderr and "pre-receive hook declined" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert host.get(app) == (200, body())  # the release before keeps serving
        assert build_containers(app) == ""
