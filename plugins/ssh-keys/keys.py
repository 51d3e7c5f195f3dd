"""The key store (`ssh-keys.toml`) and the `authorized_keys` file rendered from it.

Every line forces `appliance ssh --key NAME` with `restrict,pty`: no shell and no
forwarding, but a pty when the client asks for one (`ssh -t`), so `run` and `enter`
can be interactive; the forced command still decides what runs. The file is
rewritten whole and atomically on each change.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shlex
from collections.abc import Callable
from pathlib import Path

from appliance import api
from appliance.api import Key, UserError, access

KEY_TYPES = {
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
}
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,3}$")


MAX_LINE = 8192  # an RSA key of 16384 bits is under 3000


def parse_key(text: str) -> str:
    """Return `TYPE BASE64` from one public-key line, refusing options or junk."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        raise UserError("expected exactly one public key line")
    parts = lines[0].split()
    if len(lines[0]) > MAX_LINE:
        raise UserError(f"a public key line is at most {MAX_LINE} characters")
    if len(parts) < 2 or parts[0] not in KEY_TYPES or not _BASE64.fullmatch(parts[1]):
        raise UserError("not an OpenSSH public key (expected 'ssh-ed25519 AAAA...')")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise UserError("the key's base64 part is damaged") from None
    if not blob.startswith(len(parts[0]).to_bytes(4, "big") + parts[0].encode()):
        raise UserError("the key's type does not match its content")
    return f"{parts[0]} {parts[1]}"


def fingerprint(key: str) -> str:
    blob = base64.b64decode(key.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def load() -> dict[str, Key]:
    return access.load_keys()


def update(change: Callable[[dict[str, Key]], None]) -> dict[str, Key]:
    """Change the store under its lock, then render authorized_keys from it."""
    with api.lock_file(access.lock_path(), "the key store", timeout=30):
        keys = access.load_keys()
        change(keys)
        save(keys)
    return keys


def authorized_keys_path() -> Path:
    configured = api.global_settings().get("ssh-keys", "authorized_keys")
    if configured:
        return Path(configured)
    return Path.home() / ".ssh" / "authorized_keys"


def entry_command(name: str) -> str:
    from appliance.api import self_command

    argv = self_command()
    prefix = []
    if api.root() != Path(api.DEFAULT_ROOT):
        prefix = ["env", f"APPLIANCE_ROOT={api.root()}"]
    return shlex.join([*prefix, *argv, "ssh", "--key", name])


def save(keys: dict[str, Key]) -> None:
    access.save_keys(keys)
    lines = ["# Managed by appliance (ssh-keys:add / ssh-keys:remove): edits are overwritten"]
    for name, entry in sorted(keys.items()):
        command = entry_command(name).replace('"', '\\"')
        lines.append(f'command="{command}",restrict,pty {entry.key} {name}')
    path = authorized_keys_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    api.atomic_write(path, "\n".join(lines) + "\n", mode=0o600)
