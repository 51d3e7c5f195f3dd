"""Domains: every app answers at APP.<global domain>."""

import socket
from typing import Any

from appliance import api
from appliance.api import App, hookimpl, validate


def global_domain() -> str:
    configured = api.global_settings().get("domains", "global")
    if configured:
        return str(configured)
    try:
        return validate.domain(socket.getfqdn())
    except Exception:
        return "localhost"


@hookimpl(trylast=True)
def appliance_app_domains(app: App) -> list[str]:
    return [validate.domain(f"{app.name}.{global_domain()}")]


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    return {"Domains": " ".join(appliance_app_domains(app))}
