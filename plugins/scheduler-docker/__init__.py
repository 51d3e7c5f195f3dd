"""The Docker scheduler: new containers start beside the old; the old drain and stop
only after traffic has moved."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Any

from appliance.deploy import Deploy, Target
from appliance.hookspecs import hookimpl
from appliance.output import Output
from appliance.state import App

from . import containers as c


def _setting(app: App, key: str, default: int) -> int:
    return int(app.settings.get("scheduler-docker", key, default))


@hookimpl(trylast=True)
def appliance_scheduler_start(deploy: Deploy) -> list[Target]:
    app, out = deploy.app, deploy.out
    engine = c.client()
    current = deploy.previous_release or 0
    leftovers = [k for k in c.app_containers(engine, app.name) if c.release_of(k) > current]
    if leftovers:
        out.section("Removing containers left by an interrupted deploy")
        out.info(", ".join(k.name for k in leftovers))
        c.remove(leftovers, stop_timeout=0)
    port = c.free_port()
    env = {**deploy.env, "PORT": str(c.CONTAINER_PORT)}
    name = f"{app.name}.web.{deploy.release}"
    out.section(f"Starting {name}")
    container = engine.containers.run(
        deploy.image,
        detach=True,
        name=name,
        hostname=f"{app.name}-web",
        environment=env,
        labels={
            c.LABEL_APP: app.name,
            c.LABEL_RELEASE: str(deploy.release),
            c.LABEL_PROCESS: "web",
        },
        ports={f"{c.CONTAINER_PORT}/tcp": ("127.0.0.1", port)},
        restart_policy={"Name": "unless-stopped"},
        init=True,
    )
    c.wait_listening(container, c.CONTAINER_PORT, _setting(app, "ready_timeout", 60))
    out.info(f"{name} is listening")
    return [Target("127.0.0.1", port)]


@hookimpl(trylast=True)
def appliance_scheduler_abort(deploy: Deploy) -> bool:
    engine = c.client()
    new = [
        k for k in c.app_containers(engine, deploy.app.name) if c.release_of(k) == deploy.release
    ]
    c.remove(new, stop_timeout=0)
    return True


@hookimpl(trylast=True)
def appliance_scheduler_retire(deploy: Deploy) -> bool:
    """Old containers drain in a detached process, so the push ends as soon as
    traffic has moved."""
    wait = _setting(deploy.app, "wait_to_retire", 60)
    argv = [
        sys.executable,
        "-m",
        "appliance",
        "scheduler-docker:retire",
        deploy.app.name,
        "--before",
        str(deploy.release),
        "--wait",
        str(wait),
    ]
    if deploy.previous_release:
        deploy.out.info(f"Old containers drain for {wait} s, then stop")
    subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return True


@hookimpl
def appliance_app_destroy(app: App, out: Output) -> None:
    if app.settings.get("core", "last_release") is None:
        return
    engine = c.client()
    found = c.app_containers(engine, app.name)
    c.remove(found, stop_timeout=5)
    if found:
        out.info(f"Removed {len(found)} container(s)")
    import docker.errors

    for image in engine.images.list(name=f"appliance/{app.name}"):
        with contextlib.suppress(docker.errors.APIError):
            engine.images.remove(image.id, force=True)


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    if app.settings.get("core", "release") is None:
        return {"Containers": "none"}
    engine = c.client()
    found = c.app_containers(engine, app.name)
    return {"Containers": ", ".join(f"{k.name} ({k.status})" for k in found) or "none"}
