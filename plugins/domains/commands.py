from appliance import api
from appliance.api import Context, validate

from . import global_domain


def set_global(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("domain"))
    domain = validate.domain(ns.domain)
    api.global_settings().set("domains", "global", domain)
    ctx.out.section(f"Global domain set to {domain}")
    ctx.out.info("Apps answer at APP." + domain + " from their next deploy")
    return 0


def report(ctx: Context) -> int:
    ctx.parse(formats=True)
    configured = api.global_settings().get("domains", "global")
    data = {"global": global_domain(), "configured": bool(configured)}
    if ctx.out.json:
        ctx.out.data(data)
    else:
        ctx.out.report("Global domains", {"Global domain": data["global"]})
    return 0
