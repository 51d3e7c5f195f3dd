"""`ps:report [APP]`: the processes of one app, or of every app, as each app's
scheduler reports them (`appliance_scheduler_report`, once per scheduler)."""

from __future__ import annotations

import time
from typing import Any

from appliance import api
from appliance.api import App, Appliance, Context, Output, UserError

HEADERS = ["APP", "CONTAINER", "PROCESS", "RELEASE", "STATUS", "HEALTH", "UP", "RESTARTS", ""]


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app", nargs="?"), formats=True)
    apps = [App(ns.app).require()] if ns.app is not None else [App(n) for n in api.app_names()]
    for app in apps:
        api.recover_if_idle(app, ctx.appliance)
    reports = rows_by_app(ctx.appliance, apps, one=ns.app is not None)
    if ctx.out.json:
        ctx.out.data(reports[ns.app] if ns.app is not None else reports)
        return 0
    rows = [
        [name, r["name"], r["process"], f"v{r['release']}", r["status"], r["health"],
         Output.short_duration(r["uptime"]), r["restarts"], _role(r)]
        for name, found_rows in reports.items()
        for r in found_rows
    ]  # fmt: skip
    ctx.out.table(HEADERS, rows)
    return 0


def rows_by_app(appliance: Appliance, apps: list[App], one: bool) -> dict[str, list[Any]]:
    """Each app's rows, its scheduler asked once for all the apps it runs. An app no
    installed scheduler answers for fails `ps:report APP`, and is a warning otherwise."""
    by_scheduler: dict[str, list[App]] = {}
    for app in apps:
        name = appliance.hook.appliance_app_scheduler(app=app) or ""
        by_scheduler.setdefault(name, []).append(app)
    found: dict[str, list[Any]] = {}
    for name, group in by_scheduler.items():
        answer = appliance.hook.appliance_scheduler_report(apps=group)
        if answer is None:
            names = ", ".join(a.name for a in group)
            message = f"no installed plugin is the scheduler {name!r} of {names}"
            if one:
                raise UserError(f"{message}: see scheduler:report")
            appliance.out.warn(message)
            continue
        found.update(answer)
    return {app.name: list(found.get(app.name, [])) for app in apps}


def _role(row: dict[str, Any]) -> str:
    if row["current"]:
        return "current"
    if row["retiring_until"] is None:
        return "new" if row["deploy"] > row["live"] else "old"
    return "retiring until " + time.strftime("%H:%M:%S", time.localtime(row["retiring_until"]))
