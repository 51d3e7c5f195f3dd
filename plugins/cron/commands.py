"""cron:list, cron:run, cron:logs."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.api import App, Context, NotFound, releases

from . import entries, runner


def _current_entries(app: App) -> list[entries.Entry]:
    release = releases.current(app)
    return entries.parse(release.app_json) if release else []


def list_entries(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    now = datetime.now()
    rows = []
    for entry in _current_entries(app):
        last = (runner.runs(app, entry.id) or [None])[-1]
        rows.append({
            **entry.to_dict(),
            "next_run": entry.schedule.next_after(now).strftime("%Y-%m-%dT%H:%M"),
            "last_run": None if last is None else {
                "started": last.get("started"), "exit_code": last.get("exit_code"),
            },
        })  # fmt: skip
    if ctx.out.json:
        ctx.out.data(rows)
        return 0
    if not rows:
        ctx.out.info(f'{app.name} has no cron entries (add them to app.json "cron")')
        return 0
    ctx.out.table(
        ["ID", "SCHEDULE", "COMMAND", "NEXT RUN", "LAST RUN"],
        [
            [r["id"], r["schedule"], r["command"], r["next_run"].replace("T", " "), _last(r)]
            for r in rows
        ],
    )
    return 0


def _last(row: dict[str, Any]) -> str:
    last = row["last_run"]
    if not last:
        return "-"
    return f"{str(last['started']).replace('T', ' ')} (exit {last['exit_code']})"


def _find(app: App, entry_id: str) -> entries.Entry:
    entries.valid_id(entry_id)
    for entry in _current_entries(app):
        if entry.id == entry_id:
            return entry
    raise NotFound(f"{app.name} has no cron entry {entry_id}: see cron:list {app.name}")


def run_entry(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("id")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    entry = _find(app, ns.id)
    ctx.out.section(f"Running cron entry {entry.id} of {app.name}: {entry.command}")
    return runner.run(app, entry, ctx.appliance, trigger=f"cron:run by {ctx.user}", echo=sys.stdout)


def logs(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("id", nargs="?")
        p.add_argument("-n", "--runs", type=int, default=1, help="runs per entry (1)")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if ns.id:
        ids = [entries.valid_id(ns.id)]
        if not runner.entry_dir(app, ns.id).is_dir():
            raise NotFound(f"cron entry {ns.id} of {app.name} has not run yet")
    else:
        ids = [e.id for e in _current_entries(app)]
    shown = 0
    for entry_id in ids:
        for run in runner.runs(app, entry_id)[-max(ns.runs, 1) :]:
            shown += 1
            took = f", {run.get('seconds')} s" if run.get("seconds") is not None else ""
            ctx.out.raw(
                f"=====> {entry_id} {run.get('started')} ({run.get('trigger')}, "
                f"exit {run.get('exit_code')}{took}): {run.get('command')}"
            )
            try:
                text = Path(run["log"]).read_text(errors="replace")
            except OSError:
                text = "(the output was not kept)\n"
            sys.stdout.write(text)
            sys.stdout.flush()
    if not shown:
        ctx.out.info(f"no cron runs of {app.name} yet")
    return 0
