from appliance.api import App, Context, NotFound

from . import appliance_app_urls, nginx


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app"), formats=True)
    app = App(ns.app).require()
    data = {
        "vhost": str(nginx.vhost_path(app)),
        "vhost_exists": nginx.vhost_path(app).is_file(),
        "targets": app.settings.get("proxy-nginx", "targets", []),
        "urls": appliance_app_urls(app),
    }
    if ctx.out.json:
        ctx.out.data(data)
    else:
        ctx.out.report(
            f"{app.name} proxy information",
            {
                "Vhost": data["vhost"] if data["vhost_exists"] else "none (not deployed)",
                "Targets": " ".join(data["targets"]) or "none",
                "URLs": " ".join(data["urls"]),
            },
        )
    return 0


def show_config(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app"))
    app = App(ns.app).require()
    path = nginx.vhost_path(app)
    if not path.is_file():
        raise NotFound(f"{app.name} has no nginx config yet: deploy it first")
    ctx.out.raw(path.read_text().rstrip("\n"))
    return 0


def access_logs(ctx: Context) -> int:
    return _logs(ctx, "access")


def error_logs(ctx: Context) -> int:
    return _logs(ctx, "error")


def _logs(ctx: Context, kind: str) -> int:
    from typing import Any

    from . import logfiles

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("-n", "--num", type=int, default=100, help="lines to show (0: all)")
        p.add_argument("-t", "--tail", action="store_true", help="keep following the file")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    file = logfiles.path(app, kind)
    lines, end = logfiles.last_lines(file, max(ns.num, 0))
    for line in lines:
        ctx.out.raw(line)
    if ns.tail:
        logfiles.follow(file, end, ctx.out.raw, ctx.out.reader_gone)
    return 0
