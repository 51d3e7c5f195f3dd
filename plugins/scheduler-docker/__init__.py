"""The Docker scheduler: new containers start beside the old; the old drain and stop
only after traffic has moved."""

from __future__ import annotations

import contextlib
import subprocess
from typing import Any

from appliance import api
from appliance.api import App, Container, Deploy, Output, Target, hookimpl, hostenv

from . import containers as c
from . import formation
from .container_spec import container_base, container_name, remember_ports, setting
from .options import create_container, start_container

DEFAULT_WAIT_TO_RETIRE = 60


@hookimpl(trylast=True)
def appliance_scheduler_start(deploy: Deploy) -> list[Target]:
    app, out = deploy.app, deploy.out
    engine = c.client()
    from . import retiring

    if retiring.retire_due(app, engine):
        out.info("Retired the containers of older releases past their retire deadline")
    current = deploy.previous_deploy or 0
    leftovers = [k for k in c.app_containers(engine, app.name) if c.deploy_of(k) > current]
    if leftovers:
        out.section("Removing containers left by an interrupted deploy")
        out.info(", ".join(k.name for k in leftovers))
        c.remove(leftovers, stop_timeout=0)
    targets: list[Target] = []
    started = []
    ports: dict[str, int] = {}
    for process, count in formation.plan(deploy):
        for index in range(1, count + 1):
            container, port = _start_one(engine, deploy, process, index)
            started.append(container)
            if port:
                targets.append(Target("127.0.0.1", port))
                ports[f"{process}.{index}"] = port
    remember_ports(deploy, ports)
    timeout = setting(app, "ready_timeout", 60)
    for container in started:
        if container.labels.get(c.LABEL_PROCESS) == "web":
            c.wait_listening(container, c.CONTAINER_PORT, timeout)
            out.info(f"{container.name} is listening")
    deploy.containers = [c.describe(k) for k in started]
    return targets


def _start_one(engine: Any, deploy: Deploy, process: str, index: int) -> tuple[Any, int | None]:
    port = c.free_port() if process == "web" else None
    deploy.out.section(f"Starting {container_name(deploy, process, index)}")
    assert deploy.image is not None
    container = create_container(
        engine,
        deploy.appliance.hook,
        deploy.app,
        deploy.image,
        process=process,
        phase="deploy",
        index=index,
        **container_base(deploy, process, index, port),
    )
    start_container(container, deploy.appliance.hook, deploy.app, "deploy")
    return container, port


@hookimpl(trylast=True)
def appliance_scheduler_abort(deploy: Deploy) -> bool:
    engine = c.client()
    new = [k for k in c.app_containers(engine, deploy.app.name) if c.deploy_of(k) == deploy.id]
    c.remove(new, stop_timeout=0)
    return True


@hookimpl(trylast=True)
def appliance_scheduler_retire(deploy: Deploy) -> bool:
    """Old containers drain, then stop. Their deadline is recorded first (state: see
    retiring.py), before the deploy reports its success; a detached process then
    retires them on time, so the push ends as soon as traffic has moved. Should that
    process die, the daemon, the next deploy or ps:report retire them instead."""
    wait = DEFAULT_WAIT_TO_RETIRE if deploy.wait_to_retire is None else deploy.wait_to_retire
    from appliance.api import self_command

    from . import retiring

    if deploy.previous_deploy:  # a first deploy has nothing to retire
        retiring.schedule(deploy.app, deploy.id, wait, setting(deploy.app, "stop_timeout", 10))
    argv = [
        *self_command(), "scheduler-docker:retire", deploy.app.name,
        "--before", str(deploy.id), "--wait", str(wait),
        "--app-id", deploy.app.identity(),
    ]  # fmt: skip
    if deploy.previous_deploy:
        deploy.out.info(f"Old containers drain for {wait} s, then stop")
    subprocess.Popen(
        argv,
        env=hostenv.host_env(APPLIANCE_ROOT=str(api.root())),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return True


@hookimpl(trylast=True)
def appliance_run_oneoff(deploy: Deploy, command: str, commit: bool) -> dict[str, Any]:
    from . import oneoff

    return oneoff.run(deploy, command, commit)


@hookimpl(trylast=True)
def appliance_app_containers(app: App) -> list[Container]:
    current = app.settings.get("core", "deploy")
    if current is None:
        return []
    engine = c.client()
    found = [k for k in c.app_containers(engine, app.name) if c.deploy_of(k) == current]
    return [c.describe(k) for k in found]


@hookimpl(trylast=True)
def appliance_container_exec(app: App, container: Container, command: list[str]) -> Any:
    result = c.client().containers.get(container.id).exec_run(command, demux=False)
    return [result.exit_code, (result.output or b"").decode(errors="replace")]


@hookimpl(trylast=True)
def appliance_container_logs(app: App, container: Container, lines: int) -> str:
    return c.last_logs(c.client().containers.get(container.id), lines)


@hookimpl(trylast=True)
def appliance_container_state(app: App, container: Container) -> dict[str, Any]:
    found = c.client().containers.get(container.id)
    status = found.attrs.get("State", {})
    return {
        "running": bool(status.get("Running")) and not status.get("Restarting"),
        "restarts": int(found.attrs.get("RestartCount", 0)),
        "exit_code": status.get("ExitCode"),
        "uptime": c.uptime(found),
    }


@hookimpl(trylast=True)
def appliance_image_exists(image: str) -> bool:
    import docker.errors

    try:
        c.client().images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


@hookimpl(trylast=True)
def appliance_image_prepare(image: str) -> dict[str, Any]:
    from . import images

    return images.prepare(image)


@hookimpl
def appliance_app_destroy(app: App, out: Output) -> None:
    if app.settings.get("core", "last_deploy") is None:
        return
    import docker.errors

    engine = c.client()
    found = c.app_containers(engine, app.name)
    c.remove(found, stop_timeout=5)
    if found:
        out.info(f"Removed {len(found)} container(s)")
    for repository in app.image_repositories():
        for image in engine.images.list(name=repository):
            for tag in image.tags:
                if tag.startswith(f"{repository}:"):
                    with contextlib.suppress(docker.errors.APIError):
                        c.untag(engine, tag)


@hookimpl
def appliance_daemon_start(daemon: Any) -> None:
    """Follow Docker events and keep every app's live release running."""
    from . import reconcile

    reconcile.start(daemon)


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    if app.settings.get("core", "last_deploy") is None:
        return {"Containers": "none"}
    engine = c.client()
    found = c.app_containers(engine, app.name)
    return {"Containers": ", ".join(f"{k.name} ({k.status})" for k in found) or "none"}
