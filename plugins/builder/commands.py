import re
from typing import Any

from appliance import api
from appliance.api import App, Context, UserError, cabundle

from . import builds

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
_MEMORY = re.compile(r"^\d{1,6}[kmg]$")
GLOBAL_KEYS = {
    "build-timeout": "timeout",
    "build-memory": "memory",
    "build-slots": "slots",
    "http-proxy": "http_proxy",
    "https-proxy": "https_proxy",
    "no-proxy": "no_proxy",
    "ca-bundle": "ca_bundle",
}
LIMIT_KEYS = ("timeout", "memory", "slots")  # see builds.LIMITS_TABLE
_PROXY = re.compile(r"^(https?://)?[A-Za-z0-9._:@/%-]+$")
_NO_PROXY = re.compile(r"^[A-Za-z0-9._:,*/-]+$")


def set_builder(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("name", nargs="?")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if not ns.name:
        app.settings.unset("builder", "selected")
        ctx.out.section(f"{app.name} detects its builder on each push")
        return 0
    if not _NAME.fullmatch(ns.name):
        raise UserError(f"invalid builder name {ns.name!r}")
    app.settings.set("builder", "selected", ns.name)
    ctx.out.section(f"{app.name} is built by the {ns.name} builder")
    return 0


def report(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    table = app.settings.table("builder")
    last = table.get("last") or {}
    data = {
        "selected": table.get("selected"),
        "last_builder": last.get("builder"),
        "last_reason": last.get("reason"),
    }
    if ctx.out.json:
        ctx.out.data(data)
    else:
        ctx.out.report(f"{app.name} builder information", {
            "Pinned builder": data["selected"] or "none (detected on each push)",
            "Last build": data["last_builder"] or "never built",
            "Why": data["last_reason"] or "-",
            "Detection order": "dockerfile, buildpack, auto (lowest priority first)",
        })  # fmt: skip
    return 0


def set_global(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("key", choices=sorted(GLOBAL_KEYS))
        p.add_argument("value", nargs="?")

    ns = ctx.parse(configure)
    settings = api.global_settings()
    key = GLOBAL_KEYS[ns.key]
    table = builds.LIMITS_TABLE if key in LIMIT_KEYS else "builder"
    if ns.value is None:
        settings.unset(table, key)
        settings.unset("builder", key)  # a limit, where earlier versions kept it
        ctx.out.section(f"{ns.key} reset to its default")
        return 0
    value: Any = ns.value
    if key in ("timeout", "slots"):
        if not ns.value.isdigit() or not 1 <= int(ns.value) <= (86400 if key == "timeout" else 64):
            raise UserError(f"{ns.key} must be a positive whole number")
        value = int(ns.value)
    elif key == "memory" and not _MEMORY.fullmatch(ns.value):
        raise UserError(f"{ns.key} must look like 512m or 2g")
    elif key in ("http_proxy", "https_proxy") and not _PROXY.fullmatch(ns.value):
        raise UserError(f"{ns.key} must be a URL like http://proxy.example.com:3128")
    elif key == "no_proxy" and not _NO_PROXY.fullmatch(ns.value):
        raise UserError(f"{ns.key} must be a comma-separated list of hosts")
    elif key == "ca_bundle":
        cabundle.read_ca_bundle(ns.value)  # builds mount it: only PEM certificates pass
    settings.set(table, key, value)
    if table != "builder":
        settings.unset("builder", key)  # where earlier versions kept it
    ctx.out.section(f"{ns.key} set to {value}")
    return 0
