"""Persistent storage: directories of the storage base mounted into every container
of an app, one-off containers included."""

from __future__ import annotations

from typing import Any

from appliance.api import App, hookimpl

from . import store


@hookimpl
def appliance_container_options(app: App, process: str, phase: str) -> dict[str, Any]:
    """Every source verified now (store.py): a mount that fails refuses the container."""
    mounts = store.mounts(app)
    return {"volumes": [store.verified_volume(app, m) for m in mounts]} if mounts else {}


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    report = {"Storage mounts": ", ".join(str(m) for m in store.mounts(app)) or "none"}
    refused = store.problems(app)
    if refused:
        report["Storage problems"] = "; ".join(refused)
    return report
