"""Source tarballs for `git:from-archive`: fetched from a URL (see `fetch`) or read from
stdin into a file, then unpacked refusing anything that could land outside the build
directory or fill the disk.

Every member is checked before anything is written: a path (relative, no `..`, at
most MAX_DEPTH folders and MAX_PATH characters), a kind (files, folders, and
symbolic links pointing down into the tree; no hard links, devices or fifos), and
running totals (MAX_MEMBERS members, MAX_UNPACKED bytes). Only an archive that
passes is extracted, and through tarfile's `data` filter as well."""

from __future__ import annotations

import hashlib
import sys
import tarfile
from pathlib import Path, PurePosixPath

from appliance.api import UserError

from . import fetch

MAX_BYTES = fetch.MAX_DOWNLOAD  # the archive as sent, compressed
MAX_UNPACKED = 1 << 30  # 1 GiB once unpacked
MAX_MEMBERS = 100_000
MAX_DEPTH = 64
MAX_PATH = 4096
CHUNK = 1 << 16
# tarfile's own `data` filter, a second check, where this Python has it (3.11.4+).
DATA_FILTER: dict[str, str] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def read(source: str, into: Path) -> str:
    """Write the archive named by `source` ('-' for stdin, or an http(s) URL) to
    `into`; returns its fingerprint."""
    with into.open("wb") as out:
        if source == "-":
            digest = _copy(sys.stdin.buffer, out)
        elif source.startswith(("http://", "https://")):
            digest = fetch.download(source, out)
        else:
            raise UserError(f"{source[:200]!r} is neither '-' (stdin) nor an http(s) URL")
    if into.stat().st_size == 0:
        raise UserError("the archive is empty")
    return "archive-" + digest


def _copy(stream: object, out: object) -> str:
    digest, total = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):  # type: ignore[attr-defined]
        total += len(chunk)
        if total > MAX_BYTES:
            raise UserError(f"the archive is larger than {MAX_BYTES >> 20} MiB")
        digest.update(chunk)
        out.write(chunk)  # type: ignore[attr-defined]
    return digest.hexdigest()


def _refusal(member: tarfile.TarInfo, links: set[str]) -> str | None:
    """Why `member` may not be unpacked, or None."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        return "outside the source"
    if len(member.name) > MAX_PATH or len(path.parts) > MAX_DEPTH:
        return f"deeper than {MAX_DEPTH} folders or longer than {MAX_PATH} characters"
    parents = {str(p) for p in path.parents}
    if parents & links:
        return "inside a symbolic link"
    if member.issym():
        target = PurePosixPath(member.linkname)
        if not member.linkname or target.is_absolute() or ".." in target.parts:
            return f"a symbolic link to {member.linkname[:100]!r} that leaves its folder"
        return None
    if member.islnk():
        return "a hard link"
    if not (member.isfile() or member.isdir()):
        return "not a file, folder or symbolic link (a device, fifo...)"
    return None


def check(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every member, checked, reading only headers and stopping at the first refusal."""
    members: list[tarfile.TarInfo] = []
    links: set[str] = set()
    total = 0
    for member in archive:
        if len(members) >= MAX_MEMBERS:
            raise UserError(f"the archive has more than {MAX_MEMBERS} members (the limit)")
        why = _refusal(member, links)
        if why:
            raise UserError(f"refusing archive entry {member.name[:200]!r}: {why}")
        if member.issym():
            links.add(str(PurePosixPath(member.name)))
        total += member.size if member.isfile() else 0
        if total > MAX_UNPACKED:
            raise UserError(
                f"the archive unpacks to more than {MAX_UNPACKED >> 20} MiB (the limit)"
            )
        members.append(member)
    return members


def unpack(path: Path, into: Path) -> Path:
    """Unpack a (compressed) tarball; a single top-level folder becomes the source."""
    try:
        archive = tarfile.open(path, mode="r:*")  # noqa: SIM115
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise UserError(f"not a tar archive: {exc}") from None
    into.mkdir(exist_ok=True)
    with archive:
        try:
            members = check(archive)
            for member in members:
                archive.extract(member, into, set_attrs=False, **DATA_FILTER)  # type: ignore[arg-type]
                if member.isfile():
                    (into / member.name).chmod((member.mode & 0o755) | 0o600)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise UserError(f"cannot unpack the archive: {exc}") from None
    entries = list(into.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return into
