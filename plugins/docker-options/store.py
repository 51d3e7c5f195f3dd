"""`[docker-options]` in app.toml: `deploy = ["--add-host=db:10.0.0.5", ...]`, `run = [...]`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.state import App

if TYPE_CHECKING:
    from .parse import Option

TABLE = "docker-options"


def stored(app: App, phase: str) -> list[str]:
    return [str(o) for o in app.settings.get(TABLE, phase, [])]


def options(app: App, phase: str) -> list[Option]:
    from .parse import from_text

    return [from_text(text) for text in stored(app, phase)]


def save(app: App, phase: str, found: list[Option]) -> None:
    if found:
        app.settings.set(TABLE, phase, [str(o) for o in found])
    else:
        app.settings.unset(TABLE, phase)
