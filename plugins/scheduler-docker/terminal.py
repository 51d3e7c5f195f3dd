"""An interactive session with a process in a container: the caller's terminal (the
pty sshd gives `ssh -t`) in raw mode, bytes both ways over the engine's hijacked
attach or exec socket, and window-size changes passed on."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from appliance.api import UserError


class HungUp(UserError):
    """The caller went away (SIGHUP, SIGTERM, or nobody reads our output any more):
    raised so the session's container is cleaned up on the way out."""


@contextlib.contextmanager
def hangup_raises() -> Iterator[None]:
    def hung_up(signum: int, frame: Any) -> None:
        raise HungUp(f"the caller went away ({signal.Signals(signum).name})", code=129)

    previous = {sig: signal.signal(sig, hung_up) for sig in (signal.SIGHUP, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def size() -> tuple[int, int] | None:
    """(rows, columns) of the caller's terminal."""
    try:
        found = os.get_terminal_size(sys.stdout.fileno())
    except OSError:
        return None
    return found.lines, found.columns


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def on_resize(resize: Callable[[int, int], None]) -> Iterator[None]:
    """Call `resize(rows, columns)` now and whenever the caller's window changes."""

    def changed(*_: Any) -> None:
        found = size()
        if found:
            with contextlib.suppress(Exception):
                resize(*found)

    previous = signal.signal(signal.SIGWINCH, changed)
    try:
        changed()
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


def raw_socket(hijacked: Any) -> Any:
    """The plain socket under what docker-py's `attach_socket`/`exec_start(socket=True)`
    return (a `SocketIO` over a unix socket, or the socket itself)."""
    return getattr(hijacked, "_sock", hijacked)


def pump(sock: Any) -> None:
    """Copy stdin to the socket and the socket to stdout until the process's side
    closes. The caller's terminal is in raw mode meanwhile, so Ctrl-C, Ctrl-D and
    arrows reach the process."""
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    sys.stdout.flush()
    watched: list[Any] = [sock, stdin]
    with hangup_raises(), raw_mode(stdin):
        while True:
            try:
                ready, _, _ = select.select(watched, [], [])
            except InterruptedError:
                continue
            if sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                _write_all(stdout, data)
            if stdin in ready:
                data = os.read(stdin, 65536)
                if data:
                    sock.sendall(data)
                else:
                    watched.remove(stdin)  # the caller's input ended; output goes on


def _write_all(fd: int, data: bytes) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


def pump_piped(sock: Any, reader_gone: Any = lambda: False) -> None:
    """Without a terminal: stdin to the socket until it ends (then the write side is
    closed, so the process reads EOF), and the engine's multiplexed frames (8-byte
    header: stream, 0, 0, 0, size) to stdout and stderr, until the process's side
    closes. Never blocks on a process that does not read its input."""
    import socket

    stdin = sys.stdin.fileno()
    outputs = {1: sys.stdout.fileno(), 2: sys.stderr.fileno()}
    sys.stdout.flush()
    sys.stderr.flush()
    sock.setblocking(False)
    reading, pending, frames = True, b"", b""
    with hangup_raises():
        while True:
            wanted = [sock, stdin] if reading and not pending else [sock]
            try:
                readable, writable, _ = select.select(wanted, [sock] if pending else [], [], 1)
            except InterruptedError:
                continue
            if not readable and not writable and reader_gone():
                raise HungUp("the caller went away", code=129)
            if sock in readable:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    data = None
                if data == b"":
                    return
                frames += data or b""
                while len(frames) >= 8:
                    size = int.from_bytes(frames[4:8], "big")
                    if len(frames) < 8 + size:
                        break
                    _write_all(outputs.get(frames[0], outputs[1]), frames[8 : 8 + size])
                    frames = frames[8 + size :]
            if pending and sock in writable:
                with contextlib.suppress(BlockingIOError):
                    pending = pending[sock.send(pending) :]
            if reading and stdin in readable:
                pending = os.read(stdin, 65536)
                if not pending:
                    reading = False
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_WR)
