"""Releases: the ledger the core writes, listed, inspected and rolled back; and each
deploy's output, kept for releases:logs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import App, hookimpl, releases

from . import deploylogs

if TYPE_CHECKING:
    from appliance.api import Deploy


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    numbers = releases.numbers(app)
    return {"Releases": f"{len(numbers)} (latest v{numbers[-1]})" if numbers else "none"}


@hookimpl
def appliance_deploy_started(deploy: Deploy) -> None:
    deploylogs.start(deploy)


@hookimpl
def appliance_post_deploy(deploy: Deploy) -> None:
    deploylogs.finish(deploy, f"v{deploy.release}" if deploy.new_release else "ok")


@hookimpl
def appliance_deploy_failed(deploy: Deploy, error: str) -> None:
    deploylogs.finish(deploy, "failed", error)
