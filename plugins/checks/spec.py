"""What a check is: app.json `healthchecks` entries, validated, and the default checks.

The format is Dokku's (docker-container-healthchecker): `healthchecks.<process type>`
is a list of checks. A check's strategy follows from its fields: `command` runs a
command in the container, `uptime` waits for the container to stay up, `listening`
opens a TCP connection, anything else is an HTTP GET of `path` (default `/`).
Unknown keys are ignored, as Dokku does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from appliance.api import UserError, validate

TYPES = ("startup", "readiness", "liveness")  # also the order they run in
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
UNSAFE = re.compile(r"[\x00-\x1f\x7f]")

# Bounds on what a repository's app.json may ask for: a deploy waits for its checks,
# so each number is capped (worst case per check: attempts * (timeout + wait)).
MAX_PROCESS_TYPES = 50
MAX_CHECKS_PER_TYPE = 20
MAX_ATTEMPTS = 100
MAX_TIMEOUT = 120  # seconds per attempt
MAX_WAIT = 60  # seconds between attempts
MAX_INITIAL_DELAY = 600
MAX_UPTIME = 600
MAX_PATH = 2048
MAX_TEXT = 1024  # content, a name, a header value
MAX_HEADERS = 20
MAX_COMMAND = 4096  # characters of a command, all its words together


@dataclass(frozen=True)
class Check:
    """One check of one process type, with every default filled in."""

    name: str
    process: str
    strategy: str  # "http", "command", "uptime" or "tcp"
    type: str = "startup"
    path: str = "/"
    content: str = ""
    timeout: float = 5
    attempts: int = 3
    wait: float = 5
    initial_delay: float = 0
    port: int | None = None
    command: tuple[str, ...] = ()
    uptime: float = 0
    scheme: str = "http"
    headers: tuple[tuple[str, str], ...] = ()
    warn: bool = False
    source: str = "app.json"  # "app.json", "CHECKS" or "default"

    def describe(self) -> str:
        """`GET /health`, `command ["check"]`, `uptime 10 s`, `TCP connect`."""
        if self.strategy == "http":
            scheme = "" if self.scheme == "http" else f"{self.scheme} "
            port = f" on port {self.port}" if self.port else ""
            return f"{scheme}GET {self.path}{port}"
        if self.strategy == "command":
            return f"command {json.dumps(list(self.command))}"
        if self.strategy == "uptime":
            return f"uptime {self.uptime:g} s"
        return f"TCP connect{f' to port {self.port}' if self.port else ''}"

    def expected(self) -> str:
        if self.strategy == "http":
            body = f' and a body containing "{self.content}"' if self.content else ""
            return f"status 2xx or 3xx{body}"
        if self.strategy == "command":
            output = f' and output containing "{self.content}"' if self.content else ""
            return f"exit code 0{output}"
        if self.strategy == "uptime":
            return f"running for {self.uptime:g} s without a restart"
        return "a TCP connection to be accepted"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "check": self.describe(),
            "source": self.source,
        }
        if self.strategy in ("http", "command", "tcp"):
            data.update(attempts=self.attempts, timeout=self.timeout, wait=self.wait)
        if self.content:
            data["content"] = self.content
        if self.initial_delay:
            data["initialDelay"] = self.initial_delay
        return data


def default_checks(process: str, uptime: float) -> list[Check]:
    """No checks declared: the container stays up `uptime` seconds; web also accepts TCP."""
    checks = [
        Check(name="uptime", process=process, strategy="uptime", uptime=uptime, source="default")
    ]
    if process == "web":
        checks.append(
            Check(
                name="listening",
                process=process,
                strategy="tcp",
                attempts=3,
                wait=1,
                timeout=5,
                source="default",
            )
        )
    return checks


def describe_default(uptime: float, process: str) -> str:
    return f"default (uptime {uptime:g} s{' + TCP' if process == 'web' else ''})"


def declared(app_json: dict[str, Any]) -> dict[str, list[Check]]:
    """The checks app.json declares, per process type, in run order. Raises UserError
    naming the field when one is malformed."""
    raw = app_json.get("healthchecks")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError('app.json healthchecks must be an object: {"web": [checks]}')
    if len(raw) > MAX_PROCESS_TYPES:
        raise UserError(f"app.json healthchecks: at most {MAX_PROCESS_TYPES} process types")
    found: dict[str, list[Check]] = {}
    for process, entries in raw.items():
        where = f"app.json healthchecks.{process}"
        try:
            validate.process_type(str(process))
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        if not isinstance(entries, list):
            raise UserError(f"{where} must be a list of checks")
        if len(entries) > MAX_CHECKS_PER_TYPE:
            raise UserError(f"{where}: at most {MAX_CHECKS_PER_TYPE} checks per process type")
        checks = [parse_check(process, entry, f"{where}[{i}]") for i, entry in enumerate(entries)]
        if checks:
            found[process] = sorted(checks, key=lambda c: TYPES.index(c.type))
    return found


def parse_check(process: str, entry: Any, where: str) -> Check:
    if not isinstance(entry, dict):
        raise UserError(f"{where} must be an object")
    field = _Fields(entry, where)
    kind = field.choice("type", TYPES, "startup")
    command = field.command()
    uptime = field.number("uptime", 0, MAX_UPTIME)
    listening = field.flag("listening")
    path = field.text("path", "", MAX_PATH)
    content = field.text("content", "", MAX_TEXT)
    chosen = [
        name
        for name, present in (
            ("command", bool(command)),
            ("path", bool(path)),
            ("uptime", bool(uptime)),
            ("listening", listening),
        )
        if present
    ]
    if len(chosen) > 1:
        raise UserError(f"{where}: use only one of {', '.join(chosen)} in one check")
    strategy = "command" if command else "uptime" if uptime else "tcp" if listening else "http"
    if content and strategy in ("uptime", "tcp"):
        raise UserError(f"{where}: content applies to path and command checks only")
    path = path or "/"
    if not path.startswith("/") or UNSAFE.search(path) or " " in path:
        raise UserError(f"{where}.path must start with / and hold no spaces, got {path!r}")
    port = field.number("port", 0, 65535, whole=True, low=1) if "port" in entry else 0
    attempts = field.number("attempts", 3, MAX_ATTEMPTS, whole=True, low=1)
    timeout = field.number("timeout", 5, MAX_TIMEOUT)
    if timeout <= 0:
        raise UserError(f"{where}.timeout must be more than 0 seconds")
    return Check(
        name=field.text("name", "", MAX_TEXT) or _default_name(strategy, path, command, uptime),
        process=process,
        strategy=strategy,
        type=kind,
        path=path,
        content=content,
        timeout=timeout,
        attempts=int(attempts),
        wait=field.number("wait", 5, MAX_WAIT),
        initial_delay=field.number("initialDelay", 0, MAX_INITIAL_DELAY),
        port=int(port) or None,
        command=command,
        uptime=uptime,
        scheme=field.choice("scheme", ("http", "https"), "http"),
        headers=field.headers(),
        warn=field.flag("warn"),
        source="CHECKS" if entry.get("source") == "CHECKS" else "app.json",
    )


def _default_name(strategy: str, path: str, command: tuple[str, ...], uptime: float) -> str:
    if strategy == "command":
        return " ".join(command)[:60]
    if strategy == "uptime":
        return f"uptime {uptime:g} s"
    if strategy == "tcp":
        return "listening"
    return path


class _Fields:
    """Typed access to one check's JSON fields, failing with the field's location."""

    def __init__(self, entry: dict[str, Any], where: str) -> None:
        self.entry, self.where = entry, where

    def text(self, key: str, default: str, longest: int) -> str:
        value = self.entry.get(key, default)
        if not isinstance(value, str):
            raise UserError(f"{self.where}.{key} must be a string, got {_shown(value)}")
        if len(value) > longest:
            raise UserError(f"{self.where}.{key} is longer than {longest} characters")
        return value

    def number(
        self, key: str, default: float, high: float, *, whole: bool = False, low: float = 0
    ) -> float:
        return validate.bounded(
            self.entry.get(key, default), f"{self.where}.{key}", low, high, whole=whole
        )

    def flag(self, key: str) -> bool:
        value = self.entry.get(key, False)
        if not isinstance(value, bool):
            raise UserError(f"{self.where}.{key} must be true or false")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(key, default, 100) or default
        if value not in choices:
            raise UserError(
                f"{self.where}.{key} must be one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def command(self) -> tuple[str, ...]:
        value = self.entry.get("command")
        if value is None or value == [] or value == "":
            return ()
        if isinstance(value, str) and len(value) <= MAX_COMMAND:
            return ("/bin/sh", "-c", value)
        if (
            isinstance(value, list)
            and all(isinstance(a, str) for a in value)
            and value[0]
            and sum(len(a) + 1 for a in value) <= MAX_COMMAND
        ):
            return tuple(value)
        raise UserError(
            f"{self.where}.command must be a string or a list of strings, "
            f"at most {MAX_COMMAND} characters"
        )

    def headers(self) -> tuple[tuple[str, str], ...]:
        key = "headers" if "headers" in self.entry else "httpHeaders"
        value = self.entry.get(key, [])
        if not isinstance(value, list) or len(value) > MAX_HEADERS:
            raise UserError(
                f"{self.where}.{key} must be a list of {{name, value}} objects "
                f"(at most {MAX_HEADERS})"
            )
        found = []
        for i, header in enumerate(value):
            name = header.get("name") if isinstance(header, dict) else None
            text = header.get("value") if isinstance(header, dict) else None
            if (
                not isinstance(name, str)
                or not HEADER_NAME.fullmatch(name)
                or not isinstance(text, str)
                or len(text) > MAX_TEXT
                or UNSAFE.search(text)
            ):
                raise UserError(
                    f'{self.where}.{key}[{i}] must be {{"name": token, "value": text}} '
                    "without control characters"
                )
            found.append((name, text))
        return tuple(found)


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else f"{text[:37]}..."
