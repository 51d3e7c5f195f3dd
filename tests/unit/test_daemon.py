"""The daemon host: periodic jobs, long-lived threads and file watches, each isolated,
and the process itself (pid file, log, inherited descriptors, SIGTERM)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from appliance import background
from appliance import daemon as host
from appliance.background import Daemon, TimestampedStream
from appliance.host import Appliance


def wait_for(condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def daemon() -> Daemon:
    running = Daemon(stream=io.StringIO())
    yield running
    running.stop(timeout=2)


def test_every_runs_periodically_and_survives_failures(daemon: Daemon) -> None:
    calls: list[float] = []

    def flaky() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("first run explodes")

    daemon.plugin = "flaky-plugin"
    daemon.every(0.1, flaky, "flaky")
    daemon.plugin = "core"
    daemon.start()
    assert wait_for(lambda: len(calls) >= 3)
    log = daemon.stream.getvalue()  # type: ignore[attr-defined]
    assert "flaky-plugin: flaky failed: RuntimeError: first run explodes" in log
    assert daemon.jobs["flaky"].failures == 1


def test_kick_runs_a_job_before_its_interval(daemon: Daemon) -> None:
    runs: list[int] = []
    daemon.every(3600, lambda: runs.append(1), "slow")
    daemon.start()
    assert wait_for(lambda: len(runs) == 1)  # the first run is at once
    daemon.kick("slow")
    assert wait_for(lambda: len(runs) == 2)
    daemon.kick("missing")  # an unknown job is ignored


def test_thread_is_restarted_with_backoff(daemon: Daemon) -> None:
    starts: list[float] = []

    def follower() -> None:
        starts.append(time.monotonic())
        raise ConnectionError("stream ended")

    daemon.plugin = "events"
    daemon.thread(follower, "follow")
    daemon.start()
    assert wait_for(lambda: len(starts) >= 2, timeout=4)
    assert starts[1] - starts[0] >= 0.9  # 1 s back-off
    log = daemon.stream.getvalue()  # type: ignore[attr-defined]
    assert "events: follow failed: ConnectionError: stream ended" in log
    assert "follow stopped; starting it again in 1 s" in log


def test_duplicate_job_names_are_refused(daemon: Daemon) -> None:
    daemon.every(1, lambda: None, "x")
    with pytest.raises(ValueError):
        daemon.thread(lambda: None, "x")


def test_watch_delivers_debounced_changes_and_waits_for_missing_paths(
    daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(background, "HOUSEKEEPING", 0.2)
    seen: list[list[str]] = []
    later = tmp_path / "later"
    daemon.watch(tmp_path, seen.append)
    daemon.watch(later, seen.append, recursive=True)
    daemon.watch(tmp_path, lambda paths: None)  # the same path again: ignored
    daemon.start()
    for i in range(5):
        (tmp_path / f"f{i}").write_text("x")
    assert wait_for(lambda: len(seen) >= 1)
    time.sleep(0.8)
    assert len(seen) == 1, seen  # five writes, one call
    assert str(tmp_path / "f4") in seen[0]

    (later / "nginx").mkdir(parents=True)
    time.sleep(0.5)  # the housekeeping has started watching it
    (later / "nginx" / "app.conf.j2").write_text("x")
    assert wait_for(lambda: any(str(later / "nginx" / "app.conf.j2") in s for s in seen))


def test_a_failing_watch_callback_is_logged(daemon: Daemon, tmp_path: Path) -> None:
    def broken(paths: list[str]) -> None:
        raise KeyError("nope")

    daemon.plugin = "broken-plugin"
    daemon.watch(tmp_path, broken)
    daemon.start()
    (tmp_path / "f").write_text("x")
    log = daemon.stream
    assert wait_for(lambda: "broken-plugin: watch" in log.getvalue())  # type: ignore[attr-defined]
    assert "KeyError" in log.getvalue()  # type: ignore[attr-defined]


def test_timestamped_stream_prefixes_each_line() -> None:
    target = io.StringIO()
    stream = TimestampedStream(target, "cron")
    stream.write("one\ntw")
    stream.write("o\nthree\n")
    lines = target.getvalue().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["cron: one", "cron: two", "cron: three"]
    assert all(line[:4].isdigit() and line[10] == "T" for line in lines)


def open_files(pid: int) -> set[str]:
    """What the process's descriptors point at; one closed while we look is skipped."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            continue
    return found


def test_the_process_closes_inherited_fds_holds_its_pidfile_and_stops_on_sigterm(
    root: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "run" / "daemon.pid"
    log = tmp_path / "log" / "daemon.log"
    inherited = os.open(tmp_path / "held.lock", os.O_RDWR | os.O_CREAT)
    env = {**os.environ, "APPLIANCE_ROOT": str(root)}
    argv = [sys.executable, "-m", "appliance", "daemon", "--pidfile", str(pidfile),
            "--log", str(log)]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, pass_fds=[inherited], stdin=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: pidfile.is_file() and "running:" in log.read_text(), 20)
        assert pidfile.read_text().strip() == str(proc.pid)
        targets = open_files(proc.pid)
        assert str(tmp_path / "held.lock") not in targets
        second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert f"already running (pid {proc.pid}" in log.read_text() + second.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(inherited)
    text = log.read_text()
    assert "daemon starting" in text and "stopped" in text
    assert not pidfile.exists()


