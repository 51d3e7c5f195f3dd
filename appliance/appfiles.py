"""The files users already know from Heroku and Dokku: Procfile and app.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance import tree, validate
from appliance.errors import UserError

MAX_PROCESS_TYPES = 100
MAX_COMMAND = 4096  # bytes of one Procfile command


def parse_procfile(text: str) -> dict[str, str]:
    """`type: command` per line, split at the first colon; `#` starts a comment."""
    processes: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, command = line.partition(":")
        if not colon or not command.strip():
            raise UserError(f"Procfile line {number}: expected 'type: command'")
        try:
            name = validate.process_type(name.strip())
        except UserError as exc:
            raise UserError(f"Procfile line {number}: {exc}") from None
        if name in processes:
            raise UserError(f"Procfile line {number}: process type {name!r} appears twice")
        if len(processes) >= MAX_PROCESS_TYPES:
            raise UserError(f"Procfile: at most {MAX_PROCESS_TYPES} process types")
        if len(command.strip().encode()) > MAX_COMMAND:
            raise UserError(f"Procfile line {number}: the command is longer than 4 KiB")
        processes[name] = command.strip()
    return processes


def read_procfile(source: Path) -> dict[str, str]:
    """The pushed tree's Procfile ({} without one); never read through a link leaving it."""
    text = tree.read_text(source, "Procfile")
    return {} if text is None else parse_procfile(text)


def parse_app_json(text: str) -> dict[str, Any]:
    """app.json's text as a dict; a clear `UserError` when it is not a JSON object."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"app.json is not valid JSON: {exc}") from None
    except RecursionError:
        raise UserError("app.json is nested too deeply") from None
    if not isinstance(data, dict):
        raise UserError("app.json must hold a JSON object")
    return data


def read_app_json(source: Path) -> dict[str, Any]:
    """The pushed tree's app.json ({} without one), at most 1 MiB."""
    text = tree.read_text(source, "app.json", limit=tree.MAX_FILE)
    return {} if text is None else parse_app_json(text)
