"""Where a buildpack URL may make the host read or connect, checked when a URL is stored
and again each time a buildpack is fetched.

* A local buildpack (`/dir`, `file:///dir`) must be inside a directory an admin lists
  on the host (`buildpacks:set-global local-dirs DIR[,DIR...]`; none by default),
  compared after every symlink is resolved. The appliance's state root and the
  storage base (other apps' files) are never allowed, nor a directory holding them,
  even when listed.
* A remote one (`https://`, `http://`, `git://`, `ssh://`, `user@host:path`) must
  resolve to public addresses only (appliance.netcheck), unless an admin lists its
  host, address or network on the host (`buildpacks:set-global private-hosts ...`).
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

from appliance import api
from appliance.api import UserError, netcheck

from .sources import TABLE, Buildpack

STORAGE_DEFAULT_BASE = "/var/lib/appliance-storage"  # the storage plugin's default
MAX_ENTRIES = 20
ABSOLUTE = re.compile(r"^(/[A-Za-z0-9._@+-]+)+/?$")
HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$")
ALLOW_DIR = "sudo appliance buildpacks:set-global local-dirs DIR[,DIR...]"
ALLOW_HOST = "sudo appliance buildpacks:set-global private-hosts HOST[,HOST...]"


def local_dirs() -> list[str]:
    return [str(d) for d in api.global_settings().get(TABLE, "local_dirs", []) or []]


def private_hosts() -> list[str]:
    return [str(h) for h in api.global_settings().get(TABLE, "private_hosts", []) or []]


def _forbidden() -> list[Path]:
    """The state root and the storage base, resolved."""
    base = api.global_settings().get("storage", "base", STORAGE_DEFAULT_BASE)
    return [Path(os.path.realpath(api.root())), Path(os.path.realpath(str(base)))]


def _overlaps(real: Path, other: Path) -> bool:
    return real == other or other in real.parents or real in other.parents


def check_local(path: str) -> Path:
    """The real directory of a local buildpack, inside an allowed directory."""
    real = Path(os.path.realpath(path))
    for forbidden in _forbidden():
        if _overlaps(real, forbidden):
            raise UserError(f"buildpack {path}: paths in or above {forbidden} are never allowed")
    for allowed in local_dirs():
        top = Path(os.path.realpath(allowed))
        if real == top or top in real.parents:
            return real
    raise UserError(
        f"buildpack {path}: local buildpacks must be in a directory an admin allows "
        f"(symlinks resolved): {ALLOW_DIR}"
    )


def check_remote(buildpack: Buildpack, unresolved_ok: bool = False) -> list[str]:
    """The public addresses of a remote buildpack's host ([] when it does not resolve
    and `unresolved_ok`: the fetch checks it again)."""
    try:
        return netcheck.public_addresses(
            buildpack.host,
            buildpack.port,
            private_hosts(),
            hint=f"; an admin allows a private git server with {ALLOW_HOST}",
        )
    except netcheck.Unresolvable:
        if unresolved_ok:
            return []
        raise


def check(buildpack: Buildpack) -> None:
    """When a URL is stored: refuse what the fetch would refuse."""
    if buildpack.kind == "dir":
        check_local(buildpack.location)
    elif buildpack.location.startswith("file://"):
        check_local(buildpack.location.removeprefix("file://"))
    else:
        check_remote(buildpack, unresolved_ok=True)


def parse_dirs(value: str) -> list[str]:
    """`local-dirs`: existing directories, never `/`, the state root, the storage
    base, or anything in or above them."""
    dirs = _entries(value, "local-dirs")
    for entry in dirs:
        if not ABSOLUTE.fullmatch(entry) or any(p in (".", "..") for p in entry.split("/")):
            raise UserError(f"invalid directory {entry!r}: an absolute path without . or ..")
        real = Path(os.path.realpath(entry))
        if not real.is_dir() or real == Path("/"):
            raise UserError(f"{entry} is not a directory (or is /)")
        for forbidden in _forbidden():
            if _overlaps(real, forbidden):
                raise UserError(f"{entry}: directories in or above {forbidden} are not allowed")
    return [entry.rstrip("/") for entry in dirs]


def parse_hosts(value: str) -> list[str]:
    """`private-hosts`: host names, addresses or networks (10.1.0.0/16)."""
    hosts = _entries(value, "private-hosts")
    for entry in hosts:
        if HOST.fullmatch(entry):
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise UserError(
                f"invalid host {entry!r}: a host name, an address or a network like 10.1.0.0/16"
            ) from None
    return hosts


def _entries(value: str, what: str) -> list[str]:
    entries = [e.strip() for e in value.split(",") if e.strip()]
    if not entries or len(entries) > MAX_ENTRIES:
        raise UserError(f"{what}: 1 to {MAX_ENTRIES} comma-separated entries")
    return list(dict.fromkeys(entries))