def test_load_plugins_isolates_a_plugin_that_fails_to_start(root: Path) -> None:
    from tests.unit.test_hooks import add_plugin

    add_plugin(
        root,
        "ticker",
        """
        from appliance.hookspecs import hookimpl

        @hookimpl
        def appliance_daemon_start(daemon):
            daemon.every(60, lambda: None, "tick")
        """,
        hooks=["appliance_daemon_start"],
    )
    add_plugin(
        root,
        "crasher",
        """
        from appliance.hookspecs import hookimpl

        @hookimpl
        def appliance_daemon_start(daemon):
            raise RuntimeError("cannot start")
        """,
        hooks=["appliance_daemon_start"],
    )
    add_plugin(
        root,
        "host-user",
        """
        from appliance.hookspecs import hookimpl

        @hookimpl
        def appliance_daemon_start(daemon, appliance):
            assert appliance is daemon.appliance
            daemon.log(f"acting for {appliance.user}")
        """,
        hooks=["appliance_daemon_start"],
    )
    daemon = Daemon(stream=io.StringIO())
    started = host.load_plugins(daemon)
    assert "ticker" in started and "crasher" not in started and "host-user" in started
    assert daemon.jobs["tick"].plugin == "ticker"
    # The process builds the appliance its plugins reach, as their argument or daemon's.
    assert isinstance(daemon.appliance, Appliance)
    assert f"host-user: acting for {daemon.appliance.user}" in (
        daemon.stream.getvalue()  # type: ignore[attr-defined]
    )
    assert "crasher: appliance_daemon_start failed: RuntimeError: cannot start" in (
        daemon.stream.getvalue()  # type: ignore[attr-defined]
    )
    assert threading.active_count() >= 1


def test_web_ports_are_recorded_per_deploy_for_the_restore(
    root: Path, appliance: Appliance
) -> None:
    """scheduler-docker remembers each web container's loopback port by deploy, so the
    daemon recreates a missing container on the port nginx already points at."""
    from types import SimpleNamespace

    from appliance.deploy import Deploy
    from appliance.state import App

    registry = appliance.registry
    plugin = registry.get("scheduler-docker")
    scheduler = registry.import_module(plugin)
    reconcile = registry.import_module(plugin, "reconcile")
    app = App("hello")
    app.path.mkdir(parents=True)
    app.settings.set("core", "created_at", "now")

    def deploy(number: int, previous: int | None) -> Deploy:
        return Deploy(app=app, out=appliance.out, id=number, release=number, user="t",
                      appliance=appliance, previous_deploy=previous)  # fmt: skip

    scheduler.remember_ports(deploy(1, None), {"web.1": 40001})
    scheduler.remember_ports(deploy(2, 1), {"web.1": 40002, "web.2": 40003})
    scheduler.remember_ports(deploy(3, 2), {"web.1": 40004})
    assert reconcile.recorded_ports(app, 1) == {}  # older than the previous deploy
    assert reconcile.recorded_ports(app, 2) == {"web.1": 40002, "web.2": 40003}
    assert reconcile.recorded_ports(app, 3) == {"web.1": 40004}

    published = SimpleNamespace(attrs={"HostConfig": {"PortBindings": {
        "5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "40004"}]}}})  # fmt: skip
    assert reconcile.published_port(published) == 40004
    assert reconcile.published_port(SimpleNamespace(attrs={"HostConfig": {}})) is None


def test_the_daemon_cannot_be_started_over_ssh(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance import cli
    from appliance.errors import UserError
    from tests.unit.test_ssh_entry import store_keys

    store_keys(alice={"admin": True})
    monkeypatch.setenv("APPLIANCE_USER", "alice")
    with pytest.raises(UserError, match="command not allowed: 'daemon'"):
        cli.run(["daemon"], via_ssh=True)


def test_a_large_log_is_moved_aside_and_output_goes_to_a_new_one(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    log.write_text("old line\n" * 20)
    script = (
        "import sys; from pathlib import Path; from appliance import daemon; "
        "log = Path(sys.argv[1]); daemon.redirect_output(log); "
        "print('small', daemon.rotate_log(log, limit=10**6), flush=True); "
        "print('large', daemon.rotate_log(log, limit=100), flush=True)"
    )
    ran = subprocess.run([sys.executable, "-c", script, str(log)], check=False, timeout=30)
    assert ran.returncode == 0
    moved = (tmp_path / "daemon.log.1").read_text()
    assert moved.startswith("old line\n") and moved.endswith("small False\n")
    assert log.read_text() == "large True\n"
