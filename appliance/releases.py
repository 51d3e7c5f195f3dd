"""The release ledger: one immutable file per release, `releases/vN.toml`.

A release is recorded once, when a deploy that makes it has gone live, and never
changed; a failed deploy records nothing, so numbers stay consecutive. It holds what
is needed to run the release again without a build: the image, the config
snapshot, the process types and app.json, so rollback and config changes reuse it.
The files are 0600: config snapshots hold secrets.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from appliance import state
from appliance.errors import NotFound, UserError
from appliance.state import App

__all__ = [
    "KEEP_DEFAULT",
    "Release",
    "all_releases",
    "current",
    "images_kept",
    "keep",
    "load",
    "numbers",
    "parse_number",
    "require_current",
    "set_keep",
]
"""What plugins may use, through `appliance.api`; the rest is the core's."""

_NAME = re.compile(r"^v(\d{1,9})\.toml$")


@dataclass
class Release:
    """One entry of the ledger, as `releases/vN.toml` holds it: the image, the config
    snapshot, the process types and app.json, who made it and why (`summary`);
    `rollback_of` is the release a rollback copied. Never changed once recorded."""
    number: int
    summary: str = ""
    user: str = ""
    created_at: str = ""
    image: str = ""
    rev: str = ""
    rollback_of: int = 0
    config: dict[str, str] = field(default_factory=dict)
    procfile: dict[str, str] = field(default_factory=dict)
    app_json: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """`vN`, as users type and read it."""
        return f"v{self.number}"

    def to_dict(self, secrets: bool = False) -> dict[str, Any]:
        """Its fields as a dict, for `--format json` and triggers: the config's keys only,
        unless `secrets` (then their values too)."""
        data = asdict(self)
        if not secrets:
            data["config"] = sorted(self.config)
        return data


def now() -> str:
    """The current UTC time as the ledger writes it, `2026-01-31T12:00:00Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def parse_number(text: str) -> int:
    """The number of a release the user typed, `v3` or `3`; UserError otherwise."""
    match = re.fullmatch(r"v?(\d{1,9})", text.strip())
    if not match:
        raise UserError(f"invalid release {text!r}: use vN, for example v3")
    return int(match.group(1))


def path_of(app: App, number: int) -> Any:
    """The file of release `number`: `apps/APP/releases/vN.toml` (it may not exist)."""
    return app.path / "releases" / f"v{number}.toml"


def record(app: App, release: Release) -> None:
    """Write a new release to the ledger (0600: it holds config values); UserError when
    the number is taken. Used by the core once a deploy is live; plugins do not call it."""
    target = path_of(app, release.number)
    if target.exists():
        raise UserError(f"release v{release.number} of {app.name} is already recorded")
    data = {k: v for k, v in asdict(release).items() if v not in ("", 0, {}, None)}
    data["number"] = release.number
    state.write_toml(target, data, mode=0o600)


def load(app: App, number: int) -> Release:
    """Release `number` of `app`; NotFound when the ledger has no such release."""
    data = state.read_toml(path_of(app, number))
    if not data:
        raise NotFound(f"{app.name} has no release v{number}")
    known = Release.__dataclass_fields__
    return Release(**{k: v for k, v in data.items() if k in known})


def numbers(app: App) -> list[int]:
    """The numbers of every recorded release of `app`, oldest first (a directory read)."""
    folder = app.path / "releases"
    if not folder.is_dir():
        return []
    found = (_NAME.fullmatch(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def all_releases(app: App) -> list[Release]:
    """Every recorded release of `app`, oldest first, each loaded from its file."""
    return [load(app, n) for n in numbers(app)]


def current(app: App) -> Release | None:
    """The live release (`core.release` of the app), None before the first deploy."""
    number = app.settings.get("core", "release")
    return load(app, int(number)) if number else None


def require_current(app: App) -> Release:
    """The live release; UserError telling to push first when the app was never deployed."""
    release = current(app)
    if release is None:
        raise UserError(f"{app.name} has not been deployed yet: git push it first")
    return release


KEEP_DEFAULT = 5
"""Releases whose images are kept, unless the app sets another number (`set_keep`)."""


def keep(app: App) -> int:
    """How many of the last releases keep their images (the ledger's own setting)."""
    return int(app.settings.get("releases", "keep", KEEP_DEFAULT))


def set_keep(app: App, count: int | None) -> None:
    """Keep the images of the last `count` releases; None: the default."""
    if count is None:
        app.settings.unset("releases", "keep")
    else:
        app.settings.set("releases", "keep", int(count))


def images_kept(app: App) -> set[str]:
    """The images a cleanup must leave: the last `keep(app)` releases' and the live one."""
    wanted = {r.image for r in all_releases(app)[-keep(app):]}
    wanted.add(str(app.settings.get("core", "image", "")))
    return wanted
