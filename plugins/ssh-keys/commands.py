import sys
from typing import Any

from appliance import state, validate
from appliance.command import Context
from appliance.errors import Conflict, NotFound, UserError

from . import keys


def add(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("name")
        p.add_argument("key", nargs="*", help="the public key; read from stdin when absent")

    ns = ctx.parse(configure)
    name = validate.key_name(ns.name)
    text = " ".join(ns.key) if ns.key else sys.stdin.read()
    if not text.strip():
        raise UserError("no key given: pass it as an argument or on stdin")
    key = keys.parse_key(text)
    with state.lock_file(state.root() / "ssh-keys.lock", "the key store", timeout=30):
        current = keys.load()
        if name in current:
            raise Conflict(f"a key named {name!r} already exists")
        for other, existing in current.items():
            if existing == key:
                raise Conflict(f"this key is already added as {other!r}")
        current[name] = key
        keys.save(current)
    ctx.out.section(f"Added key {name} ({keys.fingerprint(key)})")
    return 0


def list_keys(ctx: Context) -> int:
    ctx.parse(formats=True)
    rows = [
        {"name": name, "fingerprint": keys.fingerprint(key), "type": key.split()[0]}
        for name, key in sorted(keys.load().items())
    ]
    if ctx.out.json:
        ctx.out.data(rows)
    else:
        ctx.out.table(
            ["NAME", "TYPE", "FINGERPRINT"],
            [[r["name"], r["type"], r["fingerprint"]] for r in rows],
        )
    return 0


def remove(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("name"))
    name = validate.key_name(ns.name)
    with state.lock_file(state.root() / "ssh-keys.lock", "the key store", timeout=30):
        current = keys.load()
        if name not in current:
            raise NotFound(f"no key named {name!r}")
        del current[name]
        keys.save(current)
    ctx.out.section(f"Removed key {name}")
    return 0
