"""Extra Docker options per phase: `deploy` options reach the app's containers
(restored ones too), `run` options its one-off containers."""

from __future__ import annotations

from typing import Any

from appliance.hookspecs import hookimpl
from appliance.state import App

from . import store


@hookimpl
def appliance_container_options(app: App, process: str, phase: str) -> dict[str, Any]:
    from . import parse

    return parse.container_kwargs(store.options(app, "run" if phase == "run" else "deploy"))


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    return {
        f"Docker options ({phase})": " ".join(store.stored(app, phase)) or "none"
        for phase in ("deploy", "run")
    }
