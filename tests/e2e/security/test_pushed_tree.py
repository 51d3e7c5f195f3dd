"""Security: files of a pushed tree and what reaches host processes (issue 10, findings
2, 3 and 6), driven over real SSH.

- a pushed `.dockerignore` that links to a state file never changes it;
- `Procfile` and `app.json` linked to /etc/passwd are refused without quoting it, and
  the release deployed before keeps serving;
- a config var marked as a build arg is build data only, never the environment of a
  host program (`LD_PRELOAD`);
- `builder:set-global ca-bundle` refuses a host key, locally as root too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ..conftest import Host, commit, make_repo, sh

STATE = Path("/var/lib/appliance")
BASE = "appliance-test/bookworm:latest"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def passwd_lines() -> list[str]:
    return [line for line in Path("/etc/passwd").read_text().splitlines() if line.strip()]


def deployed(host: Host, app: str) -> str:
    report = json.loads(host.ssh("apps:report", app, "--format", "json").stdout)
    return str(report["deployed_image"])


@pytest.fixture
def app(host: Host) -> str:
    name = host.new_app("sec-tree")
    assert host.ssh("apps:create", name).returncode == 0
    assert host.ssh("checks:set", name, "uptime", "1").returncode == 0
    return name


def test_a_dockerignore_linked_to_a_state_file_never_changes_it(
    host: Host, app: str, tmp_path: Path
) -> None:
    assert host.ssh("builder-auto:set", app, "base-static", BASE).returncode == 0
    target = STATE / "settings.toml"
    app_toml = STATE / "apps" / app / "app.toml"
    before = digest(target)
    repo = make_repo(tmp_path, "auto-static")
    (repo / ".dockerignore").symlink_to(target)
    commit(repo, "a .dockerignore that points at the host's settings")
    pushed = host.push(repo, app)
    assert pushed.returncode != 0
    assert ".dockerignore in the pushed source is a symbolic link that leaves" in pushed.stderr
    assert digest(target) == before
    assert "!.appliance-auto" not in target.read_text()
    assert host.ssh("apps:report", app).returncode == 0  # app.toml still parses

    (repo / ".dockerignore").unlink()
    (repo / ".dockerignore").symlink_to(app_toml)
    commit(repo, "now at the app's own app.toml")
    pushed = host.push(repo, app)
    assert pushed.returncode != 0 and "leaves the repository" in pushed.stderr
    assert b"!.appliance-auto" not in app_toml.read_bytes()
    assert host.ssh("apps:report", app).returncode == 0


@pytest.mark.parametrize("name", ["Procfile", "app.json"])
def test_procfile_and_app_json_linked_out_are_refused_without_quoting(
    host: Host, app: str, tmp_path: Path, name: str
) -> None:
    repo = make_repo(tmp_path, "dockerfile-hello")
    first = host.push(repo, app)
    assert first.returncode == 0, first.stderr[-3000:]
    assert host.get(app)[1].startswith("hello v1\n")
    deployed_before = deployed(host, app)

    path = repo / name
    if path.exists():
        path.unlink()
    path.symlink_to("/etc/passwd")
    (repo / "message.txt").write_text("v2\n")
    commit(repo, f"{name} points at /etc/passwd")
    refused = host.push(repo, app)
    assert refused.returncode != 0
    assert f"{name} in the pushed source is a symbolic link that leaves" in refused.stderr
    output = refused.stdout + refused.stderr
    leaked = [line for line in passwd_lines() if line in output]
    assert leaked == [], "lines of /etc/passwd in the push output"
    assert "root:x:0:0" not in output and "/usr/sbin/nologin" not in output
    assert host.get(app)[1].startswith("hello v1\n")
    assert deployed(host, app) == deployed_before


def test_a_build_arg_named_ld_preload_is_build_data_only(
    host: Host, app: str, tmp_path: Path
) -> None:
    evil = "/nonexistent/evil.so"
    assert host.ssh("config:set", app, f"LD_PRELOAD={evil}", "--no-restart").returncode == 0
    assert host.ssh("builder-dockerfile:set", app, "build-args", "LD_PRELOAD").returncode == 0
    repo = make_repo(tmp_path, "dockerfile-hello")
    dockerfile = repo / "Dockerfile"
    # No RUN after the ARG: a RUN step would itself see LD_PRELOAD in the build
    # container; ENV keeps the build arg's value in the image, where it can be read.
    dockerfile.write_text(
        dockerfile.read_text() + "ARG LD_PRELOAD\nENV SEEN_PRELOAD=${LD_PRELOAD}\n"
    )
    commit(repo, "a Dockerfile reading the LD_PRELOAD build arg")
    pushed = host.push(repo, app)
    output = pushed.stdout + pushed.stderr
    assert pushed.returncode == 0, output[-3000:]
    assert "ld.so" not in output and "cannot be preloaded" not in output
    assert host.get(app)[1].startswith("hello v1\n")
    image = json.loads(host.ssh("releases:info", app, "v1", "--format", "json").stdout)["image"]
    env = json.loads(
        sh("docker", "image", "inspect", image, "--format", "{{json .Config.Env}}").stdout
    )
    assert f"SEEN_PRELOAD={evil}" in env


def test_a_host_key_is_refused_as_ca_bundle_locally_too(installed: None) -> None:
    settings = STATE / "settings.toml"
    before = settings.read_bytes()
    for path in ("/etc/ssh/ssh_host_ed25519_key", "/etc/shadow"):
        refused = sh("appliance", "builder:set-global", "ca-bundle", path)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "PRIVATE KEY" not in refused.stderr and "root:" not in refused.stderr
        assert settings.read_bytes() == before
