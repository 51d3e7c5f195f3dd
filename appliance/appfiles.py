"""The files users already know from Heroku and Dokku: Procfile and app.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance import validate
from appliance.errors import UserError


def parse_procfile(text: str) -> dict[str, str]:
    """`type: command` per line, split at the first colon; `#` starts a comment."""
    processes: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, command = line.partition(":")
        if not colon or not command.strip():
            raise UserError(f"Procfile line {number}: expected 'type: command', got {raw!r}")
        try:
            name = validate.process_type(name.strip())
        except UserError as exc:
            raise UserError(f"Procfile line {number}: {exc}") from None
        if name in processes:
            raise UserError(f"Procfile line {number}: process type {name!r} appears twice")
        processes[name] = command.strip()
    return processes


def read_procfile(source: Path) -> dict[str, str]:
    path = source / "Procfile"
    return parse_procfile(path.read_text()) if path.is_file() else {}


def parse_app_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"app.json is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError("app.json must hold a JSON object")
    return data


def read_app_json(source: Path) -> dict[str, Any]:
    path = source / "app.json"
    return parse_app_json(path.read_text()) if path.is_file() else {}
