"""Which proxy routes each app: the app's choice (`proxy:set`), else the host's
(`proxy:set-global`), else nginx; and the `proxy:*` commands, which ask the app's
proxy through hooks, so any proxy plugin answers them."""

from __future__ import annotations

from typing import Any

from appliance.api import App, Deploy, hookimpl

from . import choice


@hookimpl(trylast=True)
def appliance_app_proxy(app: App) -> str | None:
    return None if choice.disabled(app) else choice.configured(app)


@hookimpl(trylast=True)
def appliance_proxy_update(deploy: Deploy) -> bool | None:
    """An app without a proxy (`proxy:disable`) is deployed all the same, unrouted.
    Any other app left unanswered still fails the deploy ("no proxy handles APP")."""
    if not choice.disabled(deploy.app):
        return None
    deploy.out.section("The proxy is disabled: the app is not routed (proxy:enable to route it)")
    return True


@hookimpl
def appliance_post_deploy(deploy: Deploy) -> None:
    """Remember which proxy routed this deploy; when another one routed the one before
    (`proxy:set`, `proxy:set-global`, `proxy:disable`), tell it to let go, now that
    traffic has moved."""
    app = deploy.app
    now = choice.routed_by(deploy.appliance, app)
    # Nothing recorded for an app deployed before: nginx, the only proxy there was.
    earlier = choice.DEFAULT if deploy.previous_deploy is not None else ""
    before = app.settings.get(choice.TABLE, "routed_by", earlier)
    app.settings.set(choice.TABLE, "routed_by", now or "")
    if before and before != now:
        deploy.appliance.hook.appliance_proxy_removed(app=app, proxy=before, out=deploy.out)


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    return {"Proxy": "none (disabled)" if choice.disabled(app) else choice.configured(app)}
