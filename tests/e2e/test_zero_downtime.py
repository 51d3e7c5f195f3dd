"""Zero downtime under live traffic: push, config change, restart and rollback each
switch traffic exactly once and not one request fails; an unhealthy deploy is refused
and a killed deploy is cleaned up, while the old release keeps serving.

The load is browser-like (see loadgen.py): keep-alive connections, and a request that
dies on a reused connection before any response byte is retried once on a fresh one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from .conftest import DOMAIN, SSH_OPTIONS, Host, commit, make_repo, sh
from .loadgen import LoadGenerator, fields

RATE = 200
CONNECTIONS = 8
DRAIN = 3  # wait-to-retire for these apps: old containers stop under load too


def deploy_first(host: Host, tmp_path: Path) -> tuple[str, Path]:
    """A new app running the versioned fixture (version 1), draining for DRAIN s."""
    app = host.new_app("zdt")
    repo = make_repo(tmp_path, "versioned")
    created = host.ssh("apps:create", app)
    assert created.returncode == 0, created.stderr
    drain = host.ssh("checks:set", app, "wait-to-retire", str(DRAIN))
    assert drain.returncode == 0, f"checks:set wait-to-retire: {drain.stderr}"
    first = host.push(repo, app)
    if "cannot load" in first.stderr:
        pytest.fail(f"a plugin does not load: {first.stderr}")
    assert first.returncode == 0, first.stderr
    status, body = host.get(app)
    assert status == 200 and body.startswith("version=1 greeting=- "), body
    return app, repo


def set_version(repo: Path, version: str, **files: str) -> None:
    (repo / "VERSION").write_text(version + "\n")
    for name, text in files.items():
        (repo / name).write_text(text)
    commit(repo, f"version {version}")


def load_on(app: str) -> LoadGenerator:
    return LoadGenerator(f"{app}.{DOMAIN}", rate=RATE, connections=CONNECTIONS, max_seconds=240)


def report(load: LoadGenerator, what: str) -> None:
    print(f"\n[{what}] {load.summary()}")
    for identity in load.versions():
        print(f"    served: {identity}")
    failures = load.stats()["failures"]
    for failure in failures[:10]:
        print(f"    failed: {failure}")


def assert_no_failures(load: LoadGenerator) -> None:
    stats = load.stats()
    assert stats["requests"] > 0
    assert stats["failures"] == [], stats["failures"][:10]
    assert stats["non_2xx"] == 0
    assert load.flaps() == [], [(f.start, f.identity) for f in load.flaps()[:5]]


def containers(app: str, *labels: str) -> list[dict[str, str]]:
    """`docker ps -a` of the app's containers (all labels given must match), each with
    its name and deploy id."""
    wanted = (f"appliance.app={app}", *labels)
    filters = [arg for label in wanted for arg in ("--filter", f"label={label}")]
    listed = sh("docker", "ps", "-a", *filters, "--format", "{{json .}}")
    assert listed.returncode == 0, listed.stderr
    found = []
    for line in listed.stdout.splitlines():
        if line.strip():
            row = json.loads(line)
            tags = dict(t.split("=", 1) for t in row["Labels"].split(",") if "=" in t)
            found.append({"name": row["Names"], "deploy": tags.get("appliance.deploy", "")})
    return found


def current_deploy(host: Host, app: str) -> str:
    rows = json.loads(host.ssh("ps:report", app, "--format", "json").stdout)
    return str(next(r["deploy"] for r in rows if r["current"]))


def test_push_config_restart_rollback_under_load(host: Host, tmp_path: Path) -> None:
    app, repo = deploy_first(host, tmp_path)
    first = current_deploy(host, app)
    set_version(repo, "2")
    with load_on(app) as load:
        assert load.wait_for(lambda v: v.startswith("version=1 "), timeout=10)
        swaps: list[tuple[str, float]] = []

        def swap(what: str, run, expect) -> None:
            before = load.latest()
            started = time.monotonic()
            done = run()
            assert done.returncode == 0, f"{what}: {done.stderr}"
            seen = load.wait_for(lambda v: v != before and expect(fields(v)), timeout=15)
            assert seen, f"{what}: the new version never answered (last: {load.latest()})"
            swaps.append((what, time.monotonic() - started))

        swap("push v2", lambda: host.push(repo, app), lambda f: f["version"] == "2")
        swap(
            "config:set",
            lambda: host.ssh("config:set", app, "GREETING=hola"),
            lambda f: f["version"] == "2" and f["greeting"] == "hola",
        )
        swap(
            "ps:restart",
            lambda: host.ssh("ps:restart", app),
            lambda f: f["version"] == "2" and f["greeting"] == "hola",
        )
        swap(
            "releases:rollback",
            lambda: host.ssh("releases:rollback", app),
            lambda f: f["version"] == "2" and f["greeting"] == "-",
        )
        time.sleep(DRAIN + 2)  # the last old containers drain and stop under load
    report(load, "push, config:set, ps:restart, releases:rollback")
    for what, seconds in swaps:
        print(f"    {what}: new version answering after {seconds:.2f} s")
    assert_no_failures(load)
    served = load.versions()
    assert len(served) == 5, served  # v1, then exactly one switch per swap
    assert [fields(v)["version"] for v in served] == ["1", "2", "2", "2", "2"], served
    assert [fields(v)["greeting"] for v in served] == ["-", "-", "hola", "hola", "-"], served
    assert containers(app, f"appliance.deploy={first}") == []  # retired under load


def test_unhealthy_deploy_is_refused_under_load(host: Host, tmp_path: Path) -> None:
    app, repo = deploy_first(host, tmp_path)
    first = current_deploy(host, app)
    check = {"type": "startup", "path": "/", "content": "never-appears", "attempts": 2, "wait": 1}
    set_version(repo, "2", **{"app.json": json.dumps({"healthchecks": {"web": [check]}})})
    with load_on(app) as load:
        assert load.wait_for(lambda v: v.startswith("version=1 "), timeout=10)
        refused = host.push(repo, app)
        time.sleep(1)
    report(load, "unhealthy deploy")
    assert refused.returncode != 0, refused.stderr
    assert "never-appears" in refused.stderr, refused.stderr
    assert "the old release serves on" in refused.stderr, refused.stderr
    assert_no_failures(load)
    assert [fields(v)["version"] for v in load.versions()] == ["1"]
    assert host.get(app)[1].startswith("version=1 ")
    assert [c["deploy"] for c in containers(app)] == [first]  # the refused deploy left none


def find_hook(app: str, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sh("pgrep", "-f", f"git:hook pre-receive {app}$")
        pids = [int(p) for p in found.stdout.split()]
        if pids:
            return pids
        time.sleep(0.1)
    return []


def test_killed_deploy_is_cleaned_up_by_the_next(host: Host, tmp_path: Path) -> None:
    app, repo = deploy_first(host, tmp_path)
    first = current_deploy(host, app)
    set_version(repo, "3", STARTUP_DELAY="60\n")
    with load_on(app) as load:
        assert load.wait_for(lambda v: v.startswith("version=1 "), timeout=10)
        ssh = " ".join(["ssh", "-i", str(host.key), *SSH_OPTIONS])
        push = subprocess.Popen(
            ["git", "-C", str(repo), "push", f"appliance@127.0.0.1:{app}", "main:main"],
            env={**os.environ, "GIT_SSH_COMMAND": ssh},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(push.stderr or []), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        slow: list[dict[str, str]] = []
        while time.monotonic() < deadline and not slow:  # the new container is up, not listening
            slow = [c for c in containers(app) if c["deploy"] != first]
            time.sleep(0.2)
        assert slow, "".join(lines)
        hooks = find_hook(app)
        assert hooks, "no pre-receive hook process found"
        for pid in hooks:
            os.kill(pid, signal.SIGKILL)
        push.kill()
        push.wait(timeout=10)
        reader.join(timeout=10)
        assert "is listening" not in "".join(lines)  # it was killed mid-way
        time.sleep(1)
        assert host.get(app)[1].startswith("version=1 ")

        (repo / "STARTUP_DELAY").unlink()
        set_version(repo, "4")
        again = host.push(repo, app)
        assert again.returncode == 0, again.stderr
        assert load.wait_for(lambda v: v.startswith("version=4 "), timeout=15)
    report(load, "killed deploy, then the next push")
    assert "Cleaning up deploy" in again.stderr and "which was interrupted" in again.stderr
    assert_no_failures(load)
    assert [fields(v)["version"] for v in load.versions()] == ["1", "4"]
    killed = {c["deploy"] for c in slow}
    left = [c for c in containers(app) if c["deploy"] in killed]
    assert left == [], f"containers of the killed deploy remain: {left}"
