"""Fetch a source tarball over http(s) for `git:from-archive`, without becoming a way
to reach what only the host can reach.

The host name is resolved once; if ANY of its addresses is not a public unicast
address (loopback, RFC 1918, ULA, link-local, CGNAT, unspecified, multicast,
documentation ranges, the host's own addresses) the URL is refused. The connection
then goes to the address that was checked (no second lookup a DNS server could
answer differently), TLS still verifies the certificate against the host name, and
a redirect is followed only through the same check. The body is capped."""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import re
import socket
import ssl
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from appliance.api import UserError, netcheck

MAX_DOWNLOAD = 1 << 30  # 1 GiB of (compressed) archive
MAX_REDIRECTS = 5
TIMEOUT = 60  # seconds per connect or read
CHUNK = 1 << 16
URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{1,2000}")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str, port: int) -> Address:
    """The address to connect to: the first of the host's, once all are checked
    public (appliance.netcheck, shared with buildpack fetches)."""
    try:
        return ipaddress.ip_address(netcheck.public_addresses(host, port)[0])
    except UserError as exc:
        raise UserError(f"refusing to fetch from {host}: {exc}") from None


def _connection(scheme: str, host: str, port: int, pinned: Address) -> http.client.HTTPConnection:
    def connect(address: Any, timeout: Any = TIMEOUT, source: Any = None) -> socket.socket:
        return socket.create_connection((str(pinned), port), timeout, source)

    if scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    conn._create_connection = connect  # type: ignore[attr-defined]  # the checked address
    return conn


def _open(url: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    for _ in range(MAX_REDIRECTS + 1):
        if not URL.fullmatch(url):
            raise UserError(f"{url[:200]!r} is not an http(s) URL")
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UserError(f"invalid port in {url[:200]!r}") from None
        if not parts.hostname or parts.username is not None:
            raise UserError(f"{url[:200]!r} needs a host name and no user")
        pinned = resolve(parts.hostname, port)
        conn = _connection(parts.scheme, parts.hostname, port, pinned)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", target, headers={"User-Agent": "appliance", "Accept": "*/*"})
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise UserError(f"cannot fetch {url[:200]}: {exc}") from None
        if response.status in (301, 302, 303, 307, 308):
            location = response.getheader("Location") or ""
            conn.close()
            url = urljoin(url, location)
            continue
        if response.status != 200:
            conn.close()
            raise UserError(f"cannot fetch {url[:200]}: HTTP {response.status}")
        return conn, response
    raise UserError(f"cannot fetch the archive: more than {MAX_REDIRECTS} redirects")


def download(url: str, into: IO[bytes], limit: int | None = None) -> str:
    """Write the body at `url` to `into`, at most `limit` bytes (MAX_DOWNLOAD); returns
    its sha256."""
    limit = MAX_DOWNLOAD if limit is None else limit
    conn, response = _open(url)
    digest, total = hashlib.sha256(), 0
    try:
        length = response.getheader("Content-Length")
        if length and length.isascii() and length.isdigit() and int(length) > limit:
            raise UserError(f"the archive is larger than {limit >> 20} MiB")
        while chunk := response.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise UserError(f"the archive is larger than {limit >> 20} MiB")
            digest.update(chunk)
            into.write(chunk)
    except (OSError, http.client.HTTPException) as exc:
        raise UserError(f"cannot fetch {url[:200]}: {exc}") from None
    finally:
        conn.close()
    return digest.hexdigest()
