"""Host-wide build limits: builds wait for a slot (one at a time by default, shown to
the pusher), and builders read the timeout and memory limit from here."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance import state
from appliance.errors import UserError
from appliance.output import Output


def timeout() -> int:
    return int(state.global_settings().get("builder", "timeout", 3600))


def memory() -> str | None:
    value = state.global_settings().get("builder", "memory")
    return str(value) if value else None


PROXY_KEYS = ("http_proxy", "https_proxy", "no_proxy")


def proxy_env() -> dict[str, str]:
    """The host's proxy settings for builds, upper and lower case: from settings.toml
    (`builder:set-global http-proxy URL`), else from this process's environment."""
    table = state.global_settings().table("builder")
    found: dict[str, str] = {}
    for key in PROXY_KEYS:
        value = table.get(key) or os.environ.get(key) or os.environ.get(key.upper())
        if value:
            found[key] = found[key.upper()] = str(value)
    return found


def host_ca_bundle() -> str | None:
    """The host's CA bundle, to be trusted inside builds (corporate proxies)."""
    path = str(state.global_settings().get("builder", "ca_bundle", ""))
    for candidate in (
        path,
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def slots() -> int:
    return max(1, int(state.global_settings().get("builder", "slots", 1)))


@contextlib.contextmanager
def slot(out: Output, wait: float = 3600) -> Iterator[None]:
    """Hold one of the host's build slots; a killed build frees its slot (flock)."""
    folder = state.root() / "build-slots"
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    announced = False
    while True:
        for number in range(slots()):
            fd = os.open(folder / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                os.close(fd)
            return
        if not announced:
            out.section(f"Waiting for a build slot ({slots()} build(s) at a time on this host)")
            announced = True
        if time.monotonic() > deadline:
            raise UserError(f"no build slot freed up within {wait:g} s")
        time.sleep(0.2)


QUIET = ("Removing intermediate container", "---> Running in")


def sdk_build(
    *,
    context: Path,
    dockerfile: str,
    tag: str,
    out: Output,
    buildargs: dict[str, str],
    labels: dict[str, str] | None = None,
) -> None:
    """Build with the Docker SDK's classic builder under the host's build limits
    (low CPU shares, `build-memory`, `build-timeout`), streaming the output.

    The build streams in a daemon thread so that a timeout can give up on it; when the
    deploy's process ends, its connection closes and the engine cancels the build."""
    import threading

    import docker
    import docker.errors

    limits: dict[str, Any] = {"cpushares": 256}  # a build yields the CPU to running apps
    if memory():
        limits["memory"] = memory()
    seconds = timeout()
    client = docker.from_env(timeout=seconds + 60)
    failure: list[BaseException] = []
    finished = threading.Event()

    def run() -> None:
        try:
            stream = client.api.build(
                path=str(context),
                dockerfile=dockerfile,
                tag=tag,
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
                buildargs=buildargs,
                labels=labels or {},
                container_limits=limits,
            )
            for chunk in stream:
                if finished.is_set():
                    return
                if "error" in chunk:
                    raise UserError(f"docker build failed: {chunk['error'].strip()}")
                text = chunk.get("stream", "").rstrip()
                if text and not text.lstrip().startswith(QUIET):
                    out.info(text)
                elif chunk.get("status") and not chunk.get("progressDetail"):
                    out.info(str(chunk["status"]))  # pulling a missing base image
        except docker.errors.APIError as exc:
            failure.append(UserError(f"docker build failed: {exc.explanation or exc}"))
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    finished.set()
    if worker.is_alive():
        raise UserError(
            f"the build took longer than {seconds} s and was stopped "
            "(builder:set-global build-timeout SECONDS)"
        )
    client.close()
    if failure:
        raise failure[0]
