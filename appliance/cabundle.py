"""The host's CA bundle, trusted inside builds (corporate proxies that intercept HTTPS).

It names a host file that builds mount (buildpack builds bind-mount it, Dockerfile
builds get it as a BuildKit secret, builder-auto copies it into the build stage), so
what it names is checked when it is set and again before each build: a regular file,
no link, readable by the appliance user, bounded, holding only PEM certificates. What
builds get is a copy of what was checked, never the named path itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat

from appliance import state
from appliance.errors import UserError

__all__ = [
    "CA_ENV",
    "CA_TARGET",
    "ca_bundle_source",
    "host_ca_bundle",
    "read_ca_bundle",
]
"""What plugins may use, through `appliance.api`; the rest is the core's."""

CA_TARGET = "/etc/ssl/certs/ca-certificates.crt"
"""Where a build container sees the host's CA bundle (Debian's own path)."""
CA_ENV = (
    "SSL_CERT_FILE",
    "PIP_CERT",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "CURL_CA_BUNDLE",
)
"""Variables that point Python, pip, requests, Node and curl at `CA_TARGET`."""

DEFAULT_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
CA_MAX = 5 << 20
_PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----[ \t]*\r?\n([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----"
)


def ca_bundle_source() -> tuple[str, bool] | None:
    """Where the host's CA bundle comes from, and whether it was set with
    `builder:set-global ca-bundle` (else a system default that exists). Not checked."""
    configured = str(state.global_settings().get("builder", "ca_bundle", "") or "")
    if configured:
        return configured, True
    found = next((p for p in DEFAULT_CA_BUNDLES if os.path.isfile(p)), None)
    return (found, False) if found else None


def read_ca_bundle(path: str, follow: bool = False) -> bytes:
    """The CA bundle at `path`, checked: an absolute path with no link in it (a system
    default may be a link, `follow`), a regular file this process can read, at most
    5 MiB, holding PEM CERTIFICATE blocks and nothing else but blank and `#` lines.
    Anything else (a private key, /etc/shadow) is refused in one line that never quotes
    the file."""
    if not path.startswith("/") or "\0" in path:
        raise UserError(f"CA bundle {path!r}: not an absolute path")
    if not follow and os.path.realpath(path) != os.path.normpath(path):
        raise UserError(f"CA bundle {path}: the path goes through a symbolic link")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
                     | (0 if follow else os.O_NOFOLLOW))  # fmt: skip
    except OSError as exc:
        raise UserError(f"CA bundle {path}: cannot be read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserError(f"CA bundle {path}: not a regular file")
        data = _read(fd, CA_MAX + 1)
    finally:
        os.close(fd)
    if len(data) > CA_MAX:
        raise UserError(f"CA bundle {path}: larger than {CA_MAX >> 20} MiB")
    _check_pem(path, data)
    return data


def _read(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total < limit and (chunk := os.read(fd, min(65536, limit - total))):
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _check_pem(path: str, data: bytes) -> None:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise UserError(f"CA bundle {path}: not a PEM file (not ASCII text)") from None
    blocks, at = 0, 0
    for match in _PEM.finditer(text):
        _only_comments(path, text[at : match.start()])
        try:
            base64.b64decode("".join(match.group(1).split()), validate=True)
        except ValueError:
            raise UserError(f"CA bundle {path}: certificate {blocks + 1} is not base64") from None
        blocks, at = blocks + 1, match.end()
    _only_comments(path, text[at:])
    if not blocks:
        raise UserError(f"CA bundle {path}: holds no PEM CERTIFICATE block")


def _only_comments(path: str, between: str) -> None:
    for line in between.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            raise UserError(
                f"CA bundle {path}: holds something other than PEM CERTIFICATE blocks "
                "(only certificates, blank lines and # comments are allowed)"
            )


def host_ca_bundle() -> str | None:
    """The host's CA bundle, to be trusted inside builds (corporate proxies): checked
    now (it may have changed since it was set) and copied as checked to a file of the
    appliance's own, which is what builds mount. A bundle set with `builder:set-global
    ca-bundle` that no longer passes fails the build; a system default that does not
    pass is not used."""
    found = ca_bundle_source()
    if found is None:
        return None
    path, configured = found
    try:
        data = read_ca_bundle(path, follow=not configured)
    except UserError as exc:
        if configured:
            raise UserError(f"{exc} (builder:set-global ca-bundle)") from None
        return None
    copy = state.root() / "build-ca" / f"{hashlib.sha256(data).hexdigest()[:24]}.crt"
    if not copy.is_file() or copy.read_bytes() != data:
        state.atomic_write(copy, data, mode=0o644)
    return str(copy)
