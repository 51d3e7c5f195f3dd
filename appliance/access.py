"""Who is calling and what they may do: key roles and grants, enforced once.

Every SSH key forces `appliance ssh --key NAME`. A key is either an admin (anything a
local root can do over SSH) or a granted key: it may run the commands a plugin marks
`scope = "app"` on the apps it is granted, plus those marked `scope = "any"`, and
nothing else. The core checks this in `authorize` before any handler runs, for
built-in and installed plugins alike; no plugin checks permissions itself.

Commands run on the host itself (root or the appliance user) act as an admin.

The key store, `ssh-keys.toml` (0600), is one table per key:

    [keys.alice]
    key = "ssh-ed25519 AAAA..."
    admin = false
    apps = ["blog", "shop"]
    create = false            # may create apps, each then granted to it

A store written before roles existed holds `name = "ssh-ed25519 ..."` strings: those
keys were all admins and stay so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance import state, validate
from appliance.errors import UserError

__all__ = [
    "Key",
    "Refused",
    "app_from_repo_path",
    "load_keys",
    "lock_path",
    "save_keys",
    "store_path",
    "update_keys",
]
"""What plugins may use, through `appliance.api`; the rest is the core's."""

LOCAL_PREFIX = "local:"


class Refused(UserError):
    """A command this caller may not run: one line, exit code 1, and audited."""


class Key:
    """One authorised key, as the store holds it."""

    def __init__(
        self,
        name: str,
        key: str,
        admin: bool,
        apps: set[str] | None = None,
        create: bool = False,
        fingerprint: str = "",
    ) -> None:
        self.name = name
        self.key = key
        self.admin = admin
        self.apps: set[str] = set(apps or ())
        self.create = create
        self._fingerprint = fingerprint

    @property
    def fingerprint(self) -> str:
        """Stored with the key, so checking a command needs no hashing."""
        if not self._fingerprint:
            import base64
            import hashlib

            digest = hashlib.sha256(base64.b64decode(self.key.split()[1])).digest()
            self._fingerprint = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
        return self._fingerprint

    @property
    def role(self) -> str:
        """`admin` or `granted`, as `ssh-keys:list` shows it."""
        return "admin" if self.admin else "granted"

    def as_toml(self) -> dict[str, Any]:
        """The key's table in the store, `ssh-keys.toml` (`save_keys` writes it)."""
        apps = sorted(self.apps)
        return {
            "key": self.key,
            "fingerprint": self.fingerprint,
            "admin": self.admin,
            "apps": apps,
            "create": self.create,
        }


def store_path() -> Path:
    """The key store, `<root>/ssh-keys.toml` (0600)."""
    return state.root() / "ssh-keys.toml"


def lock_path() -> Path:
    """The lock file a change of the key store holds (`update_keys` takes it)."""
    return state.root() / "ssh-keys.lock"


def load_keys() -> dict[str, Key]:
    """Every key in the store, by name (empty when there is no store); an entry from
    before roles is an admin, a malformed one is skipped."""
    found: dict[str, Key] = {}
    for name, entry in state.read_toml(store_path()).get("keys", {}).items():
        if isinstance(entry, str):  # before roles: every key was an admin
            found[name] = Key(name, entry, admin=True)
        elif isinstance(entry, dict) and isinstance(entry.get("key"), str):
            apps = {a for a in entry.get("apps", []) if isinstance(a, str)}
            admin, create = entry.get("admin") is True, entry.get("create") is True
            stored = entry.get("fingerprint")
            fingerprint = stored if isinstance(stored, str) else ""
            found[name] = Key(name, entry["key"], admin, apps, create, fingerprint)
    return found


def save_keys(keys: dict[str, Key]) -> None:
    """Write the store; callers hold `lock_path()` and render authorized_keys after."""
    data = {"keys": {name: k.as_toml() for name, k in sorted(keys.items())}}
    state.write_toml(store_path(), data, mode=0o600)


def update_keys(change: Any) -> dict[str, Key]:
    """Load, `change(keys)` in place, save, under the store's lock."""
    with state.lock_file(lock_path(), "the key store", timeout=30):
        keys = load_keys()
        change(keys)
        save_keys(keys)
    return keys


