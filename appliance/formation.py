"""How many containers of each process type an app runs: `ps:scale`, else app.json's
`formation`, else one `web` (Heroku's default); other process types start at 0."""

from __future__ import annotations

from typing import Any

from appliance import validate
from appliance.errors import UserError
from appliance.state import App

MAX_PER_TYPE = 50


def from_app_json(app_json: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    formation = app_json.get("formation")
    if not isinstance(formation, dict):
        return found
    for name, spec in formation.items():
        quantity = spec.get("quantity") if isinstance(spec, dict) else None
        if isinstance(quantity, int) and 0 <= quantity <= MAX_PER_TYPE:
            found[validate.process_type(str(name))] = quantity
    return found


def configured(app: App) -> dict[str, int]:
    return {str(k): int(v) for k, v in (app.settings.get("ps", "scale") or {}).items()}


def scale(app: App, procfile: dict[str, str], app_json: dict[str, Any]) -> dict[str, int]:
    """The scale in force: what ps:scale set, else the defaults for this release."""
    found = configured(app)
    if found:
        return found
    found = {"web": 1}
    found.update({name: 0 for name in procfile if name not in ("release", "web")})
    found.update(from_app_json(app_json))
    return found


def parse(assignments: list[str]) -> dict[str, int]:
    result: dict[str, int] = {}
    for item in assignments:
        name, equals, count = item.partition("=")
        if not equals or not count.isdigit():
            raise UserError(f"expected TYPE=COUNT, got {item!r}")
        if int(count) > MAX_PER_TYPE:
            raise UserError(f"at most {MAX_PER_TYPE} containers per process type")
        result[validate.process_type(name)] = int(count)
    return result
