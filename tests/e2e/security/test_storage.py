"""Storage mounts cannot be turned against the host (issue 10, finding 4), over SSH as
the admin key: nested sources are refused both ways; a nested mount an old install
recorded is refused at the next start, and no container starts with it; a symlink
planted in a source's path is refused at the next start, the daemon's too."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from ..conftest import Host, make_repo, sh
from ..test_daemon import daemon_log, wait_until

STATE = Path("/var/lib/appliance")


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], message: str) -> str:
    assert result.returncode != 0, result.stdout
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def directory(host: Host, made: list[Path]) -> Path:
    name = f"e2e-sec-{secrets.token_hex(3)}"
    created = Path(ok(host.ssh("storage:ensure-directory", name)).split()[3])
    made.append(created)
    return created


def subdirectory(parent: Path, name: str = "sub") -> Path:
    """As root on the host, owned like its parent."""
    path = parent / name
    path.mkdir()
    shutil.chown(path, parent.stat().st_uid, parent.stat().st_gid)
    return path


def containers(app: str) -> dict[str, str]:
    listed = sh("docker", "ps", "-a", "--format", "{{.Names}} {{.State}}",
                "--filter", f"label=appliance.app={app}")  # fmt: skip
    return dict(line.split() for line in listed.stdout.splitlines())


def policy(container: str) -> str:
    shown = sh("docker", "inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", container)
    return shown.stdout.strip()


def state_of(app: str) -> bytes:
    return (STATE / "apps" / app / "app.toml").read_bytes()


@pytest.fixture
def made(host: Host) -> Iterator[list[Path]]:
    found: list[Path] = []
    yield found
    for path in found:
        shutil.rmtree(path, ignore_errors=True)


def test_nested_sources_are_refused_both_ways(host: Host, made: list[Path]) -> None:
    first, second = host.new_app("nest"), host.new_app("nest")
    for app in (first, second):
        ok(host.ssh("apps:create", app))
    data, other = directory(host, made), directory(host, made)
    sub, inner = subdirectory(data), subdirectory(other)
    ok(host.ssh("storage:mount", first, f"{data}:/data"))
    ok(host.ssh("storage:mount", first, f"{inner}:/inner"))
    before = {app: state_of(app) for app in (first, second)}
    attempts = {
        (second, f"{sub}:/host"): f"is nested with {data}:/data:rw mounted by {first}",
        (second, f"{other}:/other"): f"is nested with {inner}:/inner:rw mounted by {first}",
        (second, f"{data}:/same"): f"is nested with {data}:/data:rw mounted by {first}",
        (first, f"{sub}:/host"): f"is nested with {data}:/data:rw mounted by {first}",
        (second, f"{data.parent}:/all"): "not inside the storage base",
    }
    for (app, mount), message in attempts.items():
        error = refused(host.ssh("storage:mount", app, mount), message)
        assert len(error.strip().splitlines()) == 1, error
    assert {app: state_of(app) for app in (first, second)} == before


def test_a_nested_mount_recorded_by_an_old_install_starts_nothing(
    host: Host, made: list[Path], tmp_path: Path
) -> None:
    app = host.new_app("oldnest")
    ok(host.ssh("apps:create", app))
    ok(host.ssh("checks:set", app, "wait-to-retire", "0"))
    data = directory(host, made)
    sub = subdirectory(data)
    ok(host.ssh("storage:mount", app, f"{data}:/data"))
    ok(host.push(make_repo(tmp_path, "dockerfile-hello"), app))
    running = containers(app)
    path = STATE / "apps" / app / "app.toml"
    settings = tomllib.loads(path.read_text())
    settings["storage"]["mounts"].append(f"{sub}:/host:rw")  # as an old install kept it
    path.write_text(tomli_w.dumps(settings))  # in place: its owner stays

    error = refused(host.ssh("ps:restart", app), "storage:unmount")
    assert f"nested with {data}" in error or f"nested with {sub}" in error
    assert containers(app) == running  # nothing new, the old release serves on
    assert host.get(app)[0] == 200
    problems = json.loads(ok(host.ssh("storage:report", app, "--format", "json")))["problems"]
    assert problems and all("storage:unmount" in p for p in problems)
    refused(host.ssh("run", app, "true"), "storage:unmount")
    assert containers(app) == running

    # The engine starting it on its own (its restart policy): the daemon stops it and
    # leaves the engine no policy to start it with again.
    [web] = [name for name in running if ".web." in name]
    assert sh("docker", "restart", "-t", "1", web).returncode == 0
    wait_until(lambda: containers(app).get(web) != "running" and policy(web) == "no", timeout=30)

    ok(host.ssh("storage:unmount", app, f"{sub}:/host"))  # the fix the message gives
    ok(host.ssh("ps:restart", app))
    assert host.get(app)[0] == 200
    assert json.loads(ok(host.ssh("storage:report", app, "--format", "json")))["problems"] == []


def test_a_symlink_planted_in_a_source_path_is_refused_at_the_next_start(
    host: Host, made: list[Path], tmp_path: Path
) -> None:
    app = host.new_app("planted")
    ok(host.ssh("apps:create", app))
    ok(host.ssh("checks:set", app, "wait-to-retire", "0"))
    data = directory(host, made)
    inner = subdirectory(data, "inner")
    ok(host.ssh("storage:mount", app, f"{inner}:/data"))
    ok(host.push(make_repo(tmp_path, "dockerfile-hello"), app))
    # As root on the host: the source's parent becomes a symlink (still inside the base).
    real = data.with_name(data.name + "-real")
    made.append(real)
    data.rename(real)
    data.symlink_to(real)

    refused(host.ssh("ps:restart", app), "is a symlink")
    refused(host.ssh("run", app, "true"), "is a symlink")
    # The daemon's restart of a stopped container is refused too.
    [web] = [name for name in containers(app) if ".web." in name]
    assert sh("docker", "stop", "-t", "1", web).returncode == 0
    wait_until(lambda: any(f"{app}: " in line and "is a symlink" in line
                           for line in daemon_log().splitlines()), timeout=30)  # fmt: skip
    assert containers(app).get(web, "gone") != "running"
    assert not [n for n, s in containers(app).items() if s == "running"]
