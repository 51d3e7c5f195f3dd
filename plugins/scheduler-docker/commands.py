import time
from typing import Any

from appliance.command import Context
from appliance.state import App

from . import containers as c

OPTIONS = {"ready-timeout": "ready_timeout", "wait-to-retire": "wait_to_retire"}


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app"), formats=True)
    app = App(ns.app).require()
    engine = c.client()
    rows = [
        {
            "name": k.name,
            "process": k.labels.get(c.LABEL_PROCESS, ""),
            "release": c.release_of(k),
            "status": k.status,
            "image": k.attrs.get("Config", {}).get("Image", ""),
        }
        for k in sorted(c.app_containers(engine, app.name), key=c.release_of)
    ]
    if ctx.out.json:
        ctx.out.data(rows)
    else:
        ctx.out.table(
            ["CONTAINER", "PROCESS", "RELEASE", "STATUS"],
            [[r["name"], r["process"], f"v{r['release']}", r["status"]] for r in rows],
        )
    return 0


def set_option(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("key", choices=sorted(OPTIONS))
        p.add_argument("seconds", nargs="?", type=int)

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if ns.seconds is None:
        app.settings.unset("scheduler-docker", OPTIONS[ns.key])
        ctx.out.section(f"{ns.key} of {app.name} reset to its default")
    else:
        if ns.seconds < 0 or ns.seconds > 86400:
            from appliance.errors import UserError

            raise UserError(f"{ns.key} must be between 0 and 86400 seconds")
        app.settings.set("scheduler-docker", OPTIONS[ns.key], ns.seconds)
        ctx.out.section(f"{ns.key} of {app.name} set to {ns.seconds} s")
    return 0


def retire(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("--before", type=int, required=True)
        p.add_argument("--wait", type=int, default=0)

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    time.sleep(max(ns.wait, 0))
    engine = c.client()
    old = [k for k in c.app_containers(engine, app.name) if c.release_of(k) < ns.before]
    c.remove(old)
    return 0
