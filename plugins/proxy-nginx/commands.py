"""The nginx-only commands, with Dokku's names; `proxy:logs` (the `proxy` plugin)
shows the same logs through `appliance_proxy_logs`, whatever proxy routes the app."""

from typing import Any

from appliance.api import App, Context


def access_logs(ctx: Context) -> int:
    return _logs(ctx, "access")


def error_logs(ctx: Context) -> int:
    return _logs(ctx, "error")


def _logs(ctx: Context, kind: str) -> int:
    from . import logfiles

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("-n", "--num", type=int, default=100, help="lines to show (0: all)")
        p.add_argument("-t", "--tail", action="store_true", help="keep following the file")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    logfiles.show(app, kind, ns.num, ns.tail, ctx.out)
    return 0
