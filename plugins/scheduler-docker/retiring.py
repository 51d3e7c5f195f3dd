"""Retire deadlines as state: old containers always retire, whoever is alive to do it.

After a switch, the deploy records in `apps/<app>/retire.toml` (one atomic write, before
its success is reported) the app's id and, per deploy, a deadline: the containers of
deploys older than it stop once the deadline has passed. The record is kept until
they are gone:

    app_id = "3f2a9c0d1e4b5a6c"
    [[pending]]
    before = 7               # the deploy that made them old
    deadline = 1733325000.5  # seconds since the epoch
    stop_timeout = 10

The detached `scheduler-docker:retire` is the timely path; the daemon (every few
seconds, and when the engine starts a container), the next deploy of the app and
`ps:report` retire whatever is past its deadline too, so a killed retire process, a
reboot or an engine that was down when it woke leaves nothing running for good.

A retire touches only containers of the recorded app id (an app destroyed and
created again has a new id, so an old record or a sleeping retire cannot touch it)
and of deploys older than both the entry and the current deploy. Containers made
before ids existed carry no id label: they can only belong to the app as it is, since
a destroy removes every container of the app.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from appliance import api
from appliance.api import App, Conflict

from . import containers as c

RECORD = "retire.toml"
LOCK = "retire.lock"


@dataclass(frozen=True)
class Pending:
    before: int
    deadline: float
    stop_timeout: int


def _path(app: App) -> Any:
    return app.path / RECORD


def read(app: App) -> tuple[str | None, list[Pending]]:
    """The record's app id and entries; none when there is no record."""
    data = api.read_toml(_path(app))
    entries = []
    for item in data.get("pending", []):
        try:
            entries.append(
                Pending(int(item["before"]), float(item["deadline"]), int(item["stop_timeout"]))
            )
        except (KeyError, TypeError, ValueError):
            continue  # a damaged entry: its deploys are retired as orphans
    app_id = data.get("app_id")
    return (str(app_id) if app_id else None), entries


def _write(app: App, app_id: str, entries: list[Pending]) -> None:
    """Write the record, without the entries another makes moot (one that covers as
    much, from a later deploy, with a deadline no later); none left, no record."""
    entries = [
        e for e in entries
        if not any(f != e and f.before >= e.before and f.deadline <= e.deadline for f in entries)
    ]  # fmt: skip
    if not entries:
        _path(app).unlink(missing_ok=True)
        return
    api.write_toml(_path(app), {
        "app_id": app_id,
        "pending": [
            {"before": e.before, "deadline": e.deadline, "stop_timeout": e.stop_timeout}
            for e in entries
        ],
    })  # fmt: skip


def _locked(app: App) -> Any:
    return api.lock_file(app.path / LOCK, f"retiring {app.name}", timeout=60, announce=False)


def schedule(app: App, before: int, wait: float, stop_timeout: int) -> Pending:
    """Record that deploys older than `before` retire in `wait` seconds."""
    app_id = app.identity()
    entry = Pending(before, time.time() + max(wait, 0), stop_timeout)
    with _locked(app):
        recorded_id, entries = read(app)
        kept = [e for e in entries if recorded_id == app_id and e.before != before]
        _write(app, app_id, [*kept, entry])
    return entry


def window(app: App) -> list[Pending]:
    """The entries still pending for this app (an entry of another app id is none)."""
    if not _path(app).is_file():
        return []
    recorded_id, entries = read(app)
    return entries if recorded_id == app.settings.get("core", "id") else []


def retiring_until(entries: list[Pending], deploy: int) -> float | None:
    """When the containers of `deploy` retire: the earliest deadline covering it."""
    found = [e.deadline for e in entries if deploy < e.before]
    return min(found) if found else None


def next_deadline(app: App) -> float | None:
    found = [e.deadline for e in window(app)]
    return min(found) if found else None


def overdue(app: App, containers: list[Any], now: float) -> bool:
    """Whether any of the app's `containers` (as listed) belongs to an old deploy that
    is past its deadline or has none: a cheap look before `retire_due`."""
    current = int(app.settings.get("core", "deploy") or 0)
    pending = window(app)
    for k in containers:
        deploy = c.deploy_of(k)
        if k.labels.get(c.LABEL_PROCESS) == "run" or deploy >= current:
            continue
        until = retiring_until(pending, deploy)
        if until is None or until <= now:
            return True
    return False


def ours(container: Any, app_id: str) -> bool:
    found = container.labels.get(c.LABEL_APP_ID)
    return found is None or found == app_id


def due(app: App, engine: Any, now: float) -> tuple[list[Any], list[Pending], int]:
    """The containers to retire now, the entries that are done with them, and the
    longest stop timeout among those entries."""
    app.settings.reload()
    current = int(app.settings.get("core", "deploy") or 0)
    app_id = app.settings.get("core", "id")
    recorded_id, entries = read(app)
    if not current or not app_id:
        return [], [], 0
    if recorded_id != app_id:
        entries = []  # not this app's record (an app of the same name before it)
        _path(app).unlink(missing_ok=True)
    passed = [e for e in entries if e.deadline <= now]
    found, orphans = [], []
    for k in c.app_containers(engine, app.name):
        deploy = c.deploy_of(k)
        if deploy >= current or not ours(k, str(app_id)):
            continue
        covering = [e for e in entries if deploy < e.before]
        if any(e.deadline <= now for e in covering):
            found.append(k)
        elif not covering:
            orphans.append(k)
    if orphans and _orphans_allowed(app):
        found.extend(orphans)
    stop = max([e.stop_timeout for e in passed], default=10)
    return found, passed, stop


def _orphans_allowed(app: App) -> bool:
    """A container of an old deploy with no entry (its deploy died between the switch
    and the record, or the record predates ids) retires at once, but only while no
    deploy holds the app's lock: a deploy in its switch writes the entry next."""
    try:
        with app.lock(timeout=0, what="retire check", announce=False):
            return True
    except Conflict:
        return False


def retire_due(app: App, engine: Any, log: Any = None) -> int:
    """Stop and remove what is past its deadline; drop the entries done. Returns how
    many containers were retired."""
    if not (app.path / "app.toml").is_file():
        return 0  # destroyed: nothing of it is left to retire
    found, passed, stop = due(app, engine, time.time())
    if found:
        c.remove(found, stop_timeout=stop)
        if log:
            log(f"{app.name}: retired {', '.join(k.name for k in found)} (past its deadline)")
    if passed:
        with _locked(app):
            recorded_id, entries = read(app)
            left = [e for e in entries if e not in passed]
            if recorded_id:
                _write(app, recorded_id, left)
    return len(found)
