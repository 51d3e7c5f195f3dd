"""Extra Docker options per phase: `build` options its builds (extra hosts and the
shm size only), `deploy` options the app's containers (restored ones too), `run`
options its one-off containers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import App, hookimpl

from . import store

if TYPE_CHECKING:
    from appliance.api import Deploy


@hookimpl
def appliance_container_options(app: App, process: str, phase: str) -> dict[str, Any]:
    from . import parse

    return parse.container_kwargs(store.options(app, "run" if phase == "run" else "deploy"))


@hookimpl
def appliance_build_options(deploy: Deploy) -> dict[str, Any]:
    from . import parse

    return parse.container_kwargs(store.options(deploy.app, "build"))


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    return {
        f"Docker options ({phase})": " ".join(store.stored(app, phase)) or "none"
        for phase in ("build", "deploy", "run")
    }
