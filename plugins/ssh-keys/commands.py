import sys
from typing import Any

from appliance import api
from appliance.api import Conflict, Context, Key, NotFound, UserError, validate

from . import keys


def add(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("name")
        p.add_argument("key", nargs="*", help="the public key; read from stdin when absent")
        p.add_argument("--admin", action="store_true", help="an admin key: every command")

    ns = ctx.parse(configure)
    name = validate.key_name(ns.name)
    text = " ".join(ns.key) if ns.key else sys.stdin.read(64 * 1024)
    if not text.strip():
        raise UserError("no key given: pass it as an argument or on stdin")
    key = keys.parse_key(text)

    def change(current: dict[str, Key]) -> None:
        if name in current:
            raise Conflict(f"a key named {name!r} already exists")
        for other, existing in current.items():
            if existing.key == key:
                raise Conflict(f"this key is already added as {other!r}")
        current[name] = Key(name, key, admin=ns.admin)

    keys.update(change)
    role = "admin" if ns.admin else "granted no apps yet: ssh-keys:grant"
    ctx.out.section(f"Added key {name} ({keys.fingerprint(key)}), {role}")
    return 0


def _rows(selected: dict[str, Key]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "type": k.key.split()[0],
            "fingerprint": k.fingerprint,
            "role": k.role,
            "apps": sorted(k.apps),
            "create": k.create,
        }
        for name, k in sorted(selected.items())
    ]


def list_keys(ctx: Context) -> int:
    ctx.parse(formats=True)
    rows = _rows(keys.load())
    if ctx.out.json:
        ctx.out.data([{k: r[k] for k in ("name", "fingerprint", "type", "role")} for r in rows])
    else:
        ctx.out.table(
            ["NAME", "TYPE", "ROLE", "FINGERPRINT"],
            [[r["name"], r["type"], r["role"], r["fingerprint"]] for r in rows],
        )
    return 0


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("name", nargs="?"), formats=True)
    current = keys.load()
    if ns.name is not None:
        name = validate.key_name(ns.name)
        if name not in current:
            raise NotFound(f"no key named {name!r}")
        current = {name: current[name]}
    rows = _rows(current)
    if ctx.out.json:
        ctx.out.data(rows[0] if ns.name is not None else rows)
        return 0
    for row in rows:
        apps = "every app" if row["role"] == "admin" else (", ".join(row["apps"]) or "none")
        if row["create"]:
            apps += " (may create apps)"
        ctx.out.report(
            f"{row['name']} key",
            {"Fingerprint": row["fingerprint"], "Role": row["role"], "Apps": apps},
        )
    return 0


def remove(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("name"))
    name = validate.key_name(ns.name)

    def change(current: dict[str, Key]) -> None:
        if name not in current:
            raise NotFound(f"no key named {name!r}")
        _keep_an_admin(ctx, current, name)
        del current[name]

    keys.update(change)
    ctx.out.section(f"Removed key {name}")
    return 0


def _keep_an_admin(ctx: Context, current: dict[str, Key], name: str) -> None:
    """Over SSH, the last admin key cannot take itself (and everyone) out."""
    others = [k for n, k in current.items() if k.admin and n != name]
    if ctx.access.via_ssh and current[name].admin and not others:
        raise Conflict(f"{name} is the last admin key: change it on the host (sudo appliance ...)")


def set_role(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("name")
        p.add_argument("role", choices=["admin", "granted"])

    ns = ctx.parse(configure)
    name = validate.key_name(ns.name)

    def change(current: dict[str, Key]) -> None:
        if name not in current:
            raise NotFound(f"no key named {name!r}")
        if ns.role == "granted":
            _keep_an_admin(ctx, current, name)
        current[name].admin = ns.role == "admin"

    keys.update(change)
    ctx.out.section(f"Key {name} is now {ns.role}")
    return 0


def grant(ctx: Context) -> int:
    return _change_grants(ctx, grant=True)


def revoke(ctx: Context) -> int:
    return _change_grants(ctx, grant=False)


def _change_grants(ctx: Context, grant: bool) -> int:
    def configure(p: Any) -> None:
        p.add_argument("name")
        p.add_argument("apps", nargs="*", metavar="APP")
        p.add_argument("--create", action="store_true", help="creating apps")

    ns = ctx.parse(configure)
    name = validate.key_name(ns.name)
    apps = [validate.app_name(a) for a in ns.apps]
    if not apps and not ns.create:
        raise UserError("name at least one app, or --create")
    if grant:
        missing = [a for a in apps if not api.App(a).exists()]
        if missing:
            raise NotFound(f"app {missing[0]!r} does not exist")

    def change(current: dict[str, Key]) -> None:
        key = current.get(name)
        if key is None:
            raise NotFound(f"no key named {name!r}")
        if key.admin:
            raise Conflict(f"{name} is an admin key: it can use every app already")
        if grant:
            key.apps.update(apps)
        else:
            key.apps.difference_update(apps)
        if ns.create:
            key.create = grant

    keys.update(change)
    what = ", ".join(apps + (["creating apps"] if ns.create else []))
    verb, to = ("Granted", "to") if grant else ("Revoked", "from")
    ctx.out.section(f"{verb} {what} {to} {name}")
    return 0
