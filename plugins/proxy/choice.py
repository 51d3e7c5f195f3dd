"""The proxy settings: `proxy.selected` and `proxy.disabled` in the app's app.toml,
`proxy.selected` in the host's settings.toml."""

from __future__ import annotations

import re

from appliance import api
from appliance.api import App, Appliance, UserError

TABLE = "proxy"
DEFAULT = "nginx"
NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")


def app_choice(app: App) -> str | None:
    return app.settings.get(TABLE, "selected") or None


def host_choice() -> str | None:
    return api.global_settings().get(TABLE, "selected") or None


def configured(app: App) -> str:
    """The proxy the settings name for `app`, whether or not it is disabled."""
    return app_choice(app) or host_choice() or DEFAULT


def disabled(app: App) -> bool:
    return bool(app.settings.get(TABLE, "disabled", False))


def known_names(appliance: Appliance) -> list[str]:
    found = appliance.hook.appliance_proxy_names()
    return sorted({name for names in found for name in names or []})


def checked_name(appliance: Appliance, name: str) -> str:
    """`name` when an installed plugin answers to it, else a UserError listing those
    that do."""
    if not NAME.fullmatch(name):
        raise UserError(f"invalid proxy name {name!r}")
    known = known_names(appliance)
    if name not in known:
        raise UserError(
            f"no installed plugin is a proxy named {name!r} "
            f"(known: {', '.join(known) or 'none'}; see plugin:list)"
        )
    return name


def routed_by(appliance: Appliance, app: App) -> str | None:
    """The proxy that routes `app` now, as the hook decides (None: not routed)."""
    found = appliance.hook.appliance_app_proxy(app=app)
    return str(found) if found else None
