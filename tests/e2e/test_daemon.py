"""The daemon, as installed by install.sh: apps come back after their containers are
removed or the Docker engine restarts, template overrides apply themselves, cron
entries run on schedule, and pushes and commands work while the daemon is down.

The engine restart disrupts every other test: run this file alone
(`flock -x /tmp/e2e.lock pytest tests/e2e/test_daemon.py`), as the suite does.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import CHECKOUT, DOMAIN, Host, commit, make_repo, sh

STATE = Path("/var/lib/appliance")
PIDFILE = Path("/run/appliance/daemon.pid")
LOG = Path("/var/log/appliance/daemon.log")
SYSTEMD = Path("/run/systemd/system").is_dir()
APPS = 5
CRON_APP_JSON = {
    "cron": [
        {"command": "echo cron-says-$APPLIANCE_CRON_WORD", "schedule": "* * * * *"},
        {"command": "echo failing; exit 3", "schedule": "@yearly"},
    ]
}

GRACEFUL = 4
"""This app exits 0 on SIGTERM, so Docker's on-failure policy never restarts it after
an engine restart: the daemon must."""
GRACEFUL_WEB = "trap 'exit 0' TERM; python3 /app/app.py & wait"


@dataclass
class Fleet:
    apps: list[str]
    repos: list[Path]


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.25) -> float:
    """Seconds until `condition()` held; fails the test after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    pytest.fail(f"not within {timeout} s")


def answers(host: Host, app: str) -> bool:
    try:
        return host.get(app)[0] == 200
    except OSError:
        return False


