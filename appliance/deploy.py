"""The object a deploy hands to hooks: `Deploy` (with the `Container`s and `Target`s
its scheduler reports, from `appliance.runtime`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.output import Output
from appliance.runtime import Container, Target
from appliance.state import App

if TYPE_CHECKING:
    from appliance.host import Appliance


@dataclass
class Deploy:
    """One run of the pipeline: build (when there is source), start, check, switch, retire.

    `wait_to_retire` is how long old containers drain once traffic has moved; a
    plugin (built-in: checks) sets it, the scheduler falls back to 60 s.
    `id` numbers every deploy attempt of the app (container names and build tags use
    it); `release` is the release this deploy makes live: a new number, or the
    current one for a restart (`new_release` False). `extra` is scratch space for
    plugins, keyed by plugin name; `appliance` is the running appliance (fire other
    hooks with `deploy.appliance.hook`).
    """

    app: App
    out: Output
    id: int
    release: int
    user: str
    appliance: Appliance
    new_release: bool = True
    source_dir: Path | None = None
    rev: str | None = None
    tree: str | None = None
    image: str | None = None
    builder: str | None = None
    summary: str = ""
    config: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    procfile: dict[str, str] = field(default_factory=dict)
    app_json: dict[str, Any] = field(default_factory=dict)
    rollback_of: int = 0
    wait_to_retire: int | None = None
    targets: list[Target] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    previous_release: int | None = None
    previous_deploy: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    live: bool = False

    @property
    def image_tag(self) -> str:
        """The tag a builder gives the image it makes, `appliance/APP-<id>:build-<deploy id>`
        (`App.image_repository`); `appliance_build` returns it."""
        return f"{self.app.image_repository()}:build-{self.id}"

    @property
    def first_deploy(self) -> bool:
        """Whether the app had no live release before this deploy (app.json
        `scripts.postdeploy` runs only then)."""
        return self.previous_release is None

    def to_dict(self) -> dict[str, Any]:
        """The deploy as trigger executables receive it on stdin (JSON): the config's keys
        without their values, targets and containers as text and dicts."""
        return {
            "app": self.app.name,
            "id": self.id,
            "release": self.release,
            "new_release": self.new_release,
            "user": self.user,
            "source_dir": str(self.source_dir) if self.source_dir else None,
            "rev": self.rev,
            "tree": self.tree,
            "image": self.image,
            "image_tag": self.image_tag,
            "builder": self.builder,
            "summary": self.summary,
            "config_keys": sorted(self.config),
            "procfile": self.procfile,
            "app_json": self.app_json,
            "rollback_of": self.rollback_of,
            "targets": [str(t) for t in self.targets],
            "containers": [c.to_dict() for c in self.containers],
            "previous_release": self.previous_release,
        }

    def timed(self, phase: str) -> _Timer:
        """A context manager that adds the time spent in its block to `timings[phase]`:
        `with deploy.timed("build"):`. A deploy prints them at its end (`Timings: ...`)."""
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
