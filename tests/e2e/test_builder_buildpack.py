"""Buildpack builds over a real git push: the fixture buildpacks in
tests/fixtures/buildpacks run in a container of the local stack image
appliance-test/bookworm, and the app answers through nginx with what the build did."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import FIXTURES, Host, commit, make_repo, sh

STACK = "appliance-test/bookworm:latest"


SETTINGS = Path("/var/lib/appliance/settings.toml")


@contextmanager
def allowed_local_dirs(*dirs: Path) -> Iterator[None]:
    """Allow local buildpacks from `dirs` as an operator does, on the host as root (the
    setting is local-only), and put back what was allowed before."""
    text = SETTINGS.read_text() if SETTINGS.exists() else ""
    table = tomllib.loads(text).get("builder-buildpack", {})
    before = [str(d) for d in table.get("local_dirs", []) if Path(str(d)).is_dir()]
    joined = ",".join([*before, *map(str, dirs)])
    done = sh("appliance", "buildpacks:set-global", "local-dirs", joined)
    assert done.returncode == 0, done.stderr
    try:
        yield
    finally:
        restore = [",".join(before)] if before else []
        sh("appliance", "buildpacks:set-global", "local-dirs", *restore)


@pytest.fixture
def buildpacks() -> Iterator[Path]:
    """The fixture buildpacks where the appliance user can read them, in a directory
    local buildpacks are allowed from."""
    shared = Path(tempfile.mkdtemp(prefix="appliance-e2e-buildpacks-"))
    shutil.copytree(FIXTURES / "buildpacks", shared / "buildpacks")
    subprocess.run(["chmod", "-R", "a+rX", shared], check=True)
    with allowed_local_dirs(shared / "buildpacks"):
        yield shared / "buildpacks"
    shutil.rmtree(shared)


def write_buildpacks(repo: Path, buildpacks: Path, *names: str) -> None:
    (repo / ".buildpacks").write_text("".join(f"{buildpacks / n}\n" for n in names))


def timed_push(host: Host, repo: Path, app: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    pushed = host.push(repo, app)
    return pushed, time.monotonic() - started


def body(**values: str) -> str:
    expected = {
        "tiny": "1.0",
        "TINY_HOME": "/app/.tiny",  # from .profile.d/tiny.sh, sourced at start
        "greeting at build": "hello-from-config",  # read from ENV_DIR by bin/compile
        "TINY_GREETING": "hello-from-config",
        "TINY_MODE": "release default",  # bin/release config_vars: an image default
        "TINY_OVERRIDE": "from-config",  # ... that a config var overrides
        "build": "1",
        "after": "from-tiny",  # tiny's export file, sourced before tiny-after ran
        "message": "hello v1",
    } | values
    return "".join(f"{k}{' ' if k in ('tiny', 'build') else '='}{v}\n" for k, v in expected.items())


def build_containers(app: str) -> str:
    return subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=appliance.app={app}",
         "--filter", "label=appliance.process=build"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def test_buildpack_push_cache_and_failed_compile(
    host: Host, tmp_path: Path, buildpacks: Path
) -> None:
    app = host.new_app("bp")
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("buildpacks:set-stack", app, STACK).returncode == 0
    configured = host.ssh("config:set", app, "TINY_GREETING=hello-from-config",
                          "TINY_OVERRIDE=from-config")  # fmt: skip
    assert configured.returncode == 0, configured.stderr
    repo = make_repo(tmp_path, "buildpack-tiny")
    write_buildpacks(repo, buildpacks, "tiny", "tiny-after")
    commit(repo, "buildpacks")

    first, seconds = timed_push(host, repo, app)
    print(f"first buildpack push: {seconds:.1f} s")
    assert first.returncode == 0, first.stderr
    log = first.stderr
    assert "-----> Using the buildpack builder (found .buildpacks)" in log
    assert f"Building {app} with buildpacks on {STACK}" in log
    assert "remote: -----> Tiny app detected" in log
    assert "remote: -----> Installing tiny from the buildpack's own package" in log
    assert "cache empty: first build" in log
    assert "remote: -----> tiny-after saw TINY_EXPORTED=from-tiny" in log
    assert "remote: -----> tiny-after ran at nice 10, best-effort: prio 7" in log
    assert "Default types for buildpack -> web" in log
    assert host.get(app) == (200, body())
    release = json.loads(host.ssh("releases:info", app, "v1", "--format", "json").stdout)
    assert release["procfile"] == {"web": "tiny-serve"}
    assert build_containers(app) == ""

    (repo / "message.txt").write_text("hello v2\n")
    commit(repo, "v2")
    second, seconds = timed_push(host, repo, app)
    print(f"second buildpack push: {seconds:.1f} s")
    assert second.returncode == 0, second.stderr
    assert "cache hit 2" in second.stderr
    assert host.get(app) == (200, body(build="2", message="hello v2"))

    write_buildpacks(repo, buildpacks, "tiny", "broken")
    (repo / "message.txt").write_text("hello v3\n")
    commit(repo, "broken")
    broken = host.push(repo, app)
    assert broken.returncode != 0
    assert "remote: -----> Breaking on purpose" in broken.stderr
    assert "failed to compile" in broken.stderr and "exited with status 3" in broken.stderr
    assert "pre-receive hook declined" in broken.stderr
    assert host.get(app) == (200, body(build="2", message="hello v2"))
    assert build_containers(app) == ""

    cache = Path("/var/lib/appliance/apps") / app / "cache"
    owners = sh("find", cache, "!", "-user", "appliance").stdout.strip()
    assert owners == "", f"not the appliance user's: {owners}"
    report = json.loads(host.ssh("buildpacks:report", app, "--format", "json").stdout)
    assert report["stack"] == STACK and report["cache_bytes"] > 0
    assert report["last_build"]["detected"] == ["Tiny", "TinyAfter"]


def test_buildpacks_commands_procfile_and_no_buildpack_applies(
    host: Host, tmp_path: Path, buildpacks: Path
) -> None:
    app = host.new_app("bp")
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("buildpacks:set-stack", app, STACK).returncode == 0
    added = host.ssh("buildpacks:add", app, str(buildpacks / "tiny"))
    assert added.returncode == 0, added.stderr
    listed = json.loads(host.ssh("buildpacks:list", app, "--format", "json").stdout)
    assert listed == [str(buildpacks / "tiny")]
    refused = host.ssh("buildpacks:add", app, "'ext::sh -c id'")  # quoted for the SSH shell
    assert refused.returncode == 1 and "invalid buildpack URL" in refused.stderr

    repo = make_repo(tmp_path, "buildpack-tiny")
    (repo / ".buildpacks").unlink()
    (repo / "tiny.txt").unlink()
    commit(repo, "nothing for tiny")
    nothing = host.push(repo, app)
    assert nothing.returncode != 0
    assert "Using the buildpack builder (buildpacks set with buildpacks:add)" in nothing.stderr
    assert f"no buildpack applies to {app}" in nothing.stderr

    (repo / "tiny.txt").write_text("tiny again\n")
    (repo / "Procfile").write_text("web: TINY_MODE=from-procfile exec tiny-serve\n")
    commit(repo, "with a Procfile")
    pushed = host.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    assert "Procfile declares types     -> web" in pushed.stderr
    status, text = host.get(app)
    assert status == 200
    assert "TINY_HOME=/app/.tiny\n" in text  # .profile.d sourced before the Procfile command
    assert "TINY_MODE=from-procfile\n" in text and "greeting at build=unset\n" in text
