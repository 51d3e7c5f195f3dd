"""Config vars on disk: `apps/APP/env.toml`, mode 0600, a `[vars]` table of strings.

TOML keeps any value exact: spaces, quotes, newlines, `=` and unicode round-trip.
"""

from __future__ import annotations

from pathlib import Path

from appliance import state, validate
from appliance.errors import UserError
from appliance.state import App


def path(app: App) -> Path:
    return app.path / "env.toml"


def load(app: App) -> dict[str, str]:
    return {str(k): str(v) for k, v in state.read_toml(path(app)).get("vars", {}).items()}


def save(app: App, values: dict[str, str]) -> None:
    state.write_toml(path(app), {"vars": dict(sorted(values.items()))}, mode=0o600)


def parse_assignment(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals:
        raise UserError(f"expected KEY=VALUE, got {text!r}")
    return config_key(key), value


def config_key(key: str) -> str:
    if not validate.CONFIG_KEY.match(key) or len(key) > 200:
        raise UserError(
            f"invalid config key {key!r}: use letters, digits and underscores, "
            "not starting with a digit"
        )
    return key
