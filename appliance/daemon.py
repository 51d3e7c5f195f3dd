"""`appliance daemon`: one small long-running process that hosts what plugins need to
run in the background (following Docker events, watching files, cron).

The core knows no feature here. It fires `appliance_daemon_start(daemon)` on every
plugin that declares it; each registers work through the small API of `Daemon`:
`every(seconds, fn, name)`, `thread(fn, name)` and `watch(path, fn)`. A callback that
raises is logged with its plugin's name and the daemon carries on. Nothing else
depends on the daemon: deploys and commands work the same while it is down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from appliance import state
from appliance.errors import UserError

HOOK = "appliance_daemon_start"
HOUSEKEEPING = 2.0
"""Seconds between checks for watched paths that appeared or disappeared."""
DEBOUNCE = 0.5
"""Changes to a watched path are delivered once it has been quiet this long."""
MAX_BACKOFF = 60.0


class TimestampedStream:
    """A text stream that starts every line with the time and a label."""

    def __init__(self, target: TextIO, label: str = "") -> None:
        self.target = target
        self.label = label
        self._lock = threading.Lock()
        self._fresh = True

    def write(self, text: str) -> int:
        with self._lock:
            for piece in text.splitlines(keepends=True):
                if self._fresh:
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
                    self.target.write(f"{stamp} {self.label}: " if self.label else f"{stamp} ")
                self.target.write(piece)
                self._fresh = piece.endswith("\n")
            self.target.flush()
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return False


@dataclass
class Job:
    name: str
    plugin: str
    fn: Callable[[], Any]
    seconds: float = 0.0
    align: bool = False
    kicked: threading.Event = field(default_factory=threading.Event)
    kick_at: float = 0.0
    runs: int = 0
    failures: int = 0


@dataclass
class Watch:
    path: Path
    plugin: str
    fn: Callable[[list[str]], Any]
    recursive: bool
    handle: Any = None
    pending: set[str] = field(default_factory=set)
    due: float = 0.0
    appears: bool = False
    """Deliver a change once it is watched: it appeared (or was added) while we ran."""


class Daemon:
    """What `appliance_daemon_start` receives. Register work; never block in the hook."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream: TextIO = stream or sys.stderr
        self.stopping = threading.Event()
        self.jobs: dict[str, Job] = {}
        self.watches: dict[str, Watch] = {}
        self.threads: list[threading.Thread] = []
        self.plugin = "core"
        """The plugin whose `appliance_daemon_start` is running: registrations are its."""
        self._observer: Any = None
        self._lock = threading.Lock()
        self._started = False

    # --- the API plugins use ---------------------------------------------------

    def log(self, message: str, plugin: str | None = None) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(f"{stamp} {plugin or self.plugin}: {message}\n")
            self.stream.flush()

    def every(self, seconds: float, fn: Callable[[], Any], name: str, align: bool = False) -> None:
        """Run `fn()` every `seconds` (first run at once; with `align`, at the next
        multiple of `seconds` of the wall clock, so 60 means "at each minute's start")."""
        if seconds <= 0:
            raise ValueError("every() needs a positive interval")
        self._add_job(Job(name=name, plugin=self.plugin, fn=fn, seconds=seconds, align=align))

    def thread(self, fn: Callable[[], Any], name: str) -> None:
        """Run `fn()` in its own thread for as long as the daemon runs; if it returns or
        raises, it is started again after a back-off (1 s, doubling to 60 s)."""
        self._add_job(Job(name=name, plugin=self.plugin, fn=fn))

    def kick(self, name: str, delay: float = 0.0) -> None:
        """Run the periodic job `name` now (or in `delay` seconds) instead of waiting."""
        job = self.jobs.get(name)
        if job is None or not job.seconds:
            return
        job.kick_at = time.monotonic() + delay
        job.kicked.set()

    def watch(
        self, path: Path | str, fn: Callable[[list[str]], Any], recursive: bool = False
    ) -> None:
        """Call `fn(paths)` with the paths that changed under `path`, once changes have
        stopped for half a second. `path` may not exist yet: it is watched once it does,
        and its appearing counts as a change (so does a path added while the daemon
        runs: what it holds may be new). Watching the same path again does nothing."""
        key = str(Path(path))
        with self._lock:
            if key in self.watches:
                return
            self.watches[key] = Watch(Path(key), self.plugin, fn, recursive, appears=self._started)
        if self._started:
            self._schedule(self.watches[key])

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the daemon is stopping."""
        return self.stopping.wait(seconds)

    def to_dict(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "jobs": sorted(self.jobs), "watches": sorted(self.watches)}

    # --- running ----------------------------------------------------------------

    def _add_job(self, job: Job) -> None:
        if job.name in self.jobs:
            raise ValueError(f"a daemon job named {job.name!r} is already registered")
        self.jobs[job.name] = job
        if self._started:
            self._launch(job)

    def call(self, plugin: str, what: str, fn: Callable[..., Any], *args: Any) -> bool:
        """Run a plugin's callback; a failure is logged with the plugin's name."""
        try:
            fn(*args)
            return True
        except UserError as exc:
            self.log(f"{what} failed: {exc}", plugin)
        except Exception as exc:
            detail = "".join(traceback.format_exception(exc)[-3:]).rstrip()
            self.log(f"{what} failed: {type(exc).__name__}: {exc}\n{detail}", plugin)
        return False

    def start(self) -> None:
        self._started = True
        for job in list(self.jobs.values()):
            self._launch(job)
        for item in list(self.watches.values()):
            self._schedule(item)
        housekeeping = threading.Thread(
            target=self._housekeeping, name="daemon:watches", daemon=True
        )
        housekeeping.start()
        self.threads.append(housekeeping)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        for job in self.jobs.values():
            job.kicked.set()
        if self._observer is not None:
            with contextlib.suppress(Exception):
                self._observer.stop()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            if not getattr(thread, "forever", False):  # those may block in a read: daemon threads
                thread.join(max(0.0, deadline - time.monotonic()))

    def _launch(self, job: Job) -> None:
        target = self._periodic if job.seconds else self._forever
        thread = threading.Thread(
            target=target, args=(job,), name=f"{job.plugin}:{job.name}", daemon=True
        )
        thread.forever = not job.seconds  # type: ignore[attr-defined]
        thread.start()
        self.threads.append(thread)

    def _periodic(self, job: Job) -> None:
        delay = _until_aligned(job.seconds) if job.align else 0.0
        while not self.stopping.is_set():
            if delay > 0:
                job.kicked.wait(delay)
            if self.stopping.is_set():
                return
            if job.kicked.is_set():
                job.kicked.clear()
                early = job.kick_at - time.monotonic()
                if early > 0 and self.stopping.wait(early):
                    return
            started = time.monotonic()
            job.runs += 1
            if not self.call(job.plugin, job.name, job.fn):
                job.failures += 1
            elapsed = time.monotonic() - started
            delay = _until_aligned(job.seconds) if job.align else max(0.0, job.seconds - elapsed)

    def _forever(self, job: Job) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            started = time.monotonic()
            job.runs += 1
            if not self.call(job.plugin, job.name, job.fn):
                job.failures += 1
            if self.stopping.is_set():
                return
            if time.monotonic() - started > MAX_BACKOFF:
                backoff = 1.0
            self.log(f"{job.name} stopped; starting it again in {backoff:g} s", job.plugin)
            if self.stopping.wait(backoff):
                return
            backoff = min(backoff * 2, MAX_BACKOFF)

    # --- watching files ---------------------------------------------------------

    def _observer_started(self) -> Any:
        if self._observer is None:
            from watchdog.observers import Observer

            self._observer = Observer()
            self._observer.daemon = True
            self._observer.start()
        return self._observer

    def _schedule(self, item: Watch) -> None:
        """Start watching `item.path` if it exists (else the housekeeping retries)."""
        if item.handle is not None:
            return
        if not item.path.is_dir():
            item.appears = True
            return
        from watchdog.events import FileSystemEventHandler

        daemon = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                paths = {str(event.src_path)}
                if getattr(event, "dest_path", ""):
                    paths.add(str(event.dest_path))
                with daemon._lock:
                    item.pending |= paths
                    item.due = time.monotonic() + DEBOUNCE

        try:
            item.handle = self._observer_started().schedule(
                Handler(), str(item.path), recursive=item.recursive
            )
        except OSError as exc:
            self.log(f"cannot watch {item.path}: {exc}", item.plugin)
            return
        if item.appears:
            item.appears = False
            with self._lock:
                item.pending.add(str(item.path))
                item.due = time.monotonic() + DEBOUNCE

    def _housekeeping(self) -> None:
        """Deliver debounced changes; start watching paths that appeared, forget those
        that went away (they are watched again if they come back)."""
        last_scan = 0.0
        while not self.stopping.wait(0.1):
            now = time.monotonic()
            ready: list[tuple[Watch, list[str]]] = []
            with self._lock:
                for item in self.watches.values():
                    if item.pending and now >= item.due:
                        ready.append((item, sorted(item.pending)))
                        item.pending = set()
            for item, paths in ready:
                self.call(item.plugin, f"watch {item.path}", item.fn, paths)
            if now - last_scan < HOUSEKEEPING:
                continue
            last_scan = now
            for item in list(self.watches.values()):
                if item.handle is None:
                    self._schedule(item)
                elif not item.path.is_dir():
                    with contextlib.suppress(Exception):
                        self._observer.unschedule(item.handle)
                    item.handle = None


def _until_aligned(seconds: float) -> float:
    now = time.time()
    return seconds - (now % seconds) or seconds


# --- starting and stopping the process ---------------------------------------------


def load_plugins(daemon: Daemon) -> list[str]:
    """Fire `appliance_daemon_start` on each plugin that declares it, one at a time, so a
    plugin that fails to load or to start is logged and left out."""
    from appliance.registry import Registry

    registry = Registry()
    registry.load_for(HOOK, on_error=lambda exc: daemon.log(str(exc), "core"))
    caller = getattr(registry.pm.hook, HOOK)
    started = []
    for impl in reversed(caller.get_hookimpls()):
        plugin = impl.plugin_name.split(":")[0]
        daemon.plugin = plugin
        if daemon.call(plugin, HOOK, impl.function, *(daemon for _ in impl.argnames)):
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
        description="Run the appliance daemon in the foreground (Docker events, "
        "file watches, cron). Commands and deploys never need it.",
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
