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

from appliance.errors import PluginError
from appliance.hooks import Hooks
from appliance.state import App

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
    hooks: Hooks, app: App, process: str, phase: str, index: int, base: dict[str, Any]
) -> dict[str, Any]:
    """The `containers.create` keyword arguments of one container: `base` (the
    scheduler's own: name, command, environment, labels...) plus every plugin's."""
    assert phase in PHASES, phase
    found = hooks.each("appliance_container_options", app=app, process=process, phase=phase)
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
    hooks: Hooks,
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
    options = create_options(hooks, app, process, phase, index, base)
    container = c.create(engine, image, **options)
    try:
        hooks.call(
            "appliance_container_created", app=app, container=c.describe(container), phase=phase
        )
    except BaseException:
        container.remove(force=True)
        raise
    return container
