"""Limits as stored in app.toml (`[resource.limits.<type>]`, `_all` for every type)
and as Docker create options."""

from __future__ import annotations

import os
import re
from typing import Any

from appliance.api import App, UserError, validate

ALL = "_all"
TABLE = "resource"
MEMORY = re.compile(r"^(\d{1,12})([bkmg]?)$")
CPU = re.compile(r"^\d{1,4}(\.\d{1,3})?$")
UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MIN_MEMORY = 6 * 1024**2  # the Docker engine refuses less
MAX_MEMORY = 1024**4  # 1 TiB: more is a typo, not a limit


def memory_bytes(text: str) -> int:
    """`512m`, `1g`, `65536k` or bytes; at least 6m, as the engine requires."""
    match = MEMORY.fullmatch(text.lower())
    if not match:
        raise UserError(f"invalid memory {text!r}: use a number with b, k, m or g (512m, 1g)")
    amount = int(match.group(1)) * UNITS[match.group(2)]
    if amount < MIN_MEMORY:
        raise UserError(f"memory {text!r} is below the 6m the Docker engine allows")
    if amount > MAX_MEMORY:
        raise UserError(f"memory {text!r} is above the 1024g (1 TiB) a limit may be")
    return amount


def cpus(text: str) -> float:
    """`1`, `1.5`, `0.25`: CPUs' worth of time, at most as many as the host has."""
    if not CPU.fullmatch(text):
        raise UserError(f"invalid cpu {text!r}: use a number of CPUs such as 1 or 0.5")
    value = float(text)
    available = os.cpu_count() or 1
    if value < 0.01 or value > available:
        raise UserError(f"cpu {text!r} must be between 0.01 and {available} (the host's CPUs)")
    return value


def scope(process: str | None) -> str:
    return ALL if process is None else validate.process_type(process)


def stored(app: App) -> dict[str, dict[str, str]]:
    return {k: dict(v) for k, v in app.settings.table(TABLE).get("limits", {}).items()}


def save(app: App, limits: dict[str, dict[str, str]]) -> None:
    app.settings.set(TABLE, "limits", {k: v for k, v in limits.items() if v})


def in_force(app: App, process: str) -> dict[str, str]:
    """The process type's own limits over the limits of every type."""
    limits = stored(app)
    return {**limits.get(ALL, {}), **limits.get(process, {})}


def container_options(limits: dict[str, str]) -> dict[str, Any]:
    """Swap is capped at the memory limit: a limited app never swaps instead."""
    options: dict[str, Any] = {}
    if "memory" in limits:
        options["mem_limit"] = options["memswap_limit"] = memory_bytes(limits["memory"])
    if "cpu" in limits:
        options["nano_cpus"] = round(cpus(limits["cpu"]) * 1e9)  # checked again: app.toml
    return options
