from typing import Any

from appliance import api
from appliance.api import App, Context, UserError, validate

MAX_LOCK_TIMEOUT = 86400  # seconds a command waits for the app's lock


def create(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app"))
    app = api.create_app(ctx.appliance, ns.app)
    ctx.out.section(f"Created {app.name}")
    return 0


def list_apps(ctx: Context) -> int:
    ctx.parse(formats=True)
    names = api.app_names()
    visible = ctx.access.visible_apps()
    if visible is not None:
        names = [name for name in names if name in visible]
    if ctx.out.json:
        ctx.out.data(names)
    else:
        ctx.out.raw("=====> My Apps")
        for name in names:
            ctx.out.raw(name)
    return 0


def _report(ctx: Context, app: App) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for section in reversed(ctx.appliance.hook.appliance_app_report(app=app)):
        fields.update(section or {})
    return fields


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app", nargs="?"), formats=True)
    apps = [App(ns.app).require()] if ns.app is not None else [App(n) for n in api.app_names()]
    for app in apps:
        api.recover_if_idle(app, ctx.appliance)
    reports = {app.name: _report(ctx, app) for app in apps}
    if ctx.out.json:
        keyed = {
            name: {k.lower().replace(" ", "_"): v for k, v in fields.items()}
            for name, fields in reports.items()
        }
        ctx.out.data(keyed[ns.app] if ns.app is not None else keyed)
    else:
        for name, fields in reports.items():
            ctx.out.report(f"{name} app information", fields)
    return 0


def destroy(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("--force", action="store_true", help="do not ask for confirmation")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if not ns.force and not ctx.confirm(
        f"WARNING: this destroys {app.name}, its containers, config and repository", app.name
    ):
        raise UserError("confirmation did not match; nothing destroyed")
    ctx.out.section(f"Destroying {app.name}")
    api.destroy_app(ctx.appliance, app)
    ctx.out.section(f"Destroyed {app.name}")
    return 0


def set_option(ctx: Context) -> int:
    app, _, seconds = ctx.parse_setting(["lock-timeout"])
    if seconds is None:
        app.settings.unset("core", "lock_timeout")
        ctx.out.section(f"lock-timeout of {app.name} reset to the default (600 s)")
    else:
        timeout = validate.whole_number(seconds, "lock-timeout (seconds)", 0, MAX_LOCK_TIMEOUT)
        app.settings.set("core", "lock_timeout", timeout)
        ctx.out.section(f"lock-timeout of {app.name} set to {timeout} s")
    return 0
