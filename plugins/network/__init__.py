"""Apps on a shared Docker network reach each other as `APP.PROCESS` (round robin
over the type's containers) and `APP.PROCESS.N`, on the container port 5000."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import App, hookimpl

from . import settings

if TYPE_CHECKING:
    from appliance.api import Container, Deploy


@hookimpl
def appliance_container_options(app: App, process: str, phase: str) -> dict[str, Any]:
    """The initial network, checked again now: a name kept in app.toml is used only
    while it still names a network the appliance made."""
    initial = settings.of(app).get("initial")
    if not initial:
        return {}
    from . import engine

    engine.require_owned(engine.client(), [settings.network_name(initial)])
    return {"network": initial}


@hookimpl
def appliance_container_created(app: App, container: Container, phase: str) -> None:
    wanted = settings.to_connect(app, phase)
    if not wanted:
        return
    from . import engine

    docker = engine.client()
    engine.require_owned(docker, [settings.network_name(n) for n in wanted])
    for network in wanted:
        engine.connect(docker, network, container.id)


@hookimpl
def appliance_post_deploy(deploy: Deploy) -> None:
    """The deploy is live: its containers join the attach-post-deploy network now, so
    they answer there only once they have passed their checks."""
    network = settings.of(deploy.app).get("post_deploy")
    if not network or not deploy.containers:
        return
    from . import engine

    docker = engine.client()
    engine.require_owned(docker, [settings.network_name(network)])
    joined = [k.name for k in deploy.containers if engine.connect(docker, network, k.id)]
    if joined:
        deploy.out.info(f"Attached {', '.join(joined)} to network {network}")


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    found = settings.of(app)
    names = {v: k for k, v in settings.PHASES.items()}
    return {"Networks": ", ".join(f"{v} ({names[k]})" for k, v in found.items()) or "none"}
