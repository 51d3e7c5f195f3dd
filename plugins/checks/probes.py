"""One attempt of a check over the network: an HTTP GET or a TCP connection.

Each returns an `Outcome`: passed or not, and one line saying what came back.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass

MAX_BODY = 1024 * 1024
EXCERPT = 200


@dataclass(frozen=True)
class Outcome:
    ok: bool
    got: str  # what came back, one line: 'status 200, body "hello"'
    fatal: bool = False  # retrying cannot help (the container has stopped)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """A quoted, one-line excerpt: newlines show as \\n."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return json.dumps(short, ensure_ascii=False)


def http_get(
    address: str,
    port: int,
    path: str,
    *,
    content: str = "",
    headers: dict[str, str] | None = None,
    timeout: float = 5,
    scheme: str = "http",
) -> Outcome:
    """GET `path`; pass on a 2xx or 3xx status (redirects are not followed) whose body
    contains `content`."""
    conn: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # a container's own certificate, by address
        conn = http.client.HTTPSConnection(address, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "*/*", **(headers or {})})
        response = conn.getresponse()
        body = response.read(MAX_BODY).decode(errors="replace")
    except TimeoutError:
        return Outcome(False, f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, _network_error(exc))
    finally:
        conn.close()
    got = f"status {response.status}, body {excerpt(body)}"
    if not 200 <= response.status < 400:
        return Outcome(False, got)
    if content and content not in body:
        return Outcome(False, f"status {response.status}, body without it: {excerpt(body)}")
    return Outcome(True, got)


def tcp_connect(address: str, port: int, timeout: float = 5) -> Outcome:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return Outcome(True, f"connected to {address}:{port}")
    except TimeoutError:
        return Outcome(False, f"no connection to {address}:{port} within {timeout:g} s")
    except OSError as exc:
        return Outcome(False, f"{address}:{port}: {_network_error(exc)}")


def _network_error(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the connection closed without an answer"
    strerror = getattr(exc, "strerror", None)
    return str(strerror) if strerror else f"{type(exc).__name__}: {exc}"
