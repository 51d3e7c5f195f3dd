"""Talking to the Docker engine: an app's containers, readiness, one-off runs, tags."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from appliance.api import Container, UserError

CONTAINER_PORT = 5000
LABEL_APP = "appliance.app"
LABEL_APP_ID = "appliance.app-id"
LABEL_DEPLOY = "appliance.deploy"
LABEL_RELEASE = "appliance.release"
LABEL_PROCESS = "appliance.process"
LABEL_INDEX = "appliance.index"


def client(timeout: int = 120) -> Any:
    import docker
    import docker.errors

    try:
        engine = docker.from_env(timeout=timeout)
        engine.ping()
    except docker.errors.DockerException as exc:
        raise UserError(f"cannot reach the Docker engine: {exc}") from None
    return engine


def app_containers(engine: Any, app: str, process: str | None = None) -> list[Any]:
    """The app's containers; one-off `run` containers only when asked for by name, so
    deploys, retires and aborts never touch them."""
    labels = [f"{LABEL_APP}={app}"]
    if process:
        labels.append(f"{LABEL_PROCESS}={process}")
    # A container removed between the engine's list and its inspect (a retire running
    # beside this deploy) is skipped, not a NotFound that fails the deploy.
    found = engine.containers.list(all=True, filters={"label": labels}, ignore_removed=True)
    return [k for k in found if process == "run" or k.labels.get(LABEL_PROCESS) != "run"]


def deploy_of(container: Any) -> int:
    return int(container.labels.get(LABEL_DEPLOY, "0"))


def describe(container: Any) -> Container:
    return Container(
        id=container.id,
        name=container.name,
        process=container.labels.get(LABEL_PROCESS, ""),
        deploy_id=deploy_of(container),
        address=container_ip(container),
        port=CONTAINER_PORT if container.labels.get(LABEL_PROCESS) == "web" else None,
    )


def create(engine: Any, image: str, **options: Any) -> Any:
    """Create a container without ever pulling: images are built or kept locally."""
    import docker.errors

    try:
        return engine.containers.create(image, **options)
    except docker.errors.ImageNotFound:
        raise UserError(
            f"image {image} is not on this host (releases keep their images only for the "
            "last few releases: see releases:set APP keep)"
        ) from None


def uptime(container: Any) -> float:
    """Seconds since the container started, 0 when it is not running."""
    from datetime import UTC, datetime

    state = container.attrs.get("State", {})
    started = state.get("StartedAt", "")[:19]
    if not state.get("Running") or not started:
        return 0.0
    begun = datetime.fromisoformat(started).replace(tzinfo=UTC)
    return (datetime.now(UTC) - begun).total_seconds()


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
    import docker.errors

    try:
        return container.logs(tail=lines).decode(errors="replace").rstrip()
    except docker.errors.DockerException as exc:
        return f"(no logs: {exc})"


def crashed(container: Any) -> str | None:
    """Why the container is not running as it should, or None."""
    container.reload()
    status = container.status
    if status in ("exited", "dead", "restarting") or container.attrs.get("RestartCount", 0):
        code = container.attrs.get("State", {}).get("ExitCode")
        if status == "running":  # restarted by its policy: the engine reset ExitCode
            code = last_exit_code(container)
        return f"container {container.name} exited with status {code}"
    return None


def last_exit_code(container: Any) -> int | None:
    """The exit status of the container's last run, from the engine's `die` events
    (a restart policy that started it again has reset `State.ExitCode`)."""
    from datetime import datetime

    import docker.errors

    try:
        created = datetime.fromisoformat(container.attrs["Created"][:19] + "+00:00")
        events = container.client.events(
            since=int(created.timestamp()) - 1,
            until=int(time.time()) + 1,
            filters={"container": container.id, "event": "die"},
            decode=True,
        )
        codes = [e.get("Actor", {}).get("Attributes", {}).get("exitCode") for e in events]
    except (docker.errors.DockerException, OSError, KeyError, ValueError):
        return None  # only the message's detail is at stake
    found = [c for c in codes if c is not None]
    return int(found[-1]) if found else None


def wait_listening(container: Any, port: int, timeout: float) -> None:
    """Wait until the app accepts TCP connections on its own address (the published
    port would accept through docker-proxy before the app listens)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        why = crashed(container)
        if why:
            raise UserError(
                f"{why} before listening on port {port}; its last log lines:\n"
                f"{last_logs(container)}"
            )
        ip = container_ip(container)
        if container.status == "running" and ip:
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
    """SIGTERM, then SIGKILL after `stop_timeout` seconds, then remove."""
    import docker.errors

    for container in containers:
        try:
            if container.status in ("running", "restarting"):
                container.stop(timeout=stop_timeout)
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: another process is removing it already
                raise


def untag(engine: Any, tag: str) -> None:
    """Remove the tag. Identical builds of two apps share one image, so the image may be
    in use elsewhere: force removes only the tag then, never an image a container uses."""
    import docker.errors

    with contextlib.suppress(docker.errors.NotFound):
        engine.images.remove(tag, force=True, noprune=False)
