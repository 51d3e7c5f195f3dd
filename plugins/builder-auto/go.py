"""Go: go.mod (and go.sum, vendor/), and the binary of the one main package."""

from __future__ import annotations

import re
from pathlib import Path

from appliance.api import UserError, tree

from .plan import NOT_STARTABLE, SAFE_NAME, Plan, sh


def plan_for(source: Path) -> Plan:
    gomod = tree.read_text(source, "go.mod", errors="replace")
    if gomod is None:
        raise UserError("language go needs a go.mod")
    module = ""
    for line in gomod.splitlines():
        found = re.match(r'^\s*module\s+(?:"([^"]*)"|(\S+))', line)
        if found:
            module = found.group(1) if found.group(1) is not None else found.group(2)
            break
    manifests = ["go.mod"] + (["go.sum"] if tree.is_file(source, "go.sum") else [])
    plan = Plan("go", "", manifests=manifests)
    plan.vendor = tree.is_file(source, "vendor/modules.txt")
    plan.binary = _go_binary(source, module)
    if plan.binary:
        plan.cmd, plan.cmd_rule = [f"/app/bin/{plan.binary}"], "the main package's binary"
    else:
        plan.cmd = sh(NOT_STARTABLE)
        plan.cmd_rule = "no single main package: the Procfile must say (binaries are in /app/bin)"
    return plan


def _is_main(source: Path, folder: str) -> bool:
    for name in tree.entries(source, folder):
        path = name if folder == "." else f"{folder}/{name}"
        if not name.endswith(".go") or name.endswith("_test.go") or not tree.is_file(source, path):
            continue
        for line in (tree.read_text(source, path, errors="replace") or "").splitlines():
            if line.startswith("package "):
                if line.split()[1] == "main":
                    return True
                break
    return False


def _go_binary(source: Path, module: str) -> str | None:
    """The name `go build -o DIR/ ./...` gives the main package: the last element of
    its import path, skipping a major version suffix (`example.com/tool/v2` -> tool)."""
    if _is_main(source, "."):
        parts = [p for p in module.split("/") if p]
        if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
            parts.pop()
        name = parts[-1] if parts else ""
        return name if SAFE_NAME.fullmatch(name) else None
    commands = [
        name
        for name in tree.entries(source, "cmd")
        if tree.is_dir(source, f"cmd/{name}") and _is_main(source, f"cmd/{name}")
    ]
    if len(commands) == 1 and SAFE_NAME.fullmatch(commands[0]):
        return commands[0]
    return None
