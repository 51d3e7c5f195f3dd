"""How many containers of each process type an app runs: `ps:scale`, else app.json's
`formation`, else one `web` (Heroku's default); other process types start at 0."""

from __future__ import annotations

from typing import Any

from appliance.api import App, Deploy, UserError, validate

MAX_PER_TYPE = 50  # containers of one process type
MAX_TYPES = 30  # process types with a count, from ps:scale or app.json


def from_app_json(app_json: dict[str, Any]) -> dict[str, int]:
    """`formation.<type>.quantity`, each a whole number from 0 to MAX_PER_TYPE (a type
    without a quantity keeps its default)."""
    found: dict[str, int] = {}
    formation = app_json.get("formation")
    if not isinstance(formation, dict):
        return found
    if len(formation) > MAX_TYPES:
        raise UserError(f"app.json formation: at most {MAX_TYPES} process types")
    for name, spec in formation.items():
        if not isinstance(spec, dict) or "quantity" not in spec:
            continue
        where = f"app.json formation.{str(name)[:63]}.quantity"
        quantity = validate.bounded(spec["quantity"], where, 0, MAX_PER_TYPE, whole=True)
        found[validate.process_type(str(name))] = int(quantity)
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
    """`["web=2", "worker=1"]`: counts 0 to MAX_PER_TYPE, ASCII digits only."""
    if len(assignments) > MAX_TYPES:
        raise UserError(f"at most {MAX_TYPES} process types")
    result: dict[str, int] = {}
    for item in assignments:
        name, equals, count = item.partition("=")
        if not equals:
            raise UserError(f"expected TYPE=COUNT, got {item[:80]!r}")
        name = validate.process_type(name)
        result[name] = validate.whole_number(count, f"count of {name}", 0, MAX_PER_TYPE)
    return result


def bounded(wanted: dict[str, int]) -> dict[str, int]:
    """A whole formation (what is in force plus a change) of at most MAX_TYPES types."""
    if len(wanted) > MAX_TYPES:
        raise UserError(f"at most {MAX_TYPES} process types can be scaled, got {len(wanted)}")
    return wanted


def plan(deploy: Deploy) -> dict[str, int]:
    """The containers a deploy starts: process types the release can run, scaled
    above 0. With no Procfile (or one with only `release`), `web` runs the image's
    own command. A type scaled with ps:scale that the release lacks is warned about."""
    explicit = bool(configured(deploy.app))
    runnable = {t for t in deploy.procfile if t != "release"} or {"web"}
    result = {}
    for name, count in sorted(scale(deploy.app, deploy.procfile, deploy.app_json).items()):
        if count <= 0:
            continue
        if name not in runnable:
            if explicit:
                deploy.out.warn(f"{name} is scaled to {count}, but the release has no {name}")
            continue
        result[name] = count
    return result
