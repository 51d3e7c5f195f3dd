"""How the scheduler makes an app's containers: name, command, environment, labels,
published port and restart policy, and the settings it reads. A deploy (`__init__`)
and the daemon's restore (`reconcile`) make a container the same way from here."""

from __future__ import annotations

from typing import Any

from appliance.api import App, Deploy

from . import containers as c


def setting(app: App, key: str, default: int) -> int:
    return int(app.settings.get("scheduler-docker", key, default))


def process_command(deploy: Deploy, process: str) -> list[str] | None:
    """The Procfile's command for `process`, run by a shell so `$PORT` expands;
    None runs the image's own CMD."""
    command = deploy.procfile.get(process)
    return ["/bin/sh", "-c", command] if command else None


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
