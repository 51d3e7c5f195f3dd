"""The byte pumps of `run`/`enter` and the health probes of ps:report, without an
engine: a socketpair stands in for the engine's hijacked attach connection."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from appliance.registry import Registry


def module(name: str) -> ModuleType:
    registry = Registry()
    return registry.import_module(registry.get("scheduler-docker"), name)


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def test_pump_piped_forwards_stdin_and_splits_the_streams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = module("terminal")
    ours, engine = socket.socketpair()
    stdin_file = tmp_path / "in"
    stdin_file.write_bytes(b"x" * 200_000)
    out_path, err_path = tmp_path / "out", tmp_path / "err"
    with open(stdin_file, "rb") as stdin, open(out_path, "wb") as out, open(err_path, "wb") as err:
        monkeypatch.setattr(sys, "stdin", SimpleNamespace(fileno=stdin.fileno))
        monkeypatch.setattr(sys, "stdout", SimpleNamespace(fileno=out.fileno, flush=lambda: None))
        monkeypatch.setattr(sys, "stderr", SimpleNamespace(fileno=err.fileno, flush=lambda: None))
        received = bytearray()

        def process() -> None:
            # Answer before reading anything: the pump must never block on its input.
            engine.sendall(frame(1, b"hello ") + frame(2, b"oops\n")[:5])
            engine.sendall(frame(2, b"oops\n")[5:] + frame(1, b"world\n"))
            while chunk := engine.recv(65536):  # until the pump closes its write side
                received.extend(chunk)
            engine.sendall(frame(1, f"{len(received)}\n".encode()))
            engine.close()

        worker = threading.Thread(target=process)
        worker.start()
        terminal.pump_piped(ours)
        worker.join(5)
    assert out_path.read_bytes() == b"hello world\n200000\n"
    assert err_path.read_bytes() == b"oops\n"
    assert bytes(received) == b"x" * 200_000


def test_health_statuses(monkeypatch: pytest.MonkeyPatch) -> None:
    health = module("health")
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    monkeypatch.setattr(health.c, "CONTAINER_PORT", listening.getsockname()[1])

    def container(name: str, process: str, status: str, declared: str | None = None) -> object:
        state = {"Health": {"Status": declared}} if declared else {}
        networks = {"bridge": {"IPAddress": "127.0.0.1" if name != "gone" else "127.0.0.9"}}
        return SimpleNamespace(
            id=name, status=status, labels={"appliance.process": process},
            attrs={"State": state, "NetworkSettings": {"Networks": networks}},
        )  # fmt: skip

    found = [
        container("web", "web", "running"),
        container("gone", "web", "running"),
        container("stopped", "web", "exited"),
        container("worker", "worker", "running"),
        container("declared", "worker", "running", declared="starting"),
    ]
    monkeypatch.setattr(health, "PROBE_TIMEOUT", 0.2)
    assert health.statuses(found) == {
        "web": "healthy",
        "gone": "unhealthy",
        "stopped": "-",
        "worker": "-",
        "declared": "starting",
    }
    listening.close()
