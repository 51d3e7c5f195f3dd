"""Memory and CPU limits per process type, given to every container the scheduler
creates (deploys, one-off runs with process type `run`)."""

from __future__ import annotations

from typing import Any

from appliance.api import App, hookimpl

from . import limits


@hookimpl
def appliance_container_options(app: App, process: str, phase: str) -> dict[str, Any]:
    return limits.container_options(limits.in_force(app, process))


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    found = limits.stored(app)
    if not found:
        return {"Resource limits": "none"}
    return {"Resource limits": "; ".join(
        f"{'all' if k == limits.ALL else k}: "
        + ", ".join(f"{name} {value}" for name, value in sorted(v.items()))
        for k, v in sorted(found.items())
    )}  # fmt: skip
