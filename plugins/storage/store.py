"""An app's mounts, in app.toml as `[storage] mounts = ["HOST:CONTAINER:MODE", ...]`,
and the rule that keeps a container from reaching outside its own sources.

Sources are never nested: no source is equal to, inside, or around another source,
of the same app or of any other app, nor around a directory a container still mounts
(a mount removed since the container was made), and the storage base itself is never
a source. So the directories a container can write into are its sources and what lies
below them, and no such directory is a parent of any source: the path from the base
down to each source is writable by the host alone. A container therefore cannot swap a
component of any source's path for a symlink (the way out: `sub` -> `/`, which the
kernel follows when the engine mounts the path again), and the path an engine mounts
on a restart is the one that was verified. That is why Docker's own restart policy
(and the daemon's `container.start()`) stay safe for containers with bind mounts; each
start the appliance makes still verifies every source again (scheduler-docker's
`start_container`), which refuses what an old install recorded before this rule and
whatever the host itself changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance import api
from appliance.api import App, UserError

from . import paths
from .paths import Mount, parse


def mounts(app: App) -> list[Mount]:
    return [parse(text) for text in app.settings.get("storage", "mounts", [])]


def save(app: App, found: list[Mount]) -> None:
    app.settings.set("storage", "mounts", [str(m) for m in found])


def recorded() -> list[tuple[str, Mount]]:
    """Every app's mounts, as (app, mount); a mount that no longer parses is left out
    here (it is refused wherever it is used)."""
    found: list[tuple[str, Mount]] = []
    for name in api.app_names():
        app = App(name)
        for text in app.settings.get("storage", "mounts", []):
            try:
                found.append((name, parse(str(text))))
            except UserError:
                continue
    return found


def nested_with(app: App, mount: Mount, source: Path) -> tuple[str, Mount] | None:
    """The first recorded mount (other than `mount` of `app` itself) whose source is
    equal to, inside or around `source`."""
    for name, other in recorded():
        if name == app.name and other.same_place(mount) and other.mode == mount.mode:
            continue
        if paths.nested(source, paths.canonical(other.host)):
            return name, other
    return None


def verified_volume(app: App, mount: Mount) -> str:
    """The Docker volume of `mount`, every rule checked now (see the module's doc)."""
    source = paths.verified_source(mount.host)
    clash = nested_with(app, mount, source)
    if clash:
        name, other = clash
        raise UserError(
            f"refusing the mount {mount} of {app.name}: its source is nested with "
            f"{other.host} (mounted by {name}) and sources may not contain one another; "
            f"remove one: storage:unmount {app.name} {mount.host}:{mount.container}, or "
            f"storage:unmount {name} {other.host}:{other.container}"
        )
    return mount.volume(source)


def problems(app: App) -> list[str]:
    """Why each of the app's mounts would be refused at the next start."""
    found = []
    for text in app.settings.get("storage", "mounts", []):
        try:
            verified_volume(app, parse(str(text)))
        except UserError as exc:
            found.append(str(exc))
    return found


def sources_in_use() -> list[tuple[str, str]]:
    """(container, source) of every bind mount of the appliance's containers, running
    or not: a mount removed from an app stays in its containers until they are made
    again, so a new source must not nest with it either. The engine unreachable, the
    answer is unknown: refuse rather than guess."""
    import docker
    import docker.errors

    try:
        engine = docker.from_env(timeout=30)
        found = engine.containers.list(
            all=True, sparse=True, filters={"label": ["appliance.app"]}
        )
    except docker.errors.DockerException as exc:
        raise UserError(f"cannot check the mounts in use: the Docker engine: {exc}") from None
    used: list[tuple[str, str]] = []
    for container in found:
        attrs: dict[str, Any] = container.attrs
        name = str(attrs.get("Names", ["?"])[0]).lstrip("/")
        for bind in attrs.get("Mounts") or []:
            if bind.get("Type") == "bind" and bind.get("Source"):
                used.append((name, str(bind["Source"])))
    return used
