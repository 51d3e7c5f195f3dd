"""The daemon as plugins see it: `Daemon`, what `appliance_daemon_start` receives.

Register background work through its small API: `every(seconds, fn, name)`,
`thread(fn, name)`, `watch(path, fn)`, `kick(name)`, `wait(seconds)`, `log(message)`;
`daemon.appliance` is the running appliance. A callback that raises is logged with
its plugin's name and the daemon carries on. The process around it (pid file, log,
signals) is `appliance.daemon`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from appliance.errors import UserError

if TYPE_CHECKING:
    from appliance.host import Appliance

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

    def __init__(self, stream: TextIO | None = None, appliance: Appliance | None = None) -> None:
        self.appliance = appliance
        """The running appliance (None only in tests of the daemon itself)."""
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
        """Write a timestamped line to the daemon's log, labelled with `plugin` (by default the
        plugin registering work): a job says what it did or why it skipped a run."""
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
        """The daemon as trigger executables receive it on stdin (JSON): its pid and the names
        of its jobs and watches."""
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
        """Launch every registered job and watch, once each plugin's `appliance_daemon_start`
        has run. Used by the core (`appliance daemon`); plugins do not call it."""
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
        """Tell every job to stop (`wait` returns True) and join their threads for up to
        `timeout` seconds. Used by the core on SIGTERM; plugins do not call it."""
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
