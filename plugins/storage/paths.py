"""Mounts as `HOST:CONTAINER:MODE` strings, host directories confined to the base.

A mount source must be a directory strictly inside the storage base, reached from the
base without a single symlink, and never nested with another source (see store.py);
it is checked when the mount is added, each time a container is created with it and
again right before each start (scheduler-docker's `start_container`)."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from appliance import api
from appliance.api import UserError

DEFAULT_BASE = "/var/lib/appliance-storage"
HELPER = "/usr/local/lib/appliance/storage-directory"
ABSOLUTE = re.compile(r"^(/[A-Za-z0-9._@+-]+)+/?$")
DIRECTORY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
FORBIDDEN_TARGETS = ("/proc", "/sys", "/dev")
OWNERS = {"app": "1000", "heroku": "1000", "herokuish": "32767", "packeto": "2000",
          "root": "0", "false": "-"}  # fmt: skip


def base() -> Path:
    return Path(str(api.global_settings().get("storage", "base", DEFAULT_BASE)))


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


def relative(host: str) -> str:
    """The part of `host` below the storage base (as set, or with its symlinks
    resolved); never empty: the base itself is never a source."""
    path = absolute(host, "host directory")
    for root in dict.fromkeys((str(base()).rstrip("/"), os.path.realpath(base()))):
        if path.startswith(root + "/") and path != root:
            return path[len(root) + 1 :]
    raise UserError(
        f"host directory {host} is not inside the storage base {base()} "
        "(symlinks resolved); create one with storage:ensure-directory NAME"
    )


def canonical(host: str) -> Path:
    """Where `host` is, for comparing sources: the resolved base joined with the part
    below it, worked out without following anything below the base (a path outside the
    base, from an old install, is only normalised)."""
    try:
        return Path(os.path.realpath(base())) / relative(host)
    except UserError:
        return Path(os.path.normpath(host))


def verified_source(host: str) -> Path:
    """The real directory behind `host`, checked now: absolute, strictly inside the
    base, no symlink in any component below the base (each one lstat'ed), a directory.

    Only the base (an admin's local-only setting) may be reached through a symlink."""
    real = Path(os.path.realpath(base()))
    for part in relative(host).split("/"):
        real = real / part
        try:
            mode = os.lstat(real).st_mode
        except FileNotFoundError:
            raise UserError(
                f"host directory {host} does not exist: create it with "
                f"storage:ensure-directory NAME"
            ) from None
        if stat.S_ISLNK(mode):
            raise UserError(
                f"host directory {host} is not inside the storage base {base()}: {real} "
                "is a symlink (symlinks are refused in a mount's path)"
            )
    if not stat.S_ISDIR(mode):
        raise UserError(f"host directory {host} is not a directory")
    return real


def nested(one: Path, other: Path) -> bool:
    """Whether one path is the other, or contains it."""
    return one == other or one in other.parents or other in one.parents


@dataclass(frozen=True)
class Mount:
    host: str
    container: str
    mode: str = "rw"

    def __str__(self) -> str:
        return f"{self.host}:{self.container}:{self.mode}"

    def same_place(self, other: Mount) -> bool:
        return self.host == other.host and self.container == other.container

    def volume(self, source: Path) -> str:
        """For Docker, with `source` the host directory as verified just now."""
        return f"{source}:{self.container}:{self.mode}"


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
