"""The objects a deploy hands to hooks: `Deploy` and `Target`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.output import Output
from appliance.state import App


@dataclass(frozen=True)
class Target:
    """One place that answers web traffic for an app."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class Deploy:
    """One run of the pipeline: build (when there is source), start, switch, retire.

    `extra` is scratch space for plugins, keyed by plugin name.
    """

    app: App
    out: Output
    release: int
    user: str
    source_dir: Path | None = None
    rev: str | None = None
    image: str | None = None
    summary: str = ""
    env: dict[str, str] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    previous_release: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def image_tag(self) -> str:
        return f"appliance/{self.app.name}:v{self.release}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "app": self.app.name,
            "release": self.release,
            "user": self.user,
            "source_dir": str(self.source_dir) if self.source_dir else None,
            "rev": self.rev,
            "image": self.image,
            "image_tag": self.image_tag,
            "summary": self.summary,
            "targets": [str(t) for t in self.targets],
            "previous_release": self.previous_release,
        }

    def timed(self, phase: str) -> _Timer:
        return _Timer(self.timings, phase)


class _Timer:
    def __init__(self, timings: dict[str, float], phase: str) -> None:
        self.timings, self.phase = timings, phase

    def __enter__(self) -> None:
        self.start = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.phase] = self.timings.get(self.phase, 0.0) + (
            time.monotonic() - self.start
        )
