"""app.json `cron` entries: `[{"command": "...", "schedule": "..."}]`, kept with each
release (they are part of its app.json), each known by a short stable id."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from appliance.api import UserError

from . import schedule as sched

ID = re.compile(r"^[0-9a-f]{8}$")
# Bounds on what a repository's app.json may declare.
MAX_ENTRIES = 50
MAX_COMMAND = 4096  # characters
MAX_SCHEDULE = 100  # characters


@dataclass(frozen=True)
class Entry:
    id: str
    schedule: sched.Schedule
    command: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "schedule": self.schedule.text, "command": self.command}


def entry_id(schedule: str, command: str) -> str:
    """Same schedule and command, same id, across deploys: logs stay with their entry."""
    return hashlib.sha256(f"{schedule.strip()}\0{command}".encode()).hexdigest()[:8]


def parse(app_json: dict[str, Any]) -> list[Entry]:
    """The entries of an app.json, or UserError naming the first bad one."""
    raw = app_json.get("cron", [])
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        raise UserError('app.json cron must be a list of {"command", "schedule"} objects')
    if len(raw) > MAX_ENTRIES:
        raise UserError(f"app.json cron: at most {MAX_ENTRIES} entries, got {len(raw)}")
    found: list[Entry] = []
    for number, item in enumerate(raw, 1):
        where = f"app.json cron entry {number}"
        if not isinstance(item, dict):
            raise UserError(f"{where} must be an object with command and schedule")
        command, schedule = item.get("command"), item.get("schedule")
        if not isinstance(command, str) or not command.strip():
            raise UserError(f"{where} needs a command")
        if "\n" in command or "\0" in command:
            raise UserError(f"{where}: the command must be one line")
        if len(command) > MAX_COMMAND:
            raise UserError(f"{where}: the command is longer than {MAX_COMMAND} characters")
        if not isinstance(schedule, str):
            raise UserError(f'{where} needs a schedule such as "0 3 * * *" or "@daily"')
        if len(schedule) > MAX_SCHEDULE:
            raise UserError(f"{where}: the schedule is longer than {MAX_SCHEDULE} characters")
        try:
            parsed = sched.parse(schedule)
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        entry = Entry(entry_id(schedule, command), parsed, command.strip())
        if any(e.id == entry.id for e in found):
            raise UserError(f"{where} repeats an earlier entry")
        found.append(entry)
    return found


def valid_id(text: str) -> str:
    if not ID.fullmatch(text):
        raise UserError(f"invalid cron id {text!r}: see cron:list APP")
    return text
