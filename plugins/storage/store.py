"""An app's mounts, in app.toml as `[storage] mounts = ["HOST:CONTAINER:MODE", ...]`."""

from __future__ import annotations

from appliance.state import App

from .paths import Mount, parse


def mounts(app: App) -> list[Mount]:
    return [parse(text) for text in app.settings.get("storage", "mounts", [])]


def save(app: App, found: list[Mount]) -> None:
    app.settings.set("storage", "mounts", [str(m) for m in found])
