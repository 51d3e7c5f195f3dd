"""A load generator that behaves like browsers, for zero-downtime tests and benchmarks.

    with LoadGenerator("myapp.appliance.test", rate=200, connections=8) as load:
        ...  # deploy, change config, roll back
    print(load.stats(), load.versions())

Each connection is a thread sending HTTP/1.1 keep-alive GETs to 127.0.0.1:80 at its
share of `rate`, over raw sockets so that what came back is known to the byte.

The browser rule: a request that dies on a *reused* keep-alive connection before any
byte of the response arrived (the server closed an idle connection as the request
crossed it: nginx's old workers do this on a graceful reload) is retried once on a
fresh connection; such retries are counted. Like a browser, an idle connection the
server has already closed is noticed before reuse and replaced ("stale"; turn this off
with check_idle=False and every such close shows as a retry instead). Anything
else is a failed request: an error on a fresh connection, an error after part of the
response, a timeout, a retry that fails, any status other than 2xx.

Every request's body names what answered (its "identity", by default the body's first
line); `versions()` is the order in which identities took over and `flaps()` the
requests that got an older identity after a newer one had already been served.
Bounded: it stops by itself after `max_seconds` or `max_requests`, and talks only to
loopback.
"""

from __future__ import annotations

import select
import socket
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOOPBACK = ("127.0.0.1", "::1", "localhost")
MAX_BODY = 64 * 1024


class _Retryable(Exception):
    """The connection died before any byte of the response: a browser retries."""


class _Failed(Exception):
    """The request failed for good."""


@dataclass
class Record:
    """One request as the user saw it (a retried request is one record)."""

    connection: int
    start: float  # time.monotonic()
    end: float
    status: int = 0
    identity: str = ""
    error: str = ""
    retried: str = ""  # why the first attempt was retried, if it was
    reused: bool = False  # the (first) attempt went over a reused connection

    @property
    def ok(self) -> bool:
        return not self.error and 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.end - self.start


def first_line(body: str) -> str:
    return body.split("\n", 1)[0].strip()


