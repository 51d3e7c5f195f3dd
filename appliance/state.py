"""The on-disk store: plain TOML files under one root, atomic writes, per-app locks.

Everything lives under `APPLIANCE_ROOT` (default `/var/lib/appliance`):

    settings.toml          global settings, one table per plugin
    apps/<app>/app.toml    an app's settings, one table per plugin
    apps/<app>/lock        the app's lock file (flock)
    plugins/<name>/        plugins installed with plugin:install
    plugins.toml           enabled/disabled plugins
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance import validate
from appliance.errors import Conflict, NotFound

DEFAULT_ROOT = "/var/lib/appliance"
"""The state root when `APPLIANCE_ROOT` is not set; a plugin asks `root()` instead."""


def root() -> Path:
    """The state root: `APPLIANCE_ROOT`, else /var/lib/appliance."""
    return Path(os.environ.get("APPLIANCE_ROOT") or DEFAULT_ROOT)


def atomic_write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    import tempfile

    if isinstance(data, str):
        data = data.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML file at `path` as a dict; `{}` when it does not exist."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}


def write_toml(path: Path, data: dict[str, Any], mode: int = 0o644) -> None:
    """Write `data` as TOML to `path`, atomically (`atomic_write`)."""
    import tomli_w

    atomic_write(path, tomli_w.dumps(data), mode)


class Settings:
    """A TOML file of tables, one per plugin: `get("proxy-nginx", "port", 80)`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The whole file as a dict of tables, read once and cached (`reload` forgets it);
        read it, never change it in place: `set`, `update`, `replace` write."""
        if self._data is None:
            self._data = read_toml(self.path)
        return self._data

    def get(self, table: str, key: str, default: Any = None) -> Any:
        """The value of `key` in `table`, `default` when either is missing (from the cache)."""
        return self.data.get(table, {}).get(key, default)

    def set(self, table: str, key: str, value: Any) -> None:
        """Set one key of one table: the file is read afresh, changed and written atomically."""
        self._data = read_toml(self.path)
        self._data.setdefault(table, {})[key] = value
        write_toml(self.path, self._data)

    def update(self, table: str, values: dict[str, Any]) -> None:
        """Set several keys of one table in a single write."""
        self._data = read_toml(self.path)
        self._data.setdefault(table, {}).update(values)
        write_toml(self.path, self._data)

    def replace(self, table: str, values: dict[str, Any]) -> None:
        """Replace a whole table in one write."""
        self._data = read_toml(self.path)
        self._data[table] = values
        write_toml(self.path, self._data)

    def reload(self) -> None:
        """Forget the cached copy: another process may have written the file."""
        self._data = None

    def unset(self, table: str, key: str) -> None:
        """Remove one key of one table (nothing happens when it is not set), in one write."""
        self._data = read_toml(self.path)
        self._data.get(table, {}).pop(key, None)
        write_toml(self.path, self._data)

    def table(self, table: str) -> dict[str, Any]:
        """A copy of one table, `{}` when it is missing: a plugin reads its own settings so."""
        return dict(self.data.get(table, {}))


class App:
    """An app's place in the store. Hooks receive this object."""

    def __init__(self, name: str, base: Path | None = None) -> None:
        self.name = validate.app_name(name)
        self.path = (base or root()) / "apps" / name
        self.settings = Settings(self.path / "app.toml")

    def exists(self) -> bool:
        """Whether the app has been created (its `app.toml` is there)."""
        return (self.path / "app.toml").is_file()

    def require(self) -> App:
        """The app itself when it exists, else `NotFound`: a command handler's first line,
        `app = App(name).require()`."""
        if not self.exists():
            raise NotFound(f"app {self.name!r} does not exist")
        return self

    def identity(self) -> str:
        """The app's random id, written at its creation (`core.id`): an app destroyed
        and created again under the same name is another app. An app created before
        ids existed gets one now, under its lock (re-read there: another process may
        have just written one); a process holding the lock already re-enters it."""
        found = self.settings.get("core", "id")
        if found:
            return str(found)
        self.require()
        with self.lock(timeout=120, what="app id", announce=False):
            self.settings.reload()
            found = self.settings.get("core", "id")
            if not found:
                found = new_identity()
                self.settings.set("core", "id", found)
        return str(found)

    def image_repository(self) -> str:
        """Where the app's images are tagged: `appliance/APP-<id>`. The id makes the
        name unguessable, so another app's build cannot start `FROM` this app's
        images (the engine's image store is shared by every app on the host)."""
        return f"appliance/{self.name}-{self.identity()}"

    def image_repositories(self) -> list[str]:
        """Every repository the app's images may carry: the current one, and the
        plain `appliance/APP` of builds made before ids (pruned and removed too)."""
        return [self.image_repository(), f"appliance/{self.name}"]

    def to_dict(self) -> dict[str, Any]:
        """The app as trigger executables receive it on stdin (JSON): name and path."""
        return {"name": self.name, "path": str(self.path)}

    def lock_timeout(self) -> float | None:
        """How long a command waits for the app's lock: `core.lock_timeout` of the app
        (apps:set), else of the host, else 600 s; 0 or none waits forever."""
        configured = self.settings.get("core", "lock_timeout")
        if configured is None:
            configured = global_settings().get("core", "lock_timeout", 600)
        return float(configured) if configured else None

    def command_lock(self, what: str) -> contextlib.AbstractContextManager[None]:
        """The app's lock for a command that changes it, waiting `lock_timeout()`:
        serialises it with deploys and other commands of the app."""
        return self.lock(timeout=self.lock_timeout(), what=what)

    @contextlib.contextmanager
    def lock(
        self, timeout: float | None = None, what: str = "", announce: bool = True
    ) -> Iterator[None]:
        """Hold the app's lock. The kernel drops a flock when its holder dies, so a
        killed deploy never leaves a stuck lock behind."""
        with lock_file(self.path / "lock", f"app {self.name}", timeout, what, announce):
            yield

    def __repr__(self) -> str:
        return f"App({self.name!r})"


def new_identity() -> str:
    import secrets

    return secrets.token_hex(8)


_HELD: dict[str, int] = {}
"""Locks this process holds, so a command holding an app's lock can run a deploy
(which takes the same lock) without deadlocking on itself."""


@contextlib.contextmanager
def lock_file(
    path: Path, label: str, timeout: float | None = None, what: str = "", announce: bool = True
) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if missing): wait up to `timeout`
    seconds (None: forever), saying `Waiting for LABEL` once, then raise `Conflict`.
    Re-entrant within a process; the kernel drops it when the holder dies."""
    key = str(path.resolve())
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            if announce:
                print(f"       Waiting for {label}: busy{holder}", file=sys.stderr, flush=True)
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise Conflict(
                            f"{label} is busy{holder}; gave up after {timeout:g} s"
                        ) from None
                    time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {what}".strip().encode(), 0)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    return f" ({text})" if text else ""


def global_settings() -> Settings:
    """The host-wide settings, `<root>/settings.toml`: a table per plugin."""
    return Settings(root() / "settings.toml")


def app_names() -> list[str]:
    """The names of every app, sorted (a directory read: no app's file is opened)."""
    apps = root() / "apps"
    try:
        entries = os.scandir(apps)
    except FileNotFoundError:
        return []
    with entries:
        names = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
    return sorted(n for n in names if (apps / n / "app.toml").is_file())
