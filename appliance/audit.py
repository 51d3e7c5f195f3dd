"""The audit log: one JSON line per command or push that reaches the appliance.

`<root>/audit/audit.log` (0600, in a 0700 folder) is only ever appended to, one
`write` per record (O_APPEND keeps concurrent records whole). Past `MAX_BYTES` it is
renamed to `audit.log.1` (`.1` to `.2`, and so on, `KEEP` files kept) under a lock,
so a writer that still holds the old file finishes its line there.

Arguments are recorded with secrets taken out: the values of `KEY=VALUE` arguments of
commands that declare `redact = "values"` (config:set), values of secret-looking keys
and options (`PASSWORD=`, `--token x`), and passwords in URLs.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance import state

__all__ = [
    "path",
    "read",
    "redact",
]
"""What plugins may use, through `appliance.api`; the rest is the core's."""

MAX_BYTES = 10 * 1024 * 1024
KEEP = 5
MAX_ARG = 200
MAX_ARGS = 40
REDACTED = "<redacted>"
SECRET_NAME = (
    r"(?i).*(pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential|auth).*"
)
URL_PASSWORD = r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]*@"


def folder() -> Path:
    """The audit log's folder, `<root>/audit` (0700)."""
    return state.root() / "audit"


def path() -> Path:
    """The audit log, `<root>/audit/audit.log`: one JSON record a line, rotated to
    `audit.log.1` and on (`audit:log` reads them)."""
    return folder() / "audit.log"


def redact(args: list[str], values: bool = False) -> list[str]:
    """The arguments as they may be recorded: secrets out, each bounded."""
    shown: list[str] = []
    hide_next = False
    for arg in args[:MAX_ARGS]:
        if hide_next:
            shown.append(REDACTED)
            hide_next = False
            continue
        # Most arguments hold neither `://` nor `=` nor a leading dash: no regex runs
        # (or is even compiled) for them, which keeps the audit off a command's path.
        text = re.sub(URL_PASSWORD, rf"\1{REDACTED}@", arg) if "://" in arg else arg
        name, eq, _value = text.partition("=")
        secret = (eq or name.startswith("-")) and re.fullmatch(SECRET_NAME, name)
        if eq and (values or secret) and not name.startswith("-"):
            text = f"{name}={REDACTED}"
        elif name.startswith("-") and secret:
            text = f"{name}={REDACTED}" if eq else text
            hide_next = not eq
        if len(text) > MAX_ARG:
            text = text[:MAX_ARG] + "..."
        shown.append(text.replace("\n", "\\n").replace("\x00", "\\0"))
    if len(args) > MAX_ARGS:
        shown.append(f"... {len(args) - MAX_ARGS} more")
    return shown


def source_address() -> str:
    """The SSH client's address (sshd sets SSH_CONNECTION), or `local`."""
    parts = os.environ.get("SSH_CONNECTION", "").split()
    return parts[0] if parts else "local"


def record(entry: dict[str, Any]) -> None:
    """Append one record; a full disk or a missing root must not fail the command,
    so a failure to record is reported on stderr instead."""
    entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **entry}
    line = (json.dumps(entry, separators=(",", ":"), ensure_ascii=True) + "\n").encode()
    try:
        target = path()
        if not target.parent.is_dir():
            if not state.root().is_dir():
                return  # nothing installed here: no state to audit
            target.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, line)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > MAX_BYTES:
            _rotate(target)
    except OSError as exc:
        import sys

        print(f" !     could not write the audit log: {exc}", file=sys.stderr)


def _rotate(target: Path) -> None:
    with state.lock_file(target.with_name("audit.lock"), "the audit log", timeout=10):
        try:
            if target.stat().st_size <= MAX_BYTES:
                return  # another writer rotated it first
        except FileNotFoundError:
            return
        for n in range(KEEP - 1, 0, -1):
            older = target.with_name(f"audit.log.{n}")
            if older.exists():
                os.replace(older, target.with_name(f"audit.log.{n + 1}"))
        os.replace(target, target.with_name("audit.log.1"))


def read() -> Iterator[dict[str, Any]]:
    """Every record still kept, oldest first; a damaged line is skipped."""
    files = [path().with_name(f"audit.log.{n}") for n in range(KEEP, 0, -1)] + [path()]
    for file in files:
        try:
            with open(file, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(entry, dict):
                        yield entry
        except FileNotFoundError:
            continue
