"""Config vars reach every container; a rollback brings its release's config back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import App, hookimpl

from . import store

if TYPE_CHECKING:
    from appliance.api import Deploy


@hookimpl
def appliance_container_env(deploy: Deploy) -> dict[str, str]:
    return store.merged(deploy.app)


@hookimpl
def appliance_post_deploy(deploy: Deploy) -> None:
    if deploy.rollback_of and store.merged(deploy.app) != deploy.config:
        host_wide = store.load(None)
        own = {k: v for k, v in deploy.config.items() if host_wide.get(k) != v}
        store.save(deploy.app, own)
        deploy.out.info(f"Config vars restored from v{deploy.rollback_of}")


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    return {"Config vars": len(store.load(app))}
