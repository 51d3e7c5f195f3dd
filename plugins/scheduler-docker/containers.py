"""Talking to the Docker engine: start a release's web container, wait until it
listens, list and remove an app's containers."""

from __future__ import annotations

import socket
import time
from typing import Any

from appliance.errors import UserError

CONTAINER_PORT = 5000
LABEL_APP = "appliance.app"
LABEL_RELEASE = "appliance.release"
LABEL_PROCESS = "appliance.process"


def client(timeout: int = 120) -> Any:
    import docker
    import docker.errors

    try:
        engine = docker.from_env(timeout=timeout)
        engine.ping()
    except docker.errors.DockerException as exc:
        raise UserError(f"cannot reach the Docker engine: {exc}") from None
    return engine


def app_containers(engine: Any, app: str) -> list[Any]:
    return list(engine.containers.list(all=True, filters={"label": f"{LABEL_APP}={app}"}))


def release_of(container: Any) -> int:
    return int(container.labels.get(LABEL_RELEASE, "0"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def container_ip(container: Any) -> str | None:
    networks = container.attrs.get("NetworkSettings", {}).get("Networks", {}) or {}
    for network in networks.values():
        if network.get("IPAddress"):
            return str(network["IPAddress"])
    return None


def last_logs(container: Any, lines: int = 20) -> str:
    try:
        return container.logs(tail=lines).decode(errors="replace").rstrip()
    except Exception as exc:  # the container may be gone already
        return f"(no logs: {exc})"


def wait_listening(container: Any, port: int, timeout: float) -> None:
    """Wait until the app accepts TCP connections on its own address (the published
    port would accept through docker-proxy before the app listens)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        container.reload()
        status = container.status
        crashed = status in ("exited", "dead", "restarting") or container.attrs.get(
            "RestartCount", 0
        )
        if crashed:
            code = container.attrs.get("State", {}).get("ExitCode")
            raise UserError(
                f"container {container.name} exited with status {code} before listening "
                f"on port {port}; its last log lines:\n{last_logs(container)}"
            )
        ip = container_ip(container)
        if status == "running" and ip:
            try:
                with socket.create_connection((ip, port), timeout=1):
                    return
            except OSError:
                pass
        if time.monotonic() > deadline:
            raise UserError(
                f"container {container.name} did not listen on port {port} within "
                f"{timeout:g} s (the app must listen on $PORT); its last log lines:\n"
                f"{last_logs(container)}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def remove(containers: list[Any], stop_timeout: int = 10) -> None:
    import docker.errors

    for container in containers:
        try:
            if container.status == "running":
                container.stop(timeout=stop_timeout)
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
