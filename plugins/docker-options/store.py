"""`[docker-options]` in app.toml: `deploy = ["--add-host=db:10.0.0.5", ...]`, `run = [...]`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.api import App

if TYPE_CHECKING:
    from .parse import Option

TABLE = "docker-options"


def stored(app: App, phase: str) -> list[str]:
    return [str(o) for o in app.settings.get(TABLE, phase, [])]


def options(app: App, phase: str) -> list[Option]:
    """The stored options, checked again: one kept by an older version (or edited into
    app.toml) that the allow-lists now refuse stops the container, with a way out."""
    from appliance.api import UserError

    from .parse import from_text

    found = []
    for text in stored(app, phase):
        try:
            found.append(from_text(text))
        except UserError as exc:
            raise UserError(
                f"stored {phase} docker option {text[:100]!r} of {app.name} is refused ({exc}); "
                f"remove it with docker-options:clear {app.name} {phase}"
            ) from None
    return found


def save(app: App, phase: str, found: list[Option]) -> None:
    if found:
        app.settings.set(TABLE, phase, [str(o) for o in found])
    else:
        app.settings.unset(TABLE, phase)
