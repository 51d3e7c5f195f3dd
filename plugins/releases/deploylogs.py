"""Each deploy's output, as the pusher saw it, kept under `apps/APP/deploy-logs/`.

A log is `<deploy id>.log` while its deploy runs, then renamed after the outcome:
`<id>.v<N>.log` for a deploy that made release N, `<id>.ok.log` for one that
redeployed the current release (restart, scale), `<id>.failed.log` for a failure.
A log still named `<id>.log` with no deploy running belongs to a deploy that was
killed. The last KEEP are kept.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from appliance.api import App, Deploy

KEEP = 20
NAME = re.compile(r"^(\d{1,9})(?:\.(v\d{1,9}|ok|failed))?\.log$")
SINK = "releases"


@dataclass(frozen=True)
class DeployLog:
    deploy: int
    outcome: str  # "vN", "ok", "failed" or "" (running, or killed)
    path: Path

    @property
    def release(self) -> int | None:
        return int(self.outcome[1:]) if self.outcome.startswith("v") else None


def folder(app: App) -> Path:
    return app.path / "deploy-logs"


def all_logs(app: App) -> list[DeployLog]:
    """Oldest first."""
    try:
        names = os.listdir(folder(app))
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        matched = NAME.fullmatch(name)
        if matched:
            found.append(
                DeployLog(int(matched.group(1)), matched.group(2) or "", folder(app) / name)
            )
    return sorted(found, key=lambda log: log.deploy)


def start(deploy: Deploy) -> None:
    """Open the deploy's log and copy everything `deploy.out` prints into it."""
    target = folder(deploy.app)
    target.mkdir(mode=0o700, exist_ok=True)
    for old in all_logs(deploy.app)[: -(KEEP - 1)]:
        old.path.unlink(missing_ok=True)
    path = target / f"{deploy.id}.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    stream = os.fdopen(fd, "w", encoding="utf-8", errors="replace", buffering=1)
    stream.write(f"# {deploy.app.name} deploy {deploy.id}: {deploy.summary} by {deploy.user}\n")
    deploy.extra[SINK] = {"path": path}
    deploy.out.sinks[SINK] = _writer(stream)


def _writer(stream: IO[str]) -> Any:
    def write(line: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a full disk never fails a deploy
            stream.write(line + "\n")

    return write


def finish(deploy: Deploy, outcome: str, error: str | None = None) -> None:
    """Name the log after the deploy's outcome; lines printed after this (the URL,
    the final error) still reach it."""
    kept = deploy.extra.get(SINK)
    if not kept:
        return
    if error:
        deploy.out.sinks.get(SINK, lambda line: None)(f" !     {error}")
    path: Path = kept["path"]
    renamed = path.with_name(f"{deploy.id}.{outcome}.log")
    with contextlib.suppress(FileNotFoundError):
        path.rename(renamed)
        kept["path"] = renamed
