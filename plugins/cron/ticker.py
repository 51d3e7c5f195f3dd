"""The daemon's side of cron: at the start of each minute, start the entries due then."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from appliance import releases, state
from appliance.errors import Conflict, NotFound, UserError
from appliance.hooks import Hooks
from appliance.output import Output
from appliance.registry import Registry
from appliance.state import App

from . import entries, runner

CATCH_UP = 5
"""Minutes looked back when a tick came late (the host was busy or suspended)."""


class Ticker:
    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self.last: datetime | None = None

    def minutes(self, now: datetime) -> list[datetime]:
        current = now.replace(second=0, microsecond=0)
        if self.last is None or current - self.last > timedelta(minutes=CATCH_UP):
            due = [current]
        else:
            due = []
            step = self.last + timedelta(minutes=1)
            while step <= current:
                due.append(step)
                step += timedelta(minutes=1)
        if due:
            self.last = current
        return due

    def tick(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """Start every entry due in the minutes since the last tick; returns them."""
        minutes = self.minutes(now or datetime.now())
        started = []
        for name in state.app_names():
            app = App(name)
            try:
                release = releases.current(app)
                found = entries.parse(release.app_json) if release else []
            except UserError as exc:
                self.daemon.log(f"{name}: {exc}")
                continue
            for entry in found:
                if any(entry.schedule.matches(m) for m in minutes):
                    started.append((name, entry.id))
                    threading.Thread(
                        target=self.run, args=(app, entry), name=f"cron:{name}:{entry.id}",
                        daemon=True,
                    ).start()  # fmt: skip
        return started

    def run(self, app: App, entry: entries.Entry) -> None:
        out = Output(stream=self.daemon.stream)
        try:
            code = runner.run(app, entry, Hooks(Registry(), out), trigger="schedule")
        except Conflict as exc:
            self.daemon.log(f"{exc}: this run is skipped")
            return
        except NotFound:
            return  # destroyed since the tick
        except Exception as exc:
            self.daemon.log(f"{app.name} {entry.id} failed to run: {type(exc).__name__}: {exc}")
            return
        self.daemon.log(f"{app.name} {entry.id} ({entry.command}) exited with {code}", "cron")
