"""Domains: every app answers at APP.<global domain>."""

import socket
from typing import Any

from appliance import state, validate
from appliance.hookspecs import hookimpl
from appliance.state import App


def global_domain() -> str:
    configured = state.global_settings().get("domains", "global")
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