def get_headers(app: str) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=10)
    try:
        conn.request("GET", "/", headers={"Host": f"{app}.{DOMAIN}"})
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def daemon_pid() -> int | None:
    if SYSTEMD:
        shown = sh("systemctl", "show", "--property=MainPID", "--value", "appliance-daemon")
        pid = int(shown.stdout.strip() or 0)
        return pid or None
    try:
        pid = int(PIDFILE.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def daemon_log() -> str:
    if SYSTEMD:
        return sh("journalctl", "-q", "-u", "appliance-daemon", "--no-pager").stdout
    return LOG.read_text()


def app_containers(app: str) -> list[str]:
    listed = sh("docker", "ps", "-a", "-q", "--filter", f"label=appliance.app={app}")
    return listed.stdout.split()


@pytest.fixture(scope="module")
def fleet(host: Host, tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """Five small apps from one fixture tree (one build, reused); the second has cron."""
    assert daemon_pid(), "install.sh did not start the daemon"
    apps, repos = [], []
    for number in range(APPS):
        app = host.new_app("daemon")
        repo = make_repo(tmp_path_factory.mktemp(f"app{number}"), "dockerfile-hello")
        assert host.ssh("apps:create", app).returncode == 0
        if number == 1:
            (repo / "app.json").write_text(json.dumps(CRON_APP_JSON))
            commit(repo, "cron entries")
            word = host.ssh("config:set", app, "APPLIANCE_CRON_WORD=hello", "--no-restart")
            assert word.returncode == 0, word.stderr
        if number == GRACEFUL:
            (repo / "Procfile").write_text(f"web: {GRACEFUL_WEB}\n")
            commit(repo, "exits 0 on SIGTERM")
        assert host.ssh("checks:set", app, "wait-to-retire", "0").returncode == 0
        pushed = host.push(repo, app)
        assert pushed.returncode == 0, pushed.stderr
        apps.append(app)
        repos.append(repo)
    for app in apps:
        assert answers(host, app)
    return Fleet(apps, repos)


def test_removed_containers_come_back_on_the_same_upstream(host: Host, fleet: Fleet) -> None:
    app = fleet.apps[0]
    config = host.ssh("proxy:show-config", app).stdout
    assert sh("docker", "rm", "-f", *app_containers(app)).returncode == 0
    took = wait_until(lambda: answers(host, app), timeout=45)
    print(f"\n{app}: answered again {took:.1f} s after its containers were removed")
    assert host.ssh("proxy:show-config", app).stdout == config  # same loopback port
    assert f"created {app}.web.1" in daemon_log()


def test_engine_restart_brings_every_app_back(host: Host, fleet: Fleet) -> None:
    if SYSTEMD:
        assert sh("systemctl", "stop", "docker").returncode == 0
    else:
        pid = int(sh("pgrep", "-x", "-o", "dockerd").stdout.split()[0])
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: sh("pgrep", "-x", "dockerd").returncode != 0, timeout=60)
    assert not any(answers(host, app) for app in fleet.apps)
    started = time.monotonic()
    if SYSTEMD:
        assert sh("systemctl", "start", "docker").returncode == 0
    else:  # as install.sh starts it
        with open("/var/log/dockerd.log", "ab") as log:
            subprocess.Popen(["dockerd"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)  # fmt: skip
    for app in fleet.apps:
        wait_until(lambda app=app: answers(host, app), timeout=30 - (time.monotonic() - started))
    took = time.monotonic() - started
    print(f"\nall {APPS} apps answered {took:.1f} s after dockerd was started again")
    assert took < 30
    assert daemon_pid()
    assert f"started {fleet.apps[GRACEFUL]}.web.1" in daemon_log()


def test_template_override_applies_itself_and_a_broken_one_is_refused(
    host: Host, fleet: Fleet
) -> None:
    app = fleet.apps[2]
    folder = STATE / "apps" / app / "templates" / "nginx"
    builtin = (CHECKOUT / "templates" / "nginx" / "app.conf.j2").read_text()
    marker = "proxy_pass http://appliance-{{ app|nginx }};"
    assert marker in builtin
    override = builtin.replace(marker, marker + "\n        add_header X-Override daemon;")
    try:
        sh("install", "-d", "-o", "appliance", "-g", "appliance", folder.parent, folder)
        (folder / "app.conf.j2").write_text(override)
        wait_until(lambda: get_headers(app)[1].get("x-override") == "daemon", timeout=15)
        good = host.ssh("proxy:show-config", app).stdout
        assert "X-Override" in good

        (folder / "app.conf.j2").write_text(override.replace("add_header", "no_such_directive"))
        refused = f"{app}: the changed template is not used: nginx rejected the new config"
        wait_until(lambda: refused in daemon_log(), timeout=15)
        assert host.ssh("proxy:show-config", app).stdout == good
        assert get_headers(app)[0] == 200
    finally:
        (folder / "app.conf.j2").unlink(missing_ok=True)
    wait_until(lambda: "x-override" not in get_headers(app)[1], timeout=15)


def test_pushes_and_commands_work_while_the_daemon_is_down(host: Host, fleet: Fleet) -> None:
    pid = daemon_pid()
    assert pid
    if SYSTEMD:
        assert sh("systemctl", "stop", "appliance-daemon").returncode == 0
    else:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: daemon_pid() is None, timeout=15)
    try:
        app, repo = fleet.apps[3], fleet.repos[3]
        (repo / "message.txt").write_text("deployed while the daemon was down\n")
        commit(repo, "without the daemon")
        pushed = host.push(repo, app)
        assert pushed.returncode == 0, pushed.stderr
        assert "deployed while the daemon was down" in host.get(app)[1]
        assert host.ssh("config:set", fleet.apps[4], "WHILE=down").returncode == 0
        assert host.ssh("config:get", fleet.apps[4], "WHILE").stdout.strip() == "down"
        assert answers(host, fleet.apps[4])
    finally:
        started = sh("bash", CHECKOUT / "install.sh", "--start-only")
        assert started.returncode == 0, started.stderr
    assert daemon_pid() not in (None, pid)


def test_cron_runs_on_schedule_and_on_demand(host: Host, fleet: Fleet, tmp_path: Path) -> None:
    app = fleet.apps[1]
    listed = json.loads(host.ssh("cron:list", app, "--format", "json").stdout)
    assert [e["schedule"] for e in listed] == ["* * * * *", "@yearly"]
    every_minute, yearly = listed[0]["id"], listed[1]["id"]
    ran = host.ssh("cron:run", app, yearly)
    assert ran.returncode == 3 and "failing" in ran.stdout
    ran = host.ssh("cron:run", app, every_minute)
    assert ran.returncode == 0, ran.stderr
    assert "cron-says-hello" in ran.stdout, (
        ran.stdout + host.ssh("config:show", app).stdout + host.ssh("releases", app).stdout
    )

    def ran_on_schedule() -> bool:
        shown = host.ssh("cron:logs", app, every_minute, "-n", "10").stdout
        return "(schedule, exit 0" in shown and "cron-says-hello" in shown

    wait_until(ran_on_schedule, timeout=75, step=2)
    assert "(exit 0)" in host.ssh("cron:list", app).stdout

    bad = make_repo(tmp_path, "dockerfile-hello")
    (bad / "app.json").write_text(
        json.dumps({"cron": [{"command": "x", "schedule": "61 * * * *"}]})
    )
    commit(bad, "a bad schedule")
    pushed = sh("git", "-C", bad, "push", "--force", f"appliance@127.0.0.1:{app}", "main:main",
                env=host.git_env())  # fmt: skip
    assert pushed.returncode != 0
    assert "app.json cron entry 1: invalid schedule '61 * * * *'" in pushed.stderr
    assert answers(host, app)
