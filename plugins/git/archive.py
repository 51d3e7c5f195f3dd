"""Source tarballs for `git:from-archive`: fetched from a URL or read from stdin, and
unpacked refusing anything that could land outside the build directory."""

from __future__ import annotations

import hashlib
import io
import re
import sys
import tarfile
from pathlib import Path, PurePosixPath

from appliance.errors import UserError

MAX_BYTES = 1 << 30
URL = re.compile(r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+$")


def read(source: str) -> bytes:
    if source == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    elif URL.fullmatch(source):
        import urllib.request

        try:
            with urllib.request.urlopen(source, timeout=120) as response:
                data = response.read(MAX_BYTES + 1)
        except OSError as exc:
            raise UserError(f"cannot fetch {source}: {exc}") from None
    else:
        raise UserError(f"{source!r} is neither '-' (stdin) nor an http(s) URL")
    if len(data) > MAX_BYTES:
        raise UserError("the archive is larger than 1 GiB")
    if not data:
        raise UserError("the archive is empty")
    return data


def fingerprint(data: bytes) -> str:
    return "archive-" + hashlib.sha256(data).hexdigest()


def unpack(data: bytes, into: Path) -> Path:
    """Unpack a (compressed) tarball; a single top-level folder becomes the source."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115
    except tarfile.TarError as exc:
        raise UserError(f"not a tar archive: {exc}") from None
    with archive:
        members = archive.getmembers()
        for member in members:
            path = PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts:
                raise UserError(f"refusing archive entry {member.name!r}: outside the source")
            if not (member.isfile() or member.isdir()):
                raise UserError(f"refusing archive entry {member.name!r}: not a file or folder")
            member.mode = (member.mode & 0o755) | 0o600
            member.uid = member.gid = 0
            member.uname = member.gname = ""
        for member in members:
            archive.extract(member, into, set_attrs=False)
            if member.isfile():
                (into / member.name).chmod(member.mode)
    entries = list(into.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into
