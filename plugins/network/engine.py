"""The Docker engine, for networks."""

from __future__ import annotations

from typing import Any

from appliance.errors import NotFound, UserError

from .settings import LABEL, aliases


def client() -> Any:
    import docker
    import docker.errors

    try:
        engine = docker.from_env(timeout=60)
        engine.ping()
    except docker.errors.DockerException as exc:
        raise UserError(f"cannot reach the Docker engine: {exc}") from None
    return engine


def get(engine: Any, name: str) -> Any:
    import docker.errors

    try:
        return engine.networks.get(name)
    except docker.errors.NotFound:
        raise NotFound(f"network {name!r} does not exist: create it with network:create") from None


def connect(engine: Any, network: str, container_id: str) -> bool:
    """Join the container to `network` under its aliases; False if it already is."""
    container = engine.containers.get(container_id)
    joined = container.attrs.get("NetworkSettings", {}).get("Networks", {}) or {}
    if network in joined:
        return False
    labels = container.labels
    names = aliases(
        labels.get("appliance.app", ""), labels.get("appliance.process", ""),
        labels.get("appliance.index"),
    )  # fmt: skip
    get(engine, network).connect(container, aliases=names or None)
    return True


def create(engine: Any, name: str) -> None:
    import docker.errors

    try:
        engine.networks.get(name)
    except docker.errors.NotFound:
        engine.networks.create(name, driver="bridge", labels={LABEL: "1"})
        return
    from appliance.errors import Conflict

    raise Conflict(f"network {name!r} already exists")
