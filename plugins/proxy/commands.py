"""The proxy commands. Choosing a proxy is this plugin's; everything else is asked of
the app's proxy through hooks (`appliance_proxy_report`, `_config`, `_validate`,
`_logs`), so the commands work the same whatever plugin routes the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance import api
from appliance.api import App, Context, NotFound, UserError

from . import choice


def set_proxy(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("name", nargs="?")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if ns.name is not None:
        name = choice.checked_name(ctx.appliance, ns.name)
        _change(ctx, app, lambda s: s.set(choice.TABLE, "selected", name), f"Proxy {name}")
    else:
        _change(ctx, app, lambda s: s.unset(choice.TABLE, "selected"), "Default proxy")
    return 0


def disable(ctx: Context) -> int:
    app = App(ctx.parse(lambda p: p.add_argument("app")).app).require()
    _change(ctx, app, lambda s: s.set(choice.TABLE, "disabled", True), "Proxy disabled")
    return 0


def enable(ctx: Context) -> int:
    app = App(ctx.parse(lambda p: p.add_argument("app")).app).require()
    _change(ctx, app, lambda s: s.unset(choice.TABLE, "disabled"), "Proxy enabled")
    return 0


def _change(ctx: Context, app: App, change: Callable[[api.Settings], None], what: str) -> None:
    """Change the app's proxy settings. When that changes what routes a deployed app,
    deploy it again at once (new containers of the same release), so the new proxy
    routes it (or none does); the old proxy lets go once traffic has moved
    (`appliance_proxy_removed`, from this plugin's post-deploy). A failed deploy
    puts the settings back: the old proxy keeps serving."""
    with app.command_lock(what.lower()):
        before = dict(app.settings.table(choice.TABLE))
        old = choice.routed_by(ctx.appliance, app)
        change(app.settings)
        new = choice.routed_by(ctx.appliance, app)
        if new == old:
            ctx.out.section(f"{app.name} is routed by {new or 'no proxy'} already: nothing to do")
            return
        ctx.out.section(f"{app.name} is routed by {new or 'no proxy'} from now on")
        if api.releases.current(app) is None:
            return
        try:
            api.restart(ctx.appliance, app, summary=what, same_config=True)
        except BaseException:
            app.settings.replace(choice.TABLE, before)
            raise


def set_global(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("name", nargs="?"))
    settings = api.global_settings()
    if ns.name is not None:
        settings.set(choice.TABLE, "selected", choice.checked_name(ctx.appliance, ns.name))
    else:
        settings.unset(choice.TABLE, "selected")
    chosen = choice.host_choice() or f"{choice.DEFAULT} (the built-in default)"
    ctx.out.section(f"Apps that chose no proxy are routed by {chosen}")
    ctx.out.info("Each from its next deploy (ps:restart APP to move it now)")
    return 0


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app", nargs="?"), formats=True)
    apps = [App(ns.app).require()] if ns.app is not None else [App(n) for n in api.app_names()]
    reports = {app.name: _facts(ctx, app) for app in apps}
    if ctx.out.json:
        keyed = {
            name: {k.lower().replace(" ", "_"): v for k, v in fields.items()}
            for name, fields in reports.items()
        }
        ctx.out.data(keyed[ns.app] if ns.app is not None else keyed)
        return 0
    for name, fields in reports.items():
        shown = {
            k: " ".join(map(str, v)) if isinstance(v, list) else ("none" if v is None else v)
            for k, v in fields.items()
        }
        ctx.out.report(f"{name} proxy information", shown)
    return 0


def _facts(ctx: Context, app: App) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "Proxy enabled": not choice.disabled(app),
        "Proxy type": choice.app_choice(app),
        "Proxy global type": choice.host_choice() or choice.DEFAULT,
        "Proxy computed type": choice.routed_by(ctx.appliance, app),
    }
    return {**facts, **(ctx.appliance.hook.appliance_proxy_report(app=app) or {})}


def show_config(ctx: Context) -> int:
    app = App(ctx.parse(lambda p: p.add_argument("app")).app).require()
    text = ctx.appliance.hook.appliance_proxy_config(app=app)
    if text is None:
        raise NotFound(_unanswered(ctx, app, "shows no configuration"))
    ctx.out.raw(str(text).rstrip("\n"))
    return 0


def validate(ctx: Context) -> int:
    app = App(ctx.parse(lambda p: p.add_argument("app")).app).require()
    problems = ctx.appliance.hook.appliance_proxy_validate(app=app)
    if problems is None:
        raise NotFound(_unanswered(ctx, app, "cannot validate"))
    if problems:
        raise UserError(f"{app.name}'s proxy configuration is invalid: " + "; ".join(problems))
    ctx.out.section(f"{app.name}'s proxy configuration is valid")
    return 0


def logs(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("--error", action="store_true", help="the error log, not the access log")
        p.add_argument("-n", "--num", type=int, default=100, help="lines to show (0: all)")
        p.add_argument("-t", "--tail", action="store_true", help="keep following the log")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    shown = ctx.appliance.hook.appliance_proxy_logs(
        app=app,
        kind="error" if ns.error else "access",
        lines=max(ns.num, 0),
        follow=ns.tail,
        out=ctx.out,
    )
    if not shown:
        raise NotFound(_unanswered(ctx, app, "keeps no logs"))
    return 0


def _unanswered(ctx: Context, app: App, what: str) -> str:
    proxy = choice.routed_by(ctx.appliance, app)
    if proxy is None:
        return f"{app.name} is not routed (proxy:enable {app.name})"
    return f"{app.name}'s proxy {proxy!r} {what} (is its plugin installed? see plugin:list)"
