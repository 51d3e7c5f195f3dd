"""The Docker scheduler, `docker-local`: new containers start beside the old; the old
drain and stop only after traffic has moved. Every hook that acts on an app returns
None for an app another scheduler runs (`claim.handles`)."""

from __future__ import annotations

import contextlib
import subprocess
from typing import Any

from appliance import api
from appliance.api import (
    App,
    Appliance,
    Container,
    Deploy,
    Output,
    Release,
    Target,
    hookimpl,
    hostenv,
)

from . import containers as c
from . import formation
from .claim import NAME, handles
from .container_spec import container_base, container_name, remember_ports, setting
from .options import create_container, start_container

DEFAULT_WAIT_TO_RETIRE = 60


@hookimpl(trylast=True)
def appliance_scheduler_start(deploy: Deploy) -> list[Target] | None:
    app, out = deploy.app, deploy.out
    if not handles(app, deploy.appliance):
        return None
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
def appliance_scheduler_abort(deploy: Deploy) -> bool | None:
    if not handles(deploy.app, deploy.appliance):
        return None
    engine = c.client()
    new = [k for k in c.app_containers(engine, deploy.app.name) if c.deploy_of(k) == deploy.id]
    c.remove(new, stop_timeout=0)
    return True


@hookimpl(trylast=True)
def appliance_scheduler_retire(deploy: Deploy) -> bool | None:
    """Old containers drain, then stop. Their deadline is recorded first (state: see
    retiring.py), before the deploy reports its success; a detached process then
    retires them on time, so the push ends as soon as traffic has moved. Should that
    process die, the daemon, the next deploy or ps:report retire them instead.

    A deploy that went live (ps:start, a push, a restart) ends a ps:stop: the daemon
    keeps the app's containers running again."""
    if not handles(deploy.app, deploy.appliance):
        return None
    deploy.app.settings.unset("scheduler-docker", "stopped")
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
def appliance_run_oneoff(deploy: Deploy, command: str, commit: bool) -> dict[str, Any] | None:
    if not handles(deploy.app, deploy.appliance):
        return None
    from . import oneoff

    return oneoff.run(deploy, command, commit)


@hookimpl(trylast=True)
def appliance_app_containers(app: App, appliance: Appliance) -> list[Container] | None:
    if not handles(app, appliance):
        return None
    current = app.settings.get("core", "deploy")
    if current is None:
        return []
    engine = c.client()
    found = [k for k in c.app_containers(engine, app.name) if c.deploy_of(k) == current]
    return [c.describe(k) for k in found]


@hookimpl(trylast=True)
def appliance_container_exec(
    app: App, container: Container, command: list[str], appliance: Appliance
) -> Any:
    if not handles(app, appliance):
        return None
    result = c.client().containers.get(container.id).exec_run(command, demux=False)
    return [result.exit_code, (result.output or b"").decode(errors="replace")]


@hookimpl(trylast=True)
def appliance_container_logs(
    app: App, container: Container, lines: int, appliance: Appliance
) -> str | None:
    if not handles(app, appliance):
        return None
    return c.last_logs(c.client().containers.get(container.id), lines)


@hookimpl(trylast=True)
def appliance_container_state(
    app: App, container: Container, appliance: Appliance
) -> dict[str, Any] | None:
    if not handles(app, appliance):
        return None
    found = c.client().containers.get(container.id)
    status = found.attrs.get("State", {})
    return {
        "running": bool(status.get("Running")) and not status.get("Restarting"),
        "restarts": int(found.attrs.get("RestartCount", 0)),
        "exit_code": status.get("ExitCode"),
        "uptime": c.uptime(found),
    }


@hookimpl(trylast=True)
def appliance_image_exists(image: str, app: App, appliance: Appliance) -> bool | None:
    if not handles(app, appliance):
        return None
    import docker.errors

    try:
        c.client().images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


@hookimpl(trylast=True)
def appliance_image_prepare(image: str, app: App, appliance: Appliance) -> dict[str, Any] | None:
    if not handles(app, appliance):
        return None
    from . import images

    return images.prepare(image)


@hookimpl
def appliance_app_destroy(app: App, out: Output, appliance: Appliance) -> None:
    if app.settings.get("core", "last_deploy") is None or not handles(app, appliance):
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
def appliance_app_report(app: App, appliance: Appliance) -> dict[str, Any]:
    if not handles(app, appliance):
        return {}
    if app.settings.get("core", "last_deploy") is None:
        return {"Containers": "none"}
    engine = c.client()
    found = c.app_containers(engine, app.name)
    return {"Containers": ", ".join(f"{k.name} ({k.status})" for k in found) or "none"}


@hookimpl
def appliance_scheduler_names() -> list[str]:
    return [NAME]


@hookimpl(trylast=True)
def appliance_scheduler_stop(app: App, appliance: Appliance) -> bool | None:
    if not handles(app, appliance):
        return None
    from . import processes

    processes.stop(app, appliance.out)
    return True


@hookimpl(trylast=True)
def appliance_scheduler_report(
    apps: list[App], appliance: Appliance
) -> dict[str, list[dict[str, Any]]] | None:
    if not all(handles(app, appliance) for app in apps):
        return None
    from . import processes

    return processes.report(apps)


@hookimpl(trylast=True)
def appliance_scheduler_logs(
    app: App, lines: int, follow: bool, process: str | None, quiet: bool, appliance: Appliance
) -> bool | None:
    if not handles(app, appliance):
        return None
    from . import logs

    deploy_id = app.settings.get("core", "deploy")
    engine = c.client(timeout=3600)
    logs.show(engine, app.name, deploy_id, appliance.out, lines, follow, process, quiet)
    return True


@hookimpl(trylast=True)
def appliance_scheduler_run(
    app: App, release: Release, argv: list[str], mode: str, appliance: Appliance
) -> int | None:
    if not handles(app, appliance):
        return None
    from . import oneoff, sessions

    hook, image, env = appliance.hook, release.image, release.config
    if mode == "tty":
        return sessions.run_tty(hook, app.name, image, env, argv)
    if mode == "piped":
        return sessions.run_piped(hook, app.name, image, env, argv, appliance.out.reader_gone)
    if mode != "attached":
        raise ValueError(f"unknown run mode {mode!r}: tty, piped or attached")
    return oneoff.run_attached(hook, app.name, image, env, argv, appliance.out)


@hookimpl(trylast=True)
def appliance_scheduler_run_detached(
    app: App, release: Release, argv: list[str], appliance: Appliance
) -> str | None:
    if not handles(app, appliance):
        return None
    from . import oneoff

    return oneoff.run_detached(appliance.hook, app.name, release.image, release.config, argv)


@hookimpl(trylast=True)
def appliance_scheduler_oneoffs(app: App, appliance: Appliance) -> list[dict[str, Any]] | None:
    if not handles(app, appliance):
        return None
    from . import sessions

    return sessions.oneoffs(app)


@hookimpl(trylast=True)
def appliance_scheduler_enter(
    app: App, container: str | None, command: list[str], tty: bool, appliance: Appliance
) -> int | None:
    if not handles(app, appliance):
        return None
    from . import sessions

    return sessions.enter(app, container, command, tty, appliance.out)
