"""Config vars on disk: `apps/APP/env.toml`, mode 0600, a `[vars]` table of strings;
the host-wide vars every app gets (`--global`) in `$APPLIANCE_ROOT/global-env.toml`.

TOML keeps any value exact: spaces, quotes, newlines, `=` and unicode round-trip.
"""

from __future__ import annotations

from pathlib import Path

from appliance import api
from appliance.api import App, UserError, validate


def path(app: App) -> Path:
    return app.path / "env.toml"


def global_path() -> Path:
    return api.root() / "global-env.toml"


def load(app: App | None) -> dict[str, str]:
    """The app's own vars; with None, the global ones."""
    found = api.read_toml(path(app) if app else global_path()).get("vars", {})
    return {str(k): str(v) for k, v in found.items()}


def save(app: App | None, values: dict[str, str]) -> None:
    target = path(app) if app else global_path()
    api.write_toml(target, {"vars": dict(sorted(values.items()))}, mode=0o600)


def merged(app: App) -> dict[str, str]:
    """What the app's containers get: the global vars, the app's own winning."""
    return dict(sorted({**load(None), **load(app)}.items()))


def parse_assignment(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals:
        raise UserError(f"expected KEY=VALUE, got {text!r}")
    return config_key(key), value


def config_key(key: str) -> str:
    if not validate.CONFIG_KEY.fullmatch(key) or len(key) > 200:
        raise UserError(
            f"invalid config key {key!r}: use letters, digits and underscores, "
            "not starting with a digit"
        )
    return key
