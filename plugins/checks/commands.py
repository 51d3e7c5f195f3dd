"""checks:report, checks:run, checks:enable, checks:skip, checks:disable, checks:set."""

from __future__ import annotations

import argparse

from appliance.api import App, Context, UserError, releases

from . import report as reporting
from . import runner, settings, spec


def _app_and_types(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app")
    parser.add_argument("types", nargs="?", help="comma-separated process types (default: all)")


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app"), formats=True)
    data = reporting.summary(App(ns.app).require())
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    fields = {
        "Deployed release": f"v{data['release']}" if data["release"] else "none",
        "Wait to retire": f"{data['wait_to_retire']} s",
        "Default uptime": f"{data['uptime']} s",
    }
    for process, facts in data["processes"].items():
        retire = "" if facts["wait_to_retire"] else ", old containers stop at once"
        fields[process] = f"{facts['status']}{retire}: {facts['summary']}"
    if data["problem"]:
        fields["Problem"] = data["problem"]
    ctx.out.report(f"{data['app']} checks", fields)
    rows = [
        [process, check["type"], check["name"], check["check"], check["source"]]
        for process, facts in data["processes"].items()
        for check in facts["checks"]
    ]
    ctx.out.table(["PROCESS", "TYPE", "NAME", "CHECK", "SOURCE"], rows)
    return 0


def enable(ctx: Context) -> int:
    return _change(ctx, "enable")


def skip(ctx: Context) -> int:
    return _change(ctx, "skipped")


def disable(ctx: Context) -> int:
    return _change(ctx, "disabled")


def _change(ctx: Context, action: str) -> int:
    ns = ctx.parse(_app_and_types)
    app = App(ns.app).require()
    types = settings.parse_types(ns.types)
    lists = settings.change(app, action, types)
    which = "every process type" if types is None else ", ".join(types)
    done = {"enable": "enabled", "skipped": "skipped", "disabled": "disabled"}[action]
    ctx.out.section(f"Checks {done} for {which} of {app.name}")
    if action == "skipped":
        ctx.out.info("Deploys switch traffic without checking the new containers;")
        ctx.out.info(f"old containers still drain for {settings.number(app, 'wait_to_retire')} s")
    elif action == "disabled":
        ctx.out.info("Deploys switch traffic without checking the new containers, and the")
        ctx.out.info("old containers stop at once: requests may fail during a deploy")
    for key in ("disabled", "skipped"):
        if lists[key]:
            shown = "every process type" if lists[key] == [settings.ALL] else ", ".join(lists[key])
            ctx.out.info(f"Checks {key} for: {shown}")
    return 0


def run(ctx: Context) -> int:
    def configure(parser: argparse.ArgumentParser) -> None:
        _app_and_types(parser)
        parser.add_argument("--process", help="comma-separated process types (default: all)")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    types = settings.parse_types(ns.process or ns.types)
    release = releases.require_current(app)
    found = ctx.appliance.hook.appliance_app_containers(app=app)
    if found is None:
        raise UserError(f"no scheduler reports the containers of {app.name}")
    containers = [c for c in found if types is None or c.process in types]
    if not containers:
        only = f" of {', '.join(types)}" if types else ""
        raise UserError(f"{app.name} has no running containers{only}")
    declared = spec.declared(release.app_json)
    checker = runner.Runner(
        app, ctx.appliance.hook, ctx.out, host=runner.first_domain(ctx.appliance.hook, app)
    )
    for process, group in runner.group(containers).items():
        status = settings.status(app, process)
        if status != "enabled":
            ctx.out.info(f"Checks are {status} for {process} at deploy; running them anyway")
        checker.run_process(process, group, declared.get(process))
    ctx.out.section(f"Checks passed for {app.name} (release v{release.number})")
    return 0


def set_option(ctx: Context) -> int:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app")
        parser.add_argument("key", choices=sorted(settings.OPTIONS))
        parser.add_argument("seconds", nargs="?")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    seconds = settings.set_number(app, ns.key, ns.seconds)
    if seconds is None:
        default = settings.DEFAULTS[settings.OPTIONS[ns.key]]
        ctx.out.section(f"{ns.key} of {app.name} reset to its default ({default} s)")
    else:
        ctx.out.section(f"{ns.key} of {app.name} set to {seconds} s")
    return 0
