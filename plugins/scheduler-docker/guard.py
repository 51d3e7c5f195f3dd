"""The daemon's guard over bind mounts the engine (re)starts on its own.

Docker's restart policy re-mounts a container's sources without asking the appliance.
With the storage plugin's rule (sources never nested: no container can write a parent
of any source, see plugins/storage/store.py) that is safe for every mount recorded
since the rule exists. A mount recorded before it, now nested, or a source the host
itself changed, fails verification: its container then gets restart policy `no`, so
only the appliance starts it again (and `start_container` refuses), and should the
engine have started it meanwhile, it is stopped at once.
"""

from __future__ import annotations

from typing import Any

from appliance.errors import UserError
from appliance.hooks import Hooks
from appliance.output import Output
from appliance.registry import Registry
from appliance.state import App

from . import containers as c
from .options import binds_of, verify_binds

UNGUARDED = ("run", "build")


def guard(found: list[Any], started: set[str], log: Any) -> None:
    """Check every container of `found` that has bind mounts; `started` holds the ids
    the engine reported starting since the last look."""
    hooks: Hooks | None = None
    for container in found:
        name = container.labels.get(c.LABEL_APP, "")
        # One-offs and build containers (a buildpack build binds its cache and the
        # checked CA copy, not storage mounts) are never restarted by the engine.
        if container.labels.get(c.LABEL_PROCESS) in UNGUARDED or not binds_of(container):
            continue
        hooks = hooks or Hooks(Registry(), Output())
        try:
            app = App(name)
            if not app.exists():
                continue
            verify_binds(container, hooks, app, "restore")
        except UserError as exc:
            _neutralise(container, str(exc), container.id in started, log)


def _neutralise(container: Any, why: str, engine_started: bool, log: Any) -> None:
    import docker.errors

    app = container.labels.get(c.LABEL_APP, "")
    policy = (container.attrs.get("HostConfig", {}).get("RestartPolicy") or {}).get("Name")
    try:
        if policy not in (None, "", "no"):
            container.update(restart_policy={"Name": "no"})
            log(f"{app}: {container.name} may not be restarted by the engine: {why}")
        if engine_started and container.status in ("running", "restarting"):
            container.stop(timeout=10)
            log(f"{app}: stopped {container.name} (a mount fails verification): {why}")
    except docker.errors.NotFound:
        return
