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
from .options import create_container, start_container


def setting(app: App, key: str, default: int) -> int:
    return int(app.settings.get("scheduler-docker", key, default))


DEFAULT_WAIT_TO_RETIRE = 60


def process_command(deploy: Deploy, process: str) -> list[str] | None:
    """The Procfile's command for `process`, run by a shell so `$PORT` expands;
    None runs the image's own CMD."""
    command = deploy.procfile.get(process)
    return ["/bin/sh", "-c", command] if command else None


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


def container_name(deploy: Deploy, process: str, index: int) -> str:
    return f"{deploy.app.name}.{process}.{index}-d{deploy.id}"


def container_base(deploy: Deploy, process: str, index: int, port: int | None) -> dict[str, Any]:
    """The scheduler's own create options for one container of `deploy`: a deploy and
    the daemon's restore (reconcile.py) make a container the same way."""
    app = deploy.app
    return dict(
        command=process_command(deploy, process),
        name=container_name(deploy, process, index),
        hostname=f"{app.name}-{process}-{index}",
        environment={
            **deploy.env,
            "PORT": str(c.CONTAINER_PORT),
            "APPLIANCE_RELEASE": f"v{deploy.release}",
            "DYNO": f"{process}.{index}",
        },
        labels={
            c.LABEL_APP: app.name,
            c.LABEL_APP_ID: app.identity(),
            c.LABEL_DEPLOY: str(deploy.id),
            c.LABEL_RELEASE: str(deploy.release),
            c.LABEL_PROCESS: process,
            c.LABEL_INDEX: str(index),
        },
        ports={f"{c.CONTAINER_PORT}/tcp": ("127.0.0.1", port)} if port else {},
        restart_policy=restart_policy(app),
        init=True,
    )


def remember_ports(deploy: Deploy, ports: dict[str, int]) -> None:
    """The loopback port of each web container, by deploy: a container the daemon
    creates again gets its old port, so nginx's upstream stays right."""
    kept = {
        key: value
        for key, value in deploy.app.settings.table("scheduler-docker").get("ports", {}).items()
        if key.isdigit() and int(key) >= (deploy.previous_deploy or 0)
    }
    kept[str(deploy.id)] = ports
    deploy.app.settings.set("scheduler-docker", "ports", kept)


DEFAULT_RESTART_POLICY = "on-failure:10"
"""The restart policy of an app's containers unless `ps:set APP restart-policy` says
otherwise. Docker restarts a crashing container up to 10 times; the daemon
(reconcile.py) starts what Docker leaves stopped, after an engine restart too.

The engine re-mounts a container's bind mounts on such a restart without asking us.
That stays safe: storage sources are never nested (plugins/storage/store.py), so no
container can write a parent of any source and swap a path component for a symlink;
what the rule cannot cover (a mount an old install recorded, a path the host changed)
the daemon's guard (guard.py) catches: such a container loses its restart policy and
is stopped if the engine started it. Every start the appliance makes verifies the
mounts again (`options.start_container`)."""


def restart_policy(app: App) -> dict[str, Any]:
    """`ps:set APP restart-policy` (or `scheduler-docker:set`), else the default."""
    name, _, count = str(
        app.settings.get("scheduler-docker", "restart_policy", DEFAULT_RESTART_POLICY)
    ).partition(":")
    policy: dict[str, Any] = {"Name": name}
    if count:
        policy["MaximumRetryCount"] = int(count)
    return policy


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
    from .commands import untag

    for repository in app.image_repositories():
        for image in engine.images.list(name=repository):
            for tag in image.tags:
                if tag.startswith(f"{repository}:"):
                    with contextlib.suppress(docker.errors.APIError):
                        untag(engine, tag)


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
