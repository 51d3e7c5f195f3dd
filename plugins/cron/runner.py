"""Running a cron entry: a one-off container of the app's current release (through
`appliance_run_oneoff`), never two runs of one entry at once, output kept per run
under `apps/APP/cron/ID/` (the last KEEP runs)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from appliance import api
from appliance.api import App, Appliance, Conflict, Deploy, NotFound, Output, UserError, releases

from .entries import Entry

KEEP = 10


def entry_dir(app: App, entry_id: str) -> Path:
    return app.path / "cron" / entry_id


class RunOutput(Output):
    """Output of a run: lines go to its log file as they are, and to `echo` if given."""

    def __init__(self, log: TextIO, echo: TextIO | None) -> None:
        super().__init__(stream=log)
        self.echo = echo

    def _write(self, text: str) -> None:
        for stream in (self.stream, self.echo):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):
                    stream.write(text + "\n")
                    stream.flush()

    def info(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self._write(line)


@contextlib.contextmanager
def entry_lock(app: App, entry_id: str) -> Iterator[None]:
    """Held while the entry runs; a second run of the same entry is refused."""
    path = entry_dir(app, entry_id) / "lock"
    try:  # never parents=True up to the app: it may have been destroyed meanwhile
        path.parent.parent.mkdir(exist_ok=True)
        path.parent.mkdir(exist_ok=True)
    except FileNotFoundError:
        raise NotFound(f"app {app.name!r} does not exist") from None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"cron entry {entry_id} of {app.name} is running now") from None
        yield
    finally:
        os.close(fd)


def run(
    app: App, entry: Entry, appliance: Appliance, trigger: str, echo: TextIO | None = None
) -> int:
    """Run `entry` now and wait for it; returns its exit status (1 when it could not
    start, with the reason in its log)."""
    with entry_lock(app, entry.id):
        folder = entry_dir(app, entry.id)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        log_path = folder / f"{stamp}.log"
        n = 1
        while log_path.exists():
            n += 1
            log_path = folder / f"{stamp}-{n}.log"
        started = time.time()
        meta: dict[str, Any] = {
            "id": entry.id,
            "schedule": entry.schedule.text,
            "command": entry.command,
            "trigger": trigger,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        }
        with open(log_path, "w") as log:
            out = RunOutput(log, echo)
            try:
                code = _run_oneoff(app, entry, appliance.with_output(out), trigger)
            except UserError as exc:
                out.raw(f"cron: {exc}")
                meta["error"] = str(exc)
                code = 1
        meta.update(exit_code=code, seconds=round(time.time() - started, 2))
        api.atomic_write(log_path.with_suffix(".json"), json.dumps(meta) + "\n")
        prune(folder)
        return code


def _run_oneoff(app: App, entry: Entry, appliance: Appliance, trigger: str) -> int:
    app.settings.reload()
    release = releases.require_current(app)
    job = Deploy(
        app=app,
        out=appliance.out,
        id=int(app.settings.get("core", "deploy", 0) or 0),
        release=release.number,
        user=trigger,
        appliance=appliance,
        new_release=False,
        image=release.image,
        summary=f"cron {entry.id}",
        config=dict(release.config),
        env=dict(release.config),
        procfile=dict(release.procfile),
        app_json=dict(release.app_json),
    )
    result = appliance.hook.appliance_run_oneoff(deploy=job, command=entry.command, commit=False)
    if result is None:
        raise UserError(f"no scheduler runs one-off containers for {app.name}")
    return int(result.get("exit_code", 1))


def runs(app: App, entry_id: str) -> list[dict[str, Any]]:
    """Finished runs of an entry, oldest first, each with its `log` path."""
    folder = entry_dir(app, entry_id)
    if not folder.is_dir():
        return []
    found = []
    for meta_path in sorted(folder.glob("*.json")):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        meta["log"] = str(meta_path.with_suffix(".log"))
        found.append(meta)
    return found


def prune(folder: Path) -> None:
    metas = sorted(folder.glob("*.json"))
    for old in metas[:-KEEP]:
        old.unlink(missing_ok=True)
        old.with_suffix(".log").unlink(missing_ok=True)
