"""Dokku's legacy CHECKS file, converted into app.json `healthchecks.web`.

    WAIT=2          # seconds between attempts
    TIMEOUT=5       # seconds per attempt
    ATTEMPTS=3
    /health         ok
    //admin.example.com/   Admin        (a Host header)
    https://example.com/   Example      (scheme and Host header)

One check per line: a path (or URL), then optionally the content the body must
contain. `#` starts a comment, as in Dokku, so content cannot hold a `#`. The
settings apply to every check wherever they appear; unset ones keep the app.json
defaults (3 attempts, 5 s timeout, 5 s wait), as Dokku's own conversion does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from appliance.api import Deploy, UserError, tree

from . import spec

SETTINGS = {"WAIT": "wait", "TIMEOUT": "timeout", "ATTEMPTS": "attempts"}
MAX_SIZE = 64 * 1024


def parse(text: str) -> list[dict[str, Any]]:
    """The app.json form of a CHECKS file's checks. Raises UserError naming the line."""
    settings: dict[str, int] = {}
    checks: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        setting = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(\S*)", line)
        if setting:
            key, value = setting.groups()
            if key not in SETTINGS:
                raise UserError(
                    f"CHECKS line {number}: unknown setting {key} (use WAIT, TIMEOUT or ATTEMPTS)"
                )
            if not re.fullmatch(r"[0-9]{1,9}", value):
                raise UserError(
                    f"CHECKS line {number}: {key} must be a whole number, got {value!r}"
                )
            settings[SETTINGS[key]] = int(value)
            continue
        target, *content = line.split(None, 1)
        checks.append({**_target(target, number), "content": "".join(content).strip()})
    if settings.get("attempts") == 0 or settings.get("timeout") == 0:
        raise UserError("CHECKS: ATTEMPTS and TIMEOUT must be at least 1")
    converted = []
    for check in checks:
        entry = {"type": "startup", "name": f"CHECKS {check.pop('target')}", **check}
        entry.update(settings)
        if not entry["content"]:
            del entry["content"]
        entry["source"] = "CHECKS"
        converted.append(entry)
    return converted


def _target(target: str, number: int) -> dict[str, Any]:
    """`/path`, `//host/path` or `scheme://host/path` as path, scheme and Host header."""
    if target.startswith("/") and not target.startswith("//"):
        return {"target": target, "path": target}
    url = urlsplit("http:" + target if target.startswith("//") else target)
    if url.scheme not in ("http", "https") or not url.netloc or spec.UNSAFE.search(target):
        raise UserError(
            f"CHECKS line {number}: expected a path like /health or a URL like "
            f"//host/path, got {target!r}"
        )
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    found: dict[str, Any] = {
        "target": target,
        "path": path,
        "headers": [{"name": "Host", "value": url.netloc}],
    }
    if url.scheme == "https" and not target.startswith("//"):
        found["scheme"] = "https"
    return found


def convert(deploy: Deploy) -> None:
    """At post_build: turn the source's CHECKS into `deploy.app_json["healthchecks"]["web"]`
    (saved with the release, so rollbacks and restarts keep it), unless app.json
    declares web checks itself. Then validate every declared check, so a bad one
    stops the deploy before any container starts."""
    if deploy.source_dir is not None:
        _convert_file(deploy)
    spec.declared(deploy.app_json)


def _convert_file(deploy: Deploy) -> None:
    assert deploy.source_dir is not None
    if not tree.is_file(deploy.source_dir, "CHECKS"):  # a link out of the tree: refused
        return
    healthchecks = deploy.app_json.get("healthchecks")
    if isinstance(healthchecks, dict) and healthchecks.get("web"):
        deploy.out.info("CHECKS ignored: app.json declares healthchecks for web")
        return
    checks = parse(tree.read_text(deploy.source_dir, "CHECKS", MAX_SIZE, errors="replace") or "")
    if not checks:
        return
    if healthchecks is None:
        healthchecks = deploy.app_json["healthchecks"] = {}
    if not isinstance(healthchecks, dict):
        raise UserError('app.json healthchecks must be an object: {"web": [checks]}')
    healthchecks["web"] = checks
    count = f"{len(checks)} check{'s' if len(checks) != 1 else ''}"
    deploy.out.section(f"Using CHECKS as app.json healthchecks for web ({count})")
