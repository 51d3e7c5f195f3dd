"""What a source tree is written in, and how to install and start it.

`detect(source)` reads only the dependency manifests and a few marker files, never
runs anything, and returns a `Plan` for the language's Dockerfile template, or None.
Everything taken from the source that reaches a Dockerfile (a file name, a binary
name, a folder) is checked against a strict pattern first; dependency lists never
reach the Dockerfile, only the files that hold them.

Order, first match wins: a `.static` marker, `go.mod`, `requirements.txt` /
`pyproject.toml`, `package.json`, `index.html`. `builder-auto:set APP language X`
forces one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from appliance.api import UserError, tree

from . import go, node, python, static
from .node import LOCKFILES
from .plan import Plan

LANGUAGES = ("python", "node", "static", "go")


def sniff(source: Path, language: str | None = None) -> tuple[str, str] | None:
    """The language and why, from which files exist: cheap, and no error for a broken
    manifest (the build's to report, and a Dockerfile may win anyway); a marker that is
    a link leaving the tree is refused (`appliance.tree`)."""
    if language:
        return language, _reason(source, language) or f"language set to {language}"
    for candidate in ("static", "go", "python", "node"):
        reason = _reason(source, candidate, marker_only=candidate == "static")
        if reason:
            return candidate, reason
    if tree.is_file(source, "index.html"):
        return "static", "found index.html (static site)"
    return None


def detect(source: Path, language: str | None = None) -> Plan | None:
    """The plan for `source`, or None when nothing here is recognised. With
    `language`, that language's rules apply (an error if its files are missing)."""
    found = sniff(source, language)
    if found is None:
        return None
    if found[0] not in LANGUAGES:
        raise UserError(f"unknown language {found[0]!r}: use one of {', '.join(LANGUAGES)}")
    plan_for = {"python": python, "node": node, "static": static, "go": go}[found[0]].plan_for
    plan = plan_for(source)
    plan.reason = found[1]
    return plan


def _is_python_project(source: Path) -> bool:
    """A pyproject.toml that describes a project, not only tool settings (ruff, black)
    as a Node or Go repository may carry."""
    try:
        data = tomllib.loads(tree.read_text(source, "pyproject.toml") or "")
    except (UserError, tomllib.TOMLDecodeError):
        return True  # broken: the build says why
    return "project" in data or "poetry" in data.get("tool", {})


def _reason(source: Path, language: str, marker_only: bool = False) -> str | None:
    if language == "static":
        if tree.is_file(source, ".static"):
            return "found .static (static site)"
        if not marker_only and tree.is_file(source, "index.html"):
            return "found index.html (static site)"
    elif language == "go" and tree.is_file(source, "go.mod"):
        return "found go.mod (go)"
    elif language == "python":
        if tree.is_file(source, "requirements.txt"):
            return "found requirements.txt (python)"
        if tree.is_file(source, "pyproject.toml") and tree.is_file(source, "uv.lock"):
            return "found pyproject.toml and uv.lock (python, uv)"
        if tree.is_file(source, "pyproject.toml") and _is_python_project(source):
            return "found pyproject.toml (python, pip)"
    elif language == "node" and tree.is_file(source, "package.json"):
        lockfile = next((f for f, _ in LOCKFILES if tree.is_file(source, f)), None)
        if lockfile:
            return f"found package.json and {lockfile} (node)"
        return "found package.json (node)"
    return None
