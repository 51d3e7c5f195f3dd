"""Retiring containers always retire: the retire process killed right after a deploy
and the engine restarted inside the window, the old release is gone once the window
has passed (the daemon retires it); an app destroyed and created again inside the
window keeps its new containers (the old retire belongs to the old app).

The engine restart disrupts every other test: run this file alone, as test_daemon.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import Host, commit, make_repo, sh
from .test_daemon import SYSTEMD, answers, daemon_pid, wait_until

WINDOW = 5


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def running(app: str, deploy: int | None = None, *, all: bool = False) -> list[str]:
    filters = ["--filter", f"label=appliance.app={app}"]
    if deploy is not None:
        filters += ["--filter", f"label=appliance.deploy={deploy}"]
    return sh("docker", "ps", "-q", *(["-a"] if all else []), *filters).stdout.split()


def retire_pid(app: str, before: int) -> int | None:
    found = sh("pgrep", "-f", f"scheduler-docker:retire {app} --before {before} ")
    pids = [int(p) for p in found.stdout.split()]
    return pids[0] if pids else None


def set_message(repo: Path, text: str) -> None:
    (repo / "message.txt").write_text(f"{text}\n")
    commit(repo, text)


def restart_engine() -> None:
    """Stop dockerd and start it again, as test_daemon.py does."""
    if SYSTEMD:
        assert sh("systemctl", "restart", "docker").returncode == 0
        return
    pid = int(sh("pgrep", "-x", "-o", "dockerd").stdout.split()[0])
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: sh("pgrep", "-x", "dockerd").returncode != 0, timeout=60)
    with open("/var/log/dockerd.log", "ab") as log:
        subprocess.Popen(["dockerd"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)  # fmt: skip
    wait_until(lambda: sh("docker", "info").returncode == 0, timeout=60)


def test_engine_restart_inside_the_window(host: Host, tmp_path: Path) -> None:
    assert daemon_pid(), "install.sh did not start the daemon"
    app = host.new_app("retire")
    repo = make_repo(tmp_path, "dockerfile-hello")
    ok(host.ssh("apps:create", app))
    ok(host.push(repo, app))
    ok(host.ssh("checks:set", app, "wait-to-retire", str(WINDOW)))
    set_message(repo, "hello v2")
    ok(host.push(repo, app))
    pushed = time.time()
    pid = retire_pid(app, 2)
    assert pid, "the deploy started no retire process"
    os.kill(pid, signal.SIGKILL)  # as a reboot or the OOM killer would
    rows = json.loads(ok(host.ssh("ps:report", app, "--format", "json")))
    if time.time() < pushed + WINDOW - 1:  # still inside the window: shown as such
        old = [r for r in rows if r["deploy"] == 1]
        assert old and all(r["retiring_until"] >= pushed - 1 for r in old), rows

    restart_engine()
    wait_until(lambda: answers(host, app), timeout=60)
    # Retired: removed, not merely stopped by the engine's restart.
    took = wait_until(lambda: not running(app, 1, all=True),
                      timeout=pushed + WINDOW + 20 - time.time())  # fmt: skip
    assert time.time() >= pushed + WINDOW - 1  # not before its window ended
    print(f"\nthe old release was retired {took:.1f} s after the engine came back")
    assert running(app, 2)
    assert host.get(app)[1].startswith("hello v2")
    rows = json.loads(ok(host.ssh("ps:report", app, "--format", "json")))
    assert {r["deploy"] for r in rows} == {2} and all(r["current"] for r in rows)
    assert "retiring" not in ok(host.ssh("ps:report", app))
    record = Path(f"/var/lib/appliance/apps/{app}/retire.toml")
    wait_until(lambda: not record.exists(), timeout=10)  # dropped once its retire is done


def test_a_recreated_app_keeps_its_containers(host: Host, tmp_path: Path) -> None:
    """The old app's retire wakes while the new app's first deploy waits for its web
    container to listen: that container is the new app's, not the old one's to stop."""
    app = host.new_app("reborn")
    repo = make_repo(tmp_path, "dockerfile-hello")
    ok(host.ssh("apps:create", app))
    ok(host.push(repo, app))
    wait = 8
    ok(host.ssh("checks:set", app, "wait-to-retire", str(wait)))
    set_message(repo, "hello v2")
    ok(host.push(repo, app))
    woken = time.time() + wait
    pid = retire_pid(app, 2)
    assert pid, "the deploy started no retire process"
    (repo / "Procfile").write_text("web: sleep 12; exec python3 /app/app.py\n")
    commit(repo, "slow to listen: the old retire wakes during this deploy")
    ok(host.ssh("apps:destroy", app, "--force"))
    ok(host.ssh("apps:create", app))
    if time.time() > woken - 1:
        pytest.skip("the old retire woke before the app was created again: too slow a host")
    pushed = host.push(repo, app)  # the new app's deploy 1
    assert pushed.returncode == 0, pushed.stderr
    assert time.time() > woken and retire_pid(app, 2) is None  # it woke during the push
    assert len(running(app, 1)) == 1  # the old app's retire left the new app's be
    assert host.get(app)[1].startswith("hello v2")
