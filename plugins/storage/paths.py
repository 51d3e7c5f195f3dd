"""Mounts as `HOST:CONTAINER:MODE` strings, host directories confined to the base.

A host directory must be inside the storage base once symlinks are resolved, both
when the mount is added and each time a container is created with it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from appliance import state
from appliance.errors import UserError

DEFAULT_BASE = "/var/lib/appliance-storage"
HELPER = "/usr/local/lib/appliance/storage-directory"
ABSOLUTE = re.compile(r"^(/[A-Za-z0-9._@+-]+)+/?$")
DIRECTORY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
FORBIDDEN_TARGETS = ("/proc", "/sys", "/dev")
OWNERS = {"app": "1000", "heroku": "1000", "herokuish": "32767", "packeto": "2000",
          "root": "0", "false": "-"}  # fmt: skip


def base() -> Path:
    return Path(str(state.global_settings().get("storage", "base", DEFAULT_BASE)))


MAX_PATH = 1024


def absolute(path: str, what: str) -> str:
    """A normalised absolute path of safe characters, without `.` or `..` parts."""
    if (
        len(path) > MAX_PATH
        or not ABSOLUTE.fullmatch(path)
        or any(p in (".", "..") for p in path.split("/"))
    ):
        raise UserError(
            f"invalid {what} {path!r}: an absolute path of letters, digits and ._@+- "
            "without '.' or '..'"
        )
    return path.rstrip("/") or "/"


def confined(host: str) -> Path:
    """The real host directory, which must be inside the storage base."""
    root = Path(os.path.realpath(base()))
    real = Path(os.path.realpath(absolute(host, "host directory")))
    if real == root or root not in real.parents:
        raise UserError(
            f"host directory {host} is not inside the storage base {base()} "
            "(symlinks resolved); create one with storage:ensure-directory NAME"
        )
    return real


@dataclass(frozen=True)
class Mount:
    host: str
    container: str
    mode: str = "rw"

    def __str__(self) -> str:
        return f"{self.host}:{self.container}:{self.mode}"

    def same_place(self, other: Mount) -> bool:
        return self.host == other.host and self.container == other.container

    def volume(self) -> str:
        """For Docker, with the host directory checked (and resolved) again now."""
        return f"{confined(self.host)}:{self.container}:{self.mode}"


def parse(text: str) -> Mount:
    parts = text.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
        raise UserError(f"invalid mount {text!r}: use HOST-DIR:CONTAINER-DIR[:ro]")
    host = absolute(parts[0], "host directory")
    container = absolute(parts[1], "container directory")
    if container == "/" or any(
        container == p or container.startswith(p + "/") for p in FORBIDDEN_TARGETS
    ):
        raise UserError(f"cannot mount over {container} in the container")
    return Mount(host, container, parts[2] if len(parts) == 3 else "rw")


def owner(text: str) -> str:
    """`--chown` as the helper takes it: a uid, or `-` to leave the owner alone."""
    if text in OWNERS:
        return OWNERS[text]
    if text.isdigit() and int(text) <= 65534:
        return str(int(text))
    raise UserError(
        f"invalid --chown {text!r}: {', '.join(OWNERS)} or a uid up to 65534"
    )


def directory_name(name: str) -> str:
    if not DIRECTORY_NAME.fullmatch(name):
        raise UserError(
            f"invalid directory name {name!r}: one name of letters, digits, '.', '_' and '-'"
        )
    return name
