"""`appliance daemon`: the process of the one small long-running host of what plugins
do in the background (following engine events, watching files, cron).

The core knows no feature here. It fires `appliance_daemon_start` on every plugin that
declares it, one by one; each registers work on the `Daemon` (`appliance.background`),
the API plugins see. Nothing else depends on the daemon: deploys and commands work
the same while it is down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
from pathlib import Path
from typing import Any

from appliance import state
from appliance.background import Daemon, TimestampedStream
from appliance.errors import UserError

HOOK = "appliance_daemon_start"
HOUSEKEEPING = 2.0
"""Seconds between checks for watched paths that appeared or disappeared."""
DEBOUNCE = 0.5
"""Changes to a watched path are delivered once it has been quiet this long."""
MAX_BACKOFF = 60.0


# --- starting and stopping the process ---------------------------------------------


def load_plugins(daemon: Daemon) -> list[str]:
    """Fire `appliance_daemon_start` on each plugin that declares it, one at a time, so a
    plugin that fails to load or to start is logged and left out."""
    from appliance.boot import open_appliance

    if daemon.appliance is None:
        daemon.appliance = open_appliance()
    registry = daemon.appliance.registry
    registry.load_for(HOOK, on_error=lambda exc: daemon.log(str(exc), "core"))
    caller = getattr(registry.pm.hook, HOOK)
    given = {"daemon": daemon, "appliance": daemon.appliance}
    started = []
    for impl in reversed(caller.get_hookimpls()):
        plugin = impl.plugin_name.split(":")[0]
        daemon.plugin = plugin
        if daemon.call(plugin, HOOK, impl.function, *(given[a] for a in impl.argnames)):
            started.append(plugin)
    daemon.plugin = "core"
    return started


def close_inherited_fds() -> None:
    """Whoever started us may have left descriptors open (a lock the installer's caller
    held, a pipe): a long-running process must not keep them."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2:
            with contextlib.suppress(OSError):
                os.close(fd)


LOG_LIMIT = 10 * 2**20
"""Past this size the daemon's log becomes `LOG.1` (replacing the one before) and a
new log starts: at most about twice this on disk, with no logrotate needed."""


def rotate_log(log: Path, limit: int = LOG_LIMIT) -> bool:
    """Move a log past `limit` bytes aside as `LOG.1` and send output to a new one."""
    try:
        if log.stat().st_size < limit:
            return False
    except FileNotFoundError:
        return False
    os.replace(log, log.with_name(log.name + ".1"))
    redirect_output(log)
    return True


def redirect_output(log: Path) -> None:
    """stdout and stderr append to `log`; stdin reads nothing."""
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.close(null)


def hold_pidfile(path: Path) -> int:
    """Write our pid to `path` and hold a lock on it for our lifetime: a second daemon
    finds it locked and refuses to start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 20, 0).decode(errors="replace").strip()
        os.close(fd)
        raise UserError(f"the daemon is already running (pid {holder or '?'}, {path})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def main(args: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="appliance daemon",
        description="Run the appliance daemon in the foreground (the background work of "
        "plugins). Commands and deploys never need it.",
    )
    parser.add_argument("--pidfile", type=Path, help="write the pid here (and lock it)")
    parser.add_argument("--log", type=Path, help="append output here instead of stderr")
    ns = parser.parse_args(args)
    close_inherited_fds()
    if ns.log:
        redirect_output(ns.log)
        rotate_log(ns.log)
    sys.stdout = TimestampedStream(sys.__stdout__ or sys.stdout)  # type: ignore[assignment]
    sys.stderr = TimestampedStream(sys.__stderr__ or sys.stderr)  # type: ignore[assignment]
    lock_fd = hold_pidfile(ns.pidfile or state.root() / "daemon.pid")
    daemon = Daemon(stream=sys.__stderr__ or sys.stderr)

    def on_signal(signum: int, frame: Any) -> None:
        daemon.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    from appliance import __version__

    daemon.log(f"appliance {__version__} daemon starting (pid {os.getpid()}, root {state.root()})")
    started = load_plugins(daemon)
    daemon.start()
    daemon.log(
        f"running: plugins {', '.join(started) or 'none'}; "
        f"jobs {', '.join(sorted(daemon.jobs)) or 'none'}; {len(daemon.watches)} watch(es)"
    )
    while not daemon.stopping.wait(600):
        if ns.log and rotate_log(ns.log):
            daemon.log(f"log rotated: the previous one is {ns.log}.1")
    daemon.log("stopping (SIGTERM)")
    daemon.stop()
    with contextlib.suppress(OSError):
        if ns.pidfile:
            ns.pidfile.unlink()
    os.close(lock_fd)
    daemon.log("stopped")
    return 0
