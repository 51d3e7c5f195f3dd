"""Every container the scheduler creates is made here: the scheduler's own options,
merged with those plugins give through `appliance_container_options`, then the
`appliance_container_created` event before it starts.

Whatever recreates a container of the live release (the daemon) must call
`create_container` too, with phase "restore", so mounts, limits and networks
survive the recreate.
"""

from __future__ import annotations

import copy
from typing import Any

from appliance.api import App, PluginError, UserError

from . import containers as c

OWNED = frozenset({
    "image", "name", "hostname", "labels", "environment", "command", "entrypoint",
    "ports", "restart_policy", "auto_remove", "detach", "remove", "stdout", "stderr",
})  # fmt: skip
"""What the scheduler decides itself: a plugin that sets one of these is refused."""

BUILTIN_NETWORKS = frozenset({"bridge", "default", "host", "none"})
PHASES = ("deploy", "restore", "run")


def merge(contributions: list[tuple[str, Any]]) -> dict[str, Any]:
    """One set of create options from each plugin's: lists add up, dicts merge, and a
    value two plugins set differently is an error that names both."""
    merged: dict[str, Any] = {}
    given_by: dict[str, str] = {}
    for plugin, options in contributions:
        if not options:
            continue
        if not isinstance(options, dict):
            raise PluginError(f"plugin {plugin}: appliance_container_options must return a dict")
        for key, value in options.items():
            if key in OWNED:
                raise PluginError(
                    f"plugin {plugin}: the container option {key!r} is the scheduler's own"
                )
            if key not in merged:
                merged[key], given_by[key] = copy.deepcopy(value), plugin
                continue
            clash = f"plugins {given_by[key]} and {plugin} both set the container option {key!r}"
            old = merged[key]
            if isinstance(old, list) and isinstance(value, list):
                old.extend(v for v in value if v not in old)
            elif isinstance(old, dict) and isinstance(value, dict):
                for inner, setting in value.items():
                    if inner in old and old[inner] != setting:
                        raise PluginError(f"{clash} ({inner!r} differently)")
                    old[inner] = setting
            elif old != value:
                raise PluginError(f"{clash}, differently")
    return merged


def create_options(
    hook: Any, app: App, process: str, phase: str, index: int, base: dict[str, Any]
) -> dict[str, Any]:
    """The `containers.create` keyword arguments of one container: `base` (the
    scheduler's own: name, command, environment, labels...) plus every plugin's."""
    assert phase in PHASES, phase
    found = hook.appliance_container_options.by_plugin(app=app, process=process, phase=phase)
    own = {k: v for k, v in base.items() if k in OWNED}
    options = {**merge([("scheduler-docker", {k: v for k, v in base.items() if k not in own}),
                        *found]), **own}  # fmt: skip
    network = options.get("network")
    if network and network not in BUILTIN_NETWORKS and process != "run" and index:
        aliases = [f"{app.name}.{process}", f"{app.name}.{process}.{index}"]
        endpoint = options.setdefault("networking_config", {}).setdefault(network, {})
        endpoint["Aliases"] = [*endpoint.get("Aliases", []), *aliases]
    return options


def create_container(
    engine: Any,
    hook: Any,
    app: App,
    image: str,
    *,
    process: str,
    phase: str,
    index: int = 0,
    **base: Any,
) -> Any:
    """Create (not start) a container with every plugin's options, then fire
    `appliance_container_created`; a failure there removes the container."""
    options = create_options(hook, app, process, phase, index, base)
    container = c.create(engine, image, **options)
    try:
        hook.appliance_container_created(app=app, container=c.describe(container), phase=phase)
    except BaseException:
        container.remove(force=True)
        raise
    return container


def binds_of(container: Any) -> list[str]:
    """The container's bind mounts as `SOURCE:TARGET:MODE`, as the engine recorded them."""
    host = container.attrs.get("HostConfig", {}) or {}
    found = [str(b) for b in host.get("Binds") or []]
    for mount in host.get("Mounts") or []:
        if mount.get("Type") == "bind":
            mode = "ro" if mount.get("ReadOnly") else "rw"
            found.append(f"{mount.get('Source')}:{mount.get('Target')}:{mode}")
    return found


def start_container(container: Any, hook: Any, app: App, phase: str) -> None:
    """Start `container`, after verifying its bind mounts again now: every plugin gives
    its options afresh (the storage plugin verifies each source as it does: inside its
    base, no symlink on the way, a directory, nested with no other source) and each of
    the container's binds must be one of them. A refused mount fails the start with the
    plugin's message; the container is not started. Every start the scheduler makes
    (a deploy, ps:start/ps:restart, one-off runs and cron, the daemon's restores) goes
    through here."""
    verify_binds(container, hook, app, phase)
    container.start()


def verify_binds(container: Any, hook: Any, app: App, phase: str) -> None:
    """Raise UserError unless each bind mount of `container` is one the plugins give
    now, every source verified afresh (see `start_container`)."""
    binds = binds_of(container)
    if not binds:
        return
    labels = container.labels or {}
    process = labels.get(c.LABEL_PROCESS, "run")
    index = int(labels.get(c.LABEL_INDEX, "0") or 0)
    fresh = create_options(hook, app, process, phase, index, {})
    allowed = {str(v) for v in fresh.get("volumes") or []}
    stale = [b for b in binds if b not in allowed]
    if stale:
        raise UserError(
            f"refusing to start {container.name}: its mount {stale[0]} is not one "
            f"{app.name} may mount now (ps:restart {app.name} makes its containers again)"
        )
