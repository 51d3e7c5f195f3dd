"""Releases: the ledger the core writes, listed, inspected and rolled back."""

from __future__ import annotations

from typing import Any

from appliance import releases
from appliance.hookspecs import hookimpl
from appliance.state import App


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    numbers = releases.numbers(app)
    return {"Releases": f"{len(numbers)} (latest v{numbers[-1]})" if numbers else "none"}
