"""Files of a pushed tree (an extracted revision), read and written without leaving it.

A pushed repository can hold symbolic links to anywhere (`Procfile -> /etc/passwd`,
`.dockerignore -> /var/lib/appliance/settings.toml`) and entries that are no regular
files. Every file of a pushed tree the appliance opens goes through here:

- a link that stays inside the tree is followed; one that leaves it (through any
  component of the path: `a -> /etc`, then `a/passwd`) is refused with one line that
  names the path in the repository and never quotes what it points to;
- what is read must be a regular file no larger than a bound (1 MiB unless told);
- the walk from the tree's root opens each component with O_NOFOLLOW, so a link that
  appeared after the path was resolved is refused too, not followed;
- a write replaces the directory entry (a link included) with a new regular file: it
  never writes through a link.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from appliance.errors import UserError

__all__ = [
    "MAX_FILE",
    "entries",
    "is_dir",
    "is_file",
    "read_bytes",
    "read_text",
    "replace_text",
]
"""What plugins may use, through `appliance.api`; the rest is the core's."""

MAX_FILE = 1 << 20  # app.json, Procfile, CHECKS, .buildpacks, .env, manifests
MAX_ENTRIES = 1000  # entries of one folder looked at (go sources, cmd/*)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _parts(name: str | PurePosixPath) -> list[str]:
    path = PurePosixPath(name)
    parts = [p for p in path.parts if p != "."]
    if path.is_absolute() or not parts or ".." in parts or "\0" in str(name):
        raise UserError(f"{str(name)!r} is not a plain relative path inside the repository")
    return parts


def _leaves(name: str | PurePosixPath) -> UserError:
    return UserError(f"{name} in the pushed source is a symbolic link that leaves the repository")


def _inside(root: Path, name: str | PurePosixPath) -> list[str]:
    """The components of `name` under the real root once every link is resolved."""
    base = os.path.realpath(root)
    real = os.path.realpath(os.path.join(base, *_parts(name)))
    if real == base:
        return []
    if not real.startswith(base.rstrip("/") + "/"):
        raise _leaves(name)
    return os.path.relpath(real, base).split(os.sep)


@contextlib.contextmanager
def _folder(root: Path, parts: list[str], name: str | PurePosixPath) -> Iterator[int | None]:
    """A descriptor of the folder `parts` under root, reached without following any
    link; None when it does not exist."""
    try:
        fd = os.open(os.path.realpath(root), _DIR_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        yield None
        return
    try:
        for part in parts:
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except (FileNotFoundError, NotADirectoryError):
                if _is_link(fd, part):  # appeared after the path was resolved
                    raise _leaves(name) from None
                yield None
                return
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise _leaves(name) from None
                raise _cannot(name, exc) from None
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _cannot(name: str | PurePosixPath, exc: OSError) -> UserError:
    return UserError(f"cannot open {name} in the pushed source: {exc.strerror}")


def _is_link(folder: int, part: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(part, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open(root: Path, name: str | PurePosixPath) -> int | None:
    """A read-only descriptor of `name` (any kind of entry, never a link); None when
    missing. The caller closes it."""
    parts = _inside(root, name)
    if not parts:
        raise UserError(f"{name} in the pushed source is not a regular file")
    with _folder(root, parts[:-1], name) as folder:
        if folder is None:
            return None
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
        try:
            return os.open(parts[-1], flags, dir_fd=folder)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _leaves(name) from None
            raise _cannot(name, exc) from None


def _mode(root: Path, name: str | PurePosixPath) -> int | None:
    fd = _open(root, name)
    if fd is None:
        return None
    try:
        return os.fstat(fd).st_mode
    finally:
        os.close(fd)


def is_file(root: Path, name: str | PurePosixPath) -> bool:
    """Whether `name` is a regular file inside the tree (a link leaving it: refused)."""
    mode = _mode(root, name)
    return mode is not None and stat.S_ISREG(mode)


def is_dir(root: Path, name: str | PurePosixPath) -> bool:
    """Whether `name` is a directory inside the tree (a link leaving it: refused)."""
    mode = _mode(root, name)
    return mode is not None and stat.S_ISDIR(mode)


def read_bytes(root: Path, name: str | PurePosixPath, limit: int = MAX_FILE) -> bytes | None:
    """The content of the regular file `name`, None when there is none; refused when
    it is a link leaving the tree, no regular file, or larger than `limit` bytes."""
    fd = _open(root, name)
    if fd is None:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{name} in the pushed source is not a regular file")
        if info.st_size > limit:
            raise UserError(f"{name} in the pushed source is larger than {_size(limit)}")
        chunks, total = [], 0
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UserError(f"{name} in the pushed source is larger than {_size(limit)}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(
    root: Path, name: str | PurePosixPath, limit: int = MAX_FILE, errors: str = "strict"
) -> str | None:
    """`read_bytes` decoded as UTF-8: None when there is no such file; UserError when it
    is not UTF-8 (unless `errors` says how to replace what is not)."""
    data = read_bytes(root, name, limit)
    if data is None:
        return None
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError:
        raise UserError(f"{name} in the pushed source is not UTF-8 text") from None


def replace_text(root: Path, name: str | PurePosixPath, text: str) -> None:
    """Make `name` a regular file holding `text`: whatever entry had the name (a link
    included, followed never) is replaced, atomically; its folder must be in the tree."""
    parts = _parts(name)
    folder_parts = _inside(root, PurePosixPath(*parts[:-1])) if parts[:-1] else []
    with _folder(root, folder_parts, name) as folder:
        if folder is None:
            raise UserError(f"the folder of {name} is not in the pushed source")
        temporary = f".{parts[-1]}.appliance-{secrets.token_hex(8)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(temporary, flags, 0o644, dir_fd=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.rename(temporary, parts[-1], src_dir_fd=folder, dst_dir_fd=folder)
        except OSError as exc:
            if not isinstance(exc, FileExistsError):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary, dir_fd=folder)
            raise UserError(f"cannot write {name} in the pushed source: {exc.strerror}") from None


def entries(root: Path, name: str | PurePosixPath = ".") -> list[str]:
    """The names in the folder `name` of the tree (at most MAX_ENTRIES, sorted), [] when
    it is no folder."""
    parts = [] if str(name) in ("", ".") else _inside(root, name)
    with _folder(root, parts, name) as folder:
        if folder is None:
            return []
        found = sorted(os.listdir(folder))
    if len(found) > MAX_ENTRIES:
        raise UserError(f"{name} in the pushed source has more than {MAX_ENTRIES} entries")
    return found


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"
