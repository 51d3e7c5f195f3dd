"""What detection finds (`Plan`), and what every language's rules share: the
patterns anything taken from the source must match before it reaches a Dockerfile,
and readers of the source's manifests and marker files (never through a link that
leaves the tree: `appliance.tree`)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.api import UserError, tree

# A relative path inside the source: no "..", no leading "/" or "-", plain characters.
SAFE_PATH = re.compile(r"^(?!-)(?!.*(?:^|/)\.\.(?:/|$))[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")

NOT_STARTABLE = "echo 'builder-auto: no web command: add a Procfile with a web: line' >&2; exit 1"


@dataclass
class Plan:
    language: str
    reason: str  # set by detect()
    manifests: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    cmd_rule: str = ""
    deps_after_code: bool = False
    # python
    installer: str = ""  # pip-requirements, pip-pyproject, uv
    install_project: bool = False
    python_version: str | None = None
    # node
    package_manager: str = ""
    pm_setup: str = ""
    install: str = ""
    build_script: bool = False
    run_build: str = ""
    prune: str = ""
    node_engine: str | None = None
    # static
    root: str = "."
    # go
    binary: str | None = None
    vendor: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def cmd_json(self) -> str:
        return json.dumps(self.cmd)

    @property
    def summary(self) -> str:
        how = {
            "python": self.installer,
            "node": self.package_manager,
            "static": f"root {self.root}",
            "go": "go modules",
        }[self.language]
        return f"{self.language} ({how})"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None, [], False)}


def read_toml(source: Path, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(tree.read_text(source, name) or "")
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"cannot read {name}: {exc}") from None


def read_json(source: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads(tree.read_text(source, name) or "")
    except (ValueError, RecursionError) as exc:
        raise UserError(f"cannot read {name}: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise UserError(f"{name} must hold a JSON object")
    return data


def first_line(source: Path, name: str) -> str:
    """The first line of a small marker file ('' when missing or not text)."""
    lines = (tree.read_text(source, name, errors="replace") or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def sh(command: str) -> list[str]:
    return ["/bin/sh", "-c", command]
