import json
import shlex
from typing import Any

from appliance import pipeline, releases
from appliance.command import Context
from appliance.errors import NotFound
from appliance.state import App

from . import store


def _change(ctx: Context, app: App, update: Any, summary: str, restart: bool) -> None:
    """Under the app's lock, save `update(vars)`; deploy it as a new release unless
    told not to. A failed deploy puts the old vars back: what is stored is what runs."""
    with app.lock(timeout=pipeline.lock_timeout(app), what=summary):
        before = store.load(app)
        store.save(app, update(before))
        current = releases.current(app)
        if not restart or current is None:
            ctx.out.info("Saved; they apply from the next deploy" if current else "Saved")
            return
        try:
            pipeline.deploy(
                app, ctx.hooks, ctx.out, user=ctx.user, summary=summary, image=current.image
            )
        except BaseException:
            store.save(app, before)
            raise


def _parser_app_items(name: str) -> Any:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument(name, nargs="+")
        p.add_argument("--no-restart", action="store_true", help="save without deploying")

    return configure


def set_vars(ctx: Context) -> int:
    ns = ctx.parse(_parser_app_items("assignments"))
    app = App(ns.app).require()
    changes = dict(store.parse_assignment(a) for a in ns.assignments)
    keys = ", ".join(sorted(changes))
    ctx.out.section(f"Setting config vars on {app.name}: {keys}")
    _change(ctx, app, lambda old: {**old, **changes}, f"Set {keys}", not ns.no_restart)
    return 0


def unset_vars(ctx: Context) -> int:
    ns = ctx.parse(_parser_app_items("keys"))
    app = App(ns.app).require()
    keys = [store.config_key(k) for k in ns.keys]
    missing = [k for k in keys if k not in store.load(app)]
    if missing:
        raise NotFound(f"{app.name} has no config var {', '.join(missing)}")
    ctx.out.section(f"Unsetting config vars on {app.name}: {', '.join(keys)}")
    _change(
        ctx,
        app,
        lambda old: {k: v for k, v in old.items() if k not in keys},
        f"Unset {', '.join(keys)}",
        not ns.no_restart,
    )
    return 0


def get_var(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("key")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    values = store.load(app)
    key = store.config_key(ns.key)
    if key not in values:
        raise NotFound(f"{app.name} has no config var {key}")
    ctx.out.raw(values[key])
    return 0


def show(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("--shell", action="store_true", help="as shell assignments")

    ns = ctx.parse(configure, formats=True)
    app = App(ns.app).require()
    values = store.load(app)
    if ctx.out.json:
        ctx.out.data(values)
    elif ns.shell:
        for key, value in values.items():
            ctx.out.raw(f"{key}={shlex.quote(value)}")
    else:
        ctx.out.raw(f"=====> {app.name} config vars")
        width = max((len(k) for k in values), default=0) + 1
        for key, value in values.items():
            ctx.out.raw(f"{(key + ':').ljust(width)}  {json.dumps(value)[1:-1]}")
    return 0
