"""`scheduler:set`, `scheduler:set-global` and `scheduler:report`.

An app's processes belong to the scheduler that started them: switching a running
app would leave them to a scheduler that no longer looks after the app. So a switch
is refused while the app runs (stop it with `ps:stop` first, then `ps:start` deploys
it on the new scheduler), unless `--force` says to leave them where they are.
"""

from __future__ import annotations

from typing import Any

from appliance import api
from appliance.api import App, Appliance, Context, Settings, UserError

from .choice import DEFAULT, KEY, TABLE, checked, installed


def set_scheduler(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("name", nargs="?")
        p.add_argument("--force", action="store_true", help="switch even while the app runs")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    name = checked(ns.name, ctx.appliance) if ns.name is not None else None
    with app.command_lock("scheduler:set"):
        running = _running_on(ctx.appliance, [app])
        previous = app.settings.get(TABLE, KEY)

        def undo() -> None:
            _put(app.settings, previous)

        _put(app.settings, name)
        _switched(ctx.appliance, [app], running, ns.force, undo)
    ctx.out.section(f"{app.name} runs on {_scheduler(ctx.appliance, app)}")
    return 0


def set_global(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("name", nargs="?")
        p.add_argument("--force", action="store_true", help="switch even while apps run")

    ns = ctx.parse(configure)
    name = checked(ns.name, ctx.appliance) if ns.name is not None else None
    settings = ctx.appliance.settings()
    previous = settings.get(TABLE, KEY)
    # Only apps without a choice of their own follow the host's default.
    apps = [App(n) for n in api.app_names()]
    following = [
        a for a in apps
        if not a.settings.get(TABLE, KEY) and _scheduler(ctx.appliance, a) != (name or DEFAULT)
    ]  # fmt: skip
    running = _running_on(ctx.appliance, following)

    def undo() -> None:
        _put(settings, previous)

    _put(settings, name)
    _switched(ctx.appliance, following, running, ns.force, undo)
    ctx.out.section(f"Apps without a scheduler of their own run on {name or DEFAULT}")
    return 0


def _put(settings: Settings, name: str | None) -> None:
    """Choose `name` in `settings` (an app's or the host's); None: no choice."""
    if name is None:
        settings.unset(TABLE, KEY)
    else:
        settings.set(TABLE, KEY, name)


def _running_on(appliance: Appliance, apps: list[App]) -> dict[str, str]:
    """The apps of `apps` whose live deploy runs, each with the scheduler running it."""
    return {a.name: _scheduler(appliance, a) for a in apps if _running(appliance, a)}


def _switched(
    appliance: Appliance, apps: list[App], running: dict[str, str], force: bool, undo: Any
) -> None:
    """After a change: refuse it (`undo()`) when it moved a running app to another
    scheduler, unless `force`, which warns what is left behind."""
    moved = [a for a in apps if a.name in running and _scheduler(appliance, a) != running[a.name]]
    if not moved:
        return
    if not force:
        undo()
        first = moved[0].name
        raise UserError(
            f"{', '.join(a.name for a in moved)} run(s) on {running[first]}: stop it first "
            f"(ps:stop {first}), switch, then ps:start {first} deploys it on the new "
            "scheduler; or pass --force to leave the running processes behind"
        )
    for app in moved:
        appliance.out.warn(
            f"{app.name}: what {running[app.name]} runs for it keeps running, unmanaged "
            f"(switch back and ps:stop {app.name}, or stop it by hand); "
            f"ps:start {app.name} deploys it on {_scheduler(appliance, app)}"
        )


def _scheduler(appliance: Appliance, app: App) -> str:
    found = appliance.hook.appliance_app_scheduler(app=app)
    return str(found) if found else DEFAULT


def _running(appliance: Appliance, app: App) -> bool:
    """Does the live deploy of `app` have a running process, as its scheduler says?"""
    if app.settings.get("core", "deploy") is None:
        return False
    rows = (appliance.hook.appliance_scheduler_report(apps=[app]) or {}).get(app.name, [])
    return any(r.get("current") and r.get("status") == "running" for r in rows)


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app", nargs="?"), formats=True)
    names = installed(ctx.appliance)
    if ns.app is None:
        every = {n: _scheduler(ctx.appliance, App(n)) for n in api.app_names()}
        if ctx.out.json:
            ctx.out.data({"apps": every, "installed": names})
        else:
            ctx.out.table(["APP", "SCHEDULER"], sorted(every.items()))
        return 0
    app = App(ns.app).require()
    host = ctx.appliance.settings().get(TABLE, KEY)
    data = {
        "scheduler": _scheduler(ctx.appliance, app),
        "selected": app.settings.get(TABLE, KEY),
        "global": host,
        "installed": names,
    }
    if ctx.out.json:
        ctx.out.data(data)
    else:
        ctx.out.report(f"{app.name} scheduler information", {
            "Scheduler": data["scheduler"],
            "App's choice": data["selected"] or "none (the host's default)",
            "Host's default": host or f"none ({DEFAULT})",
            "Installed schedulers": ", ".join(names) or "none",
        })  # fmt: skip
    return 0