class Access:
    """What the caller of one command may do. `key` is None for a local caller."""

    def __init__(self, user: str, key: Key | None, via_ssh: bool) -> None:
        self.user = user
        self.key = key
        self.via_ssh = via_ssh

    @property
    def admin(self) -> bool:
        return self.key is None or self.key.admin

    @property
    def fingerprint(self) -> str:
        return self.key.fingerprint if self.key else ""

    def can_use(self, app: str) -> bool:
        return self.admin or (self.key is not None and app in self.key.apps)

    def visible_apps(self) -> set[str] | None:
        """The apps a listing may show this caller: None means all of them."""
        if self.admin or self.key is None:
            return None
        return set(self.key.apps)


def for_caller(user: str, via_ssh: bool) -> Access:
    """The caller's access. Over SSH the key must still be in the store: a key
    removed while its connection was open gets nothing."""
    if not via_ssh:
        return Access(user, None, via_ssh=False)
    key = load_keys().get(user)
    if key is None:
        raise Refused(f"not allowed for key {user}: the key is not authorised")
    return Access(user, key, via_ssh=True)


def app_argument(command: Any, args: list[str]) -> str | None:
    """The app an app-scoped command names: its first argument (for a repository path
    such as `~/hello.git/`, the app it names), or None when it names none."""
    if command.scope != "app" or not args or args[0].startswith("-"):
        return None
    if command.app_arg == "repo-path":
        return app_from_repo_path(args[0])
    return validate.app_name(args[0])


def app_named(command: Any, args: list[str]) -> str | None:
    """The app a command names, for the record; None when it names no valid one (the
    handler then says what is wrong)."""
    try:
        return app_argument(command, args)
    except UserError:
        return None


def app_from_repo_path(path: str) -> str:
    """`'hello'`, `/hello`, `~/hello.git/` all name the app `hello` (git over SSH)."""
    return validate.app_name(path.removeprefix("~/").strip("/").removesuffix(".git"))


def authorize(access: Access, command: Any, args: list[str]) -> str | None:
    """Refuse what this caller may not run; return the app the command acts on."""
    name = command.name
    if access.via_ssh:
        if command.internal:
            raise Refused(f"command not allowed: {name!r}; see 'ssh appliance@HOST help'")
        local = command.local_only or any(_names_option(a, command.local_only_args) for a in args)
        if local:
            raise Refused(f"{name} runs only on the host, as root: sudo appliance {name} ...")
    if access.admin:
        return app_named(command, args)
    app = app_argument(command, args)
    who = f"not allowed for key {access.user}"
    if command.scope == "any":
        return app
    if command.scope != "app":
        raise Refused(f"{who}: {name} acts on the host (admins only)")
    elevating = [a for a in args if _names_option(a, command.host_options)]
    if elevating:
        raise Refused(f"{who}: {name} {elevating[0].partition('=')[0]} acts on the host")
    if app is None:
        raise Refused(f"{who}: {name} without an app acts on the host (admins only)")
    if access.can_use(app):
        return app
    if command.creates_app and access.key is not None and access.key.create:
        from appliance.state import App

        if not App(app).exists():
            return app
    raise Refused(f"{who}: app {app!r} is not granted to it")


def _names_option(arg: str, names: list[str]) -> bool:
    return any(arg == n or arg.startswith(n + "=") for n in names)


def grant_created(user: str, app: str) -> None:
    """A granted key that creates an app (with `--create`) is granted it."""
    if user.startswith(LOCAL_PREFIX):
        return

    def grant(keys: dict[str, Key]) -> None:
        key = keys.get(user)
        if key is not None and not key.admin:
            key.apps.add(app)

    if user in load_keys():
        update_keys(grant)


def forget_app(app: str) -> None:
    """A destroyed app's name may be taken again: no key keeps a grant on it."""
    if not any(app in k.apps for k in load_keys().values()):
        return

    def forget(keys: dict[str, Key]) -> None:
        for key in keys.values():
            key.apps.discard(app)

    update_keys(forget)