def fields(identity: str) -> dict[str, str]:
    """`version=2 greeting=hi` -> {"version": "2", "greeting": "hi"}."""
    return dict(part.split("=", 1) for part in identity.split() if "=" in part)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class _Connection:
    """One keep-alive connection over a raw socket, so we know whether any byte of a
    response arrived before it died."""

    def __init__(self, address: tuple[str, int], timeout: float) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.served = 0  # responses read on it so far
        self.got_bytes = False  # any byte of the current response arrived
        self.open = True

    def close(self) -> None:
        self.open = False
        self.sock.close()

    def closed_by_peer(self) -> bool:
        """What a browser checks before reusing an idle socket: has the server closed
        it (or sent something unasked, which makes it unusable too)?"""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        return True

    def request(self, request: bytes) -> tuple[int, bytes, bool]:
        """Send one request, read one response: (status, body, keep_alive).
        Raises _Retryable if nothing at all came back on a reused connection."""
        reused = self.served > 0
        self.got_bytes = False
        try:
            self.sock.sendall(request)
        except OSError as exc:
            raise self._died(reused, f"send: {_describe(exc)}") from None
        try:
            head = self._read_until(b"\r\n\r\n", reused)
            lines = head.decode("iso-8859-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise _Failed(f"bad status line {lines[0][:80]!r}")
            status = int(parts[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            keep_alive = headers.get("connection", "").lower() != "close" and parts[0] != "HTTP/1.0"
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = self._read_chunked()
            elif "content-length" in headers:
                body = self._read_exact(int(headers["content-length"]))
            else:
                body = self._read_to_close()
                keep_alive = False
        except (_Retryable, _Failed):
            self.close()
            raise
        except TimeoutError:
            self.close()
            raise _Failed("timed out waiting for the response") from None
        except OSError as exc:
            self.close()
            raise self._died(reused, _describe(exc)) from None
        self.served += 1
        if not keep_alive:
            self.close()
        return status, body, keep_alive

    def _died(self, reused: bool, why: str) -> Exception:
        self.close()
        if reused and not self.got_bytes:
            return _Retryable(why)
        where = "a reused" if reused else "a fresh"
        partial = " after part of the response" if self.got_bytes else ""
        return _Failed(f"{why} on {where} connection{partial}")

    def _fill(self, reused: bool) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise self._died(reused, "connection closed")
        self.got_bytes = True
        self.buffer += data

    def _read_until(self, marker: bytes, reused: bool) -> bytes:
        while marker not in self.buffer:
            if len(self.buffer) > MAX_BODY:
                raise _Failed("response head too long")
            self._fill(reused)
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill(True)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size = int(self._read_until(b"\r\n", True).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self._read_until(b"\r\n", True)  # no trailers expected
                return body
            body += self._read_exact(size)
            self._read_exact(2)

    def _read_to_close(self) -> bytes:
        while len(self.buffer) <= MAX_BODY:
            data = self.sock.recv(65536)
            if not data:
                break
            self.buffer += data
        data, self.buffer = self.buffer, b""
        return data


def _describe(exc: BaseException) -> str:
    return type(exc).__name__ + (f" ({exc.strerror})" if getattr(exc, "strerror", None) else "")


@dataclass
class LoadGenerator:
    """Browser-like keep-alive GET load against nginx on loopback. Use as a context
    manager, or call start() and stop()."""

    host_header: str
    rate: float = 200
    connections: int = 8
    path: str = "/"
    address: tuple[str, int] = ("127.0.0.1", 80)
    timeout: float = 10
    max_seconds: float = 600
    max_requests: int = 500_000
    identify: Callable[[str], str] = first_line
    check_idle: bool = True  # look for a server-closed idle connection before reuse
    records: list[Record] = field(default_factory=list, init=False)
    stale: int = field(default=0, init=False)  # idle connections found closed before reuse
    fresh: int = field(default=0, init=False)  # connections opened
    started_at: float = field(default=0.0, init=False)
    stopped_at: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.address[0] not in LOOPBACK:
            raise ValueError("the load generator only talks to loopback")
        if self.rate <= 0 or self.connections < 1:
            raise ValueError("rate and connections must be positive")
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host_header}\r\n"
            "User-Agent: appliance-loadgen\r\nAccept: */*\r\n\r\n"
        ).encode()

    # running

    def __enter__(self) -> LoadGenerator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.started_at = time.monotonic()
        for index in range(self.connections):
            thread = threading.Thread(
                target=self._run, args=(index,), name=f"loadgen-{index}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._done.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        if not self.stopped_at:
            self.stopped_at = time.monotonic()

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def _run(self, index: int) -> None:
        interval = self.connections / self.rate
        deadline = self.started_at + self.max_seconds
        due = self.started_at + index * interval / self.connections
        conn: _Connection | None = None
        while not self._done.is_set():
            now = time.monotonic()
            if now >= deadline or len(self.records) >= self.max_requests:
                self._done.set()
                self.stopped_at = self.stopped_at or now
                break
            if due > now:
                if self._done.wait(due - now):
                    break
            elif now - due > interval:
                due = now  # behind: do not burst to catch up
            due += interval
            conn = self._one(index, conn)
        if conn is not None:
            conn.close()

    def _connect(self) -> _Connection:
        conn = _Connection(self.address, self.timeout)
        with self._lock:
            self.fresh += 1
        return conn

    def _one(self, index: int, conn: _Connection | None) -> _Connection | None:
        start = time.monotonic()
        record = Record(connection=index, start=start, end=start)
        if conn is not None and (not conn.open or (self.check_idle and conn.closed_by_peer())):
            if conn.open:
                with self._lock:
                    self.stale += 1
            conn.close()
            conn = None
        try:
            if conn is None:
                conn = self._connect()
            record.reused = conn.served > 0
            try:
                status, body, _ = conn.request(self._request)
            except _Retryable as first:
                record.retried = str(first)
                conn = self._connect()
                status, body, _ = conn.request(self._request)
            record.status = status
            record.identity = self.identify(body[:4096].decode(errors="replace"))
            if not 200 <= status < 300:
                record.error = f"status {status}: {record.identity[:120]}"
        except _Retryable as exc:  # only from a fresh connection's retry: cannot happen
            record.error = f"retry failed: {exc}"
        except _Failed as exc:
            record.error = ("retry failed: " if record.retried else "") + str(exc)
        except OSError as exc:  # connect failed
            prefix = "retry failed: " if record.retried else ""
            record.error = f"{prefix}connect: {_describe(exc)}"
        record.end = time.monotonic()
        if conn is not None and not conn.open:
            conn = None
        with self._lock:
            self.records.append(record)
        return conn

    # results

    def now(self) -> float:
        return time.monotonic()

    def _snapshot(self, since: float | None = None, until: float | None = None) -> list[Record]:
        with self._lock:
            found = list(self.records)
        return [
            r
            for r in found
            if (since is None or r.start >= since) and (until is None or r.start < until)
        ]

    def latest(self) -> str:
        """The identity of the most recently started successful response."""
        done = [r for r in self._snapshot() if r.ok]
        return max(done, key=lambda r: r.start).identity if done else ""

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30) -> Record | None:
        """Wait for a successful response, started from now on, whose identity satisfies
        `predicate`; return it (None on timeout)."""
        since = time.monotonic()
        deadline = since + timeout
        while time.monotonic() < deadline:
            for record in self._snapshot(since):
                if record.ok and predicate(record.identity):
                    return record
            time.sleep(0.01)
        return None

    def first_seen(self, predicate: Callable[[str], bool], since: float = 0) -> Record | None:
        """The earliest-completed successful response from `since` matching `predicate`."""
        found = [r for r in self._snapshot(since) if r.ok and predicate(r.identity)]
        return min(found, key=lambda r: r.end) if found else None

    def stats(self, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        """Figures for the requests started in [since, until) (all by default)."""
        records = self._snapshot(since, until)
        ok = [r for r in records if r.ok]
        latencies = [r.latency * 1000 for r in ok]
        first = min((r.start for r in records), default=0.0)
        last = max((r.end for r in records), default=0.0)
        span = (until or last) - (since or first) if records else 0.0
        return {
            "requests": len(records),
            "ok": len(ok),
            "failures": [
                {"at": round(r.start - self.started_at, 3), "reason": r.error, "reused": r.reused}
                for r in records
                if not r.ok
            ],
            "non_2xx": sum(1 for r in records if r.status and not 200 <= r.status < 300),
            "retries": sum(1 for r in records if r.retried),
            "retry_reasons": sorted({r.retried for r in records if r.retried}),
            "stale_connections": self.stale,
            "connections_opened": self.fresh,
            "rate": round(len(records) / span, 1) if span > 0 else 0.0,
            "p50_ms": round(percentile(latencies, 50), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies, default=0.0), 2),
            "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        }

    def _analyse(self) -> tuple[list[Record], dict[str, int], list[Record]]:
        """Successful responses by start time; each identity's rank in the order they
        took over (by their first completed response); and the flaps."""
        records = sorted((r for r in self._snapshot() if r.ok), key=lambda r: r.start)
        first_done: dict[str, float] = {}
        for r in records:
            if r.identity not in first_done or r.end < first_done[r.identity]:
                first_done[r.identity] = r.end
        order = sorted(first_done, key=first_done.__getitem__)
        rank = {identity: i for i, identity in enumerate(order)}
        flaps = [
            r
            for r in records
            if rank[r.identity] + 1 < len(order)
            and r.start >= first_done[order[rank[r.identity] + 1]]
        ]
        return records, rank, flaps

    def flaps(self) -> list[Record]:
        """Requests answered by an older identity although they started after a newer
        one had already been served to someone: traffic went back, not forward.
        (A request in flight while the switch happens may finish on either side.)"""
        return self._analyse()[2]

    def versions(self) -> list[str]:
        """The identities that served, in order, consecutive duplicates collapsed. An
        identity shows again after a newer one only when it flapped back (see flaps());
        responses to requests in flight during a switch do not count as going back."""
        records, rank, flaps = self._analyse()
        flapped = {id(r) for r in flaps}
        sequence: list[str] = []
        highest = -1
        for r in records:
            if rank[r.identity] < highest and id(r) not in flapped:
                continue
            highest = max(highest, rank[r.identity])
            if not sequence or sequence[-1] != r.identity:
                sequence.append(r.identity)
        return sequence

    def summary(self, since: float | None = None, until: float | None = None) -> str:
        s = self.stats(since, until)
        return (
            f"{s['requests']} requests ({s['rate']}/s), {len(s['failures'])} failed, "
            f"{s['non_2xx']} non-2xx, {s['retries']} retried on a fresh connection, "
            f"{s['stale_connections']} stale idle connections replaced; "
            f"latency p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms"
        )
