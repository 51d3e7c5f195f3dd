"""The Docker engine, for networks."""

from __future__ import annotations

from typing import Any

from appliance.api import NotFound, UserError

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
    """The network made by network:create and named exactly `name`. Docker would also
    answer to an id, an id prefix or a network someone else made (another tenant's,
    `host`): none of those is ours to join."""
    found = [
        n for n in engine.networks.list(names=[name], filters={"label": LABEL})
        if n.name == name and (n.attrs.get("Labels") or {}).get(LABEL) == "1"
    ]  # fmt: skip
    if len(found) != 1:
        raise NotFound(
            f"network {name!r} was not created by network:create: create it with "
            "network:create (networks made otherwise cannot be joined)"
        )
    return found[0]


def require_owned(engine: Any, names: list[str]) -> None:
    """Refuse to create a container on, or join it to, a network that is no longer the
    appliance's (removed, or replaced by one made outside it)."""
    for name in names:
        try:
            get(engine, name)
        except NotFound as exc:
            raise UserError(f"{exc}; change it with network:set") from None


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
    """A bridge network labelled as the appliance's; a name already taken (by exact
    name, whoever made it) is refused."""
    if any(n.name == name for n in engine.networks.list(names=[name])):
        from appliance.api import Conflict

        raise Conflict(f"network {name!r} already exists")
    engine.networks.create(name, driver="bridge", labels={LABEL: "1"})
