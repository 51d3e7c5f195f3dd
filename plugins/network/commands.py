"""network:create, network:destroy, network:list, network:set, network:report."""

from __future__ import annotations

from typing import Any

from appliance.api import App, Conflict, Context, UserError

from . import settings

CONTAINER_PORT = 5000


def create(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("name"))
    name = settings.network_name(ns.name)
    from . import engine

    engine.create(engine.client(), name)
    ctx.out.section(f"Created network {name}")
    ctx.out.info(f"Join an app with: network:set APP attach-post-deploy {name}")
    return 0


def destroy(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("name")
        p.add_argument("--force", action="store_true", help="do not ask for confirmation")

    ns = ctx.parse(configure)
    name = settings.network_name(ns.name)
    using = settings.users(name)
    if using:
        raise Conflict(
            f"network {name} is used by {', '.join(using)}: network:set APP PHASE "
            "without a name first"
        )
    from . import engine

    docker = engine.client()
    network = engine.get(docker, name)
    network.reload()
    attached = sorted((network.attrs.get("Containers") or {}).values(), key=str)
    if attached:
        names = ", ".join(str(c.get("Name")) for c in attached)
        raise Conflict(f"network {name} still has containers attached: {names}")
    if not ns.force and not ctx.confirm(f"Destroy network {name}?", name):
        raise UserError("confirmation did not match; nothing destroyed")
    network.remove()
    ctx.out.section(f"Destroyed network {name}")
    return 0


def list_networks(ctx: Context) -> int:
    ctx.parse(formats=True)
    from . import engine

    found = engine.client().networks.list(filters={"label": settings.LABEL})
    data = {n.name: settings.users(n.name) for n in sorted(found, key=lambda n: n.name)}
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    ctx.out.table(["NETWORK", "APPS"], [[n, ", ".join(a) or "-"] for n, a in data.items()])
    return 0


def set_network(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("phase", choices=list(settings.PHASES))
        p.add_argument("name", nargs="?")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    key = settings.PHASES[ns.phase]
    if ns.name:
        name = settings.network_name(ns.name)
        from . import engine

        engine.get(engine.client(), name)
    with app.command_lock("network:set"):
        if ns.name:
            app.settings.set("network", key, name)
        else:
            app.settings.unset("network", key)
    done = f"{ns.phase} of {app.name}: {ns.name}" if ns.name else f"{ns.phase} of {app.name} unset"
    ctx.out.section(f"{done}; applies at the next deploy or ps:restart")
    return 0


def report(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    found = settings.of(app)
    data = {
        phase: found.get(key) for phase, key in settings.PHASES.items()
    } | {"names": [f"http://{app.name}.web:{CONTAINER_PORT}/", f"{app.name}.PROCESS.N"]}
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    fields = {phase.capitalize(): found.get(key) or "-" for phase, key in settings.PHASES.items()}
    if found:
        fields["Reachable there as"] = f"{app.name}.PROCESS, {app.name}.PROCESS.N (port 5000)"
    ctx.out.report(f"{app.name} network", fields)
    return 0
