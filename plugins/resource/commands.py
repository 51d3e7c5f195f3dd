"""resource:limit, resource:limit-clear, resource:report."""

from __future__ import annotations

from typing import Any

from appliance.api import App, Context, UserError

from . import limits

APPLIES = "applies at the next deploy or ps:restart"


def _app_and_type(p: Any) -> None:
    p.add_argument("app")
    p.add_argument("--process-type", "-p", dest="process", help="one process type (default: all)")


def limit(ctx: Context) -> int:
    def configure(p: Any) -> None:
        _app_and_type(p)
        p.add_argument("--memory", "-m", help="512m, 1g...")
        p.add_argument("--cpu", "--cpus", dest="cpu", help="CPUs, such as 1 or 1.5")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if ns.memory is None and ns.cpu is None:
        raise UserError("give --memory and/or --cpu (see resource:report for what is set)", code=2)
    key = limits.scope(ns.process)
    wanted: dict[str, str] = {}
    if ns.memory is not None:
        limits.memory_bytes(ns.memory)
        wanted["memory"] = ns.memory.strip().lower()
    if ns.cpu is not None:
        limits.cpus(ns.cpu)
        wanted["cpu"] = ns.cpu.strip()
    with app.command_lock("resource:limit"):
        found = limits.stored(app)
        found[key] = {**found.get(key, {}), **wanted}
        limits.save(app, found)
    shown = ", ".join(f"{k} {v}" for k, v in wanted.items())
    who = "every process type" if ns.process is None else ns.process
    ctx.out.section(f"Limits of {app.name} ({who}): {shown}; {APPLIES}")
    return 0


def limit_clear(ctx: Context) -> int:
    ns = ctx.parse(_app_and_type)
    app = App(ns.app).require()
    with app.command_lock("resource:limit-clear"):
        found = limits.stored(app)
        if ns.process is None:
            found = {}
        else:
            found.pop(limits.scope(ns.process), None)
        limits.save(app, found)
    who = "every process type" if ns.process is None else ns.process
    ctx.out.section(f"Limits of {app.name} cleared ({who}); {APPLIES}")
    return 0


def report(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    found = limits.stored(app)
    data = {("all" if k == limits.ALL else k): v for k, v in sorted(found.items())}
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    ctx.out.raw(f"=====> {app.name} resource limits")
    if not data:
        ctx.out.raw("none (containers may use all the host's memory and CPUs)")
    for process, values in data.items():
        memory = f"{values['memory']} (swap capped)" if "memory" in values else "-"
        ctx.out.raw(f"{process}: memory {memory}, cpu {values.get('cpu', '-')}")
    return 0
