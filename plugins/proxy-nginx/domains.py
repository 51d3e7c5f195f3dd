"""The names an app's vhost answers to: its domains, as the `appliance_app_domains`
hooks give them, and the URLs they make on nginx's port."""

from __future__ import annotations

from typing import Any

from appliance.output import Output
from appliance.state import App

from . import nginx


def domains_of(app: App, hooks: Any = None) -> list[str]:
    if hooks is None:
        from appliance.hooks import Hooks
        from appliance.plugins import Registry

        hooks = Hooks(Registry(), Output())
    found = hooks.call("appliance_app_domains", app=app)
    return [d for group in found for d in group]


def app_urls(app: App) -> list[str]:
    port = nginx.port()
    suffix = "" if port == "80" else f":{port}"
    return [f"http://{domain}{suffix}/" for domain in domains_of(app)]
