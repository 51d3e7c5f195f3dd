"""Host-wide build limits: builds wait for a slot (one at a time by default, shown to
the pusher), and builders read the timeout and memory limit from here."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance import api
from appliance.api import Output, PluginError, UserError, hostenv, tree

from . import dockerfile_runs

if TYPE_CHECKING:
    import threading

    from appliance.api import Deploy

proxy_env = hostenv.proxy_env  # where builders have found it

# The limits (`builder:set-global build-timeout|build-memory|build-slots`) live in
# their own table: they shape no image, and every `builder*` table is an input of the
# build key, so a limit changed there would make the next push rebuild.
LIMITS_TABLE = "build-limits"


def limit(key: str) -> Any:
    """The host-wide build limit `key` (`timeout`, `memory` or `slots`) from settings.toml's
    `build-limits` table, else where earlier versions kept it (`builder`); None when unset."""
    settings = api.global_settings()
    value = settings.get(LIMITS_TABLE, key)
    return settings.get("builder", key) if value is None else value  # as earlier versions kept it


def timeout() -> int:
    """How many seconds a build may run (`builder:set-global build-timeout`), 3600 unset."""
    return int(limit("timeout") or 3600)


def memory() -> str | None:
    """The memory cap of a build, like `700m` or `2g` (`build-memory`); None: no cap."""
    value = limit("memory")
    return str(value) if value else None


MEMORY = re.compile(r"^\d{1,6}[kmg]$")
LIMITS_HELPER = "/usr/local/lib/appliance/build-limits"
CPU_SHARES = 256  # a build yields the CPU to running apps (the default is 1024)
BLKIO_WEIGHT = 100  # and the disk (the default is 500)
CGROUP_ROOT = "/sys/fs/cgroup"


def limit_buildkit(out: Output) -> None:
    """BuildKit ignores `docker build --memory/--cpu-shares`: put `build-memory`, a low
    CPU weight and a low IO weight on the cgroup its steps run in (`docker/buildkit`
    under dockerd's cgroupfs driver), through a root helper. Where that cannot be done
    the pusher reads why in one line, and the build goes on."""
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=20)
        try:
            driver = str(client.info().get("CgroupDriver") or "unknown")
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        out.info(f"Build limits not set on BuildKit steps: {exc}")
        return
    if driver != "cgroupfs":
        out.info(
            f"Build limits not set on BuildKit steps: dockerd uses the {driver} cgroup "
            "driver (only cgroupfs is supported)"
        )
        return
    cap = memory() or "none"
    if cap != "none" and not MEMORY.fullmatch(cap):
        out.info(f"build-memory {cap!r} is not like 700m or 2g: BuildKit steps get no memory cap")
        cap = "none"
    argv = [LIMITS_HELPER, cap]
    if os.geteuid() != 0:
        argv = ["sudo", "-n", *argv]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=20, check=False, env=hostenv.host_env()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        out.info(f"Build limits not set on BuildKit steps: {exc}")
        return
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        out.info(f"Build limits not set on BuildKit steps: {why}")


def blkio_weight() -> int | None:
    """A low IO weight for build containers, when the kernel gives Docker IO weights
    (runc fails to start a container whose weight it cannot write)."""
    root = Path(CGROUP_ROOT)
    if (root / "cgroup.controllers").is_file():
        names = ("*/io.bfq.weight", "*/io.weight")
    else:
        names = ("blkio/blkio.weight", "blkio/blkio.bfq.weight")
    if any(next(root.glob(name), None) for name in names):
        return BLKIO_WEIGHT
    return None


def host_ca_bundle() -> str | None:
    """The host's CA bundle for builds, checked and copied (`appliance.cabundle`)."""
    from appliance.api import cabundle

    return cabundle.host_ca_bundle()


def slots() -> int:
    """How many builds may run at once on the host (`build-slots`), at least 1 (default 1)."""
    return max(1, int(limit("slots") or 1))


@contextlib.contextmanager
def slot(out: Output, wait: float = 3600) -> Iterator[None]:
    """Hold one of the host's build slots; a killed build frees its slot (flock)."""
    folder = api.root() / "build-slots"
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


def read_dockerfile(context: Path, dockerfile: str) -> str:
    """The Dockerfile at `dockerfile` in `context`, which it must not leave (a pushed
    symlink could point anywhere the appliance user can read or write)."""
    text = tree.read_text(context, dockerfile)
    if text is None:
        raise UserError(f"{dockerfile} is not a file inside the pushed source")
    return text


BUILD_OPTIONS = ("extra_hosts", "shm_size")


def extra_options(deploy: Deploy) -> dict[str, Any]:
    """What plugins add to a build (`appliance_build_options`), merged: extra hosts add
    up; a host or shm size two plugins set differently is an error naming both."""
    hosts: dict[str, str] = {}
    merged: dict[str, Any] = {}
    given_by: dict[str, str] = {}
    for plugin, found in deploy.appliance.hook.appliance_build_options.by_plugin(deploy=deploy):
        found = found or {}
        unknown = sorted(set(found) - set(BUILD_OPTIONS)) if isinstance(found, dict) else [found]
        if unknown:
            raise PluginError(f"plugin {plugin}: unsupported build options {unknown}")
        for host, address in dict(found.get("extra_hosts") or {}).items():
            if hosts.get(host, address) != address:
                raise PluginError(f"plugins {given_by[host]} and {plugin} both set host {host}")
            hosts[host], given_by[host] = str(address), plugin
        if found.get("shm_size"):
            if merged.get("shm_size", found["shm_size"]) != found["shm_size"]:
                raise PluginError(f"plugins {given_by['shm']} and {plugin} both set shm_size")
            merged["shm_size"], given_by["shm"] = str(found["shm_size"]), plugin
    return {**({"extra_hosts": hosts} if hosts else {}), **merged}


def sdk_build(
    *,
    context: Path,
    dockerfile: str,
    tag: str,
    out: Output,
    buildargs: dict[str, str],
    labels: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Build with the Docker SDK's classic builder under the host's build limits
    (low CPU shares, `build-memory`, `build-timeout`, each shell-form RUN at a low CPU
    and IO priority), streaming the output.

    The Dockerfile is rewritten in place (the context is a throwaway copy of the
    source; the classic builder reads the Dockerfile from the context only).

    The build streams in a daemon thread so that a timeout can give up on it; when the
    deploy's process ends, its connection closes and the engine cancels the build."""
    import threading

    import docker
    import docker.errors

    hidden = _lower_run_priority(context, dockerfile)
    limits = _container_limits()
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
                **_sdk_extra(extra or {}),
            )
            _show_build(stream, out, hidden, finished)
        except docker.errors.APIError as exc:
            failure.append(UserError(f"docker build failed: {exc.explanation or exc}"))
        except BaseException as exc:
            failure.append(exc)

    _run_within(threading.Thread(target=run, daemon=True), seconds, finished)
    client.close()
    if failure:
        raise failure[0]


def _container_limits() -> dict[str, Any]:
    """The limits of each build step's container: low CPU shares, `build-memory`."""
    limits: dict[str, Any] = {"cpushares": CPU_SHARES}
    if memory():
        limits["memory"] = memory()
    return limits


def _run_within(worker: threading.Thread, seconds: int, finished: threading.Event) -> None:
    """Start the build's thread and wait for it at most `seconds`, then set `finished`;
    a build still running by then is given up on, as the pusher reads."""
    worker.start()
    worker.join(seconds)
    finished.set()
    if worker.is_alive():
        raise UserError(
            f"the build took longer than {seconds} s and was stopped "
            "(builder:set-global build-timeout SECONDS)"
        )


def _lower_run_priority(context: Path, dockerfile: str) -> list[str]:
    """Rewrite the Dockerfile so each shell-form RUN starts at a low CPU and IO
    priority; what to hide of that prefix in the output the pusher reads."""
    original = read_dockerfile(context, dockerfile)
    tree.read_bytes(context, ".dockerignore")  # the SDK reads it: never through a link out
    rewritten = dockerfile_runs.rewrite(original, prefix=dockerfile_runs.PRIORITY)
    if rewritten != original:
        tree.replace_text(context, dockerfile, rewritten)  # replaces a symlink, if any
    return dockerfile_runs.injected(prefix=dockerfile_runs.PRIORITY)


def _show_build(
    stream: Iterator[dict[str, Any]], out: Output, hidden: list[str], finished: threading.Event
) -> None:
    """The classic builder's output as it comes, without its noise or the injected
    priority prefix; an error chunk fails the build. Stops reading once `finished`
    is set (the build was given up on)."""
    for chunk in stream:
        if finished.is_set():
            return
        if "error" in chunk:
            error = dockerfile_runs.hide(chunk["error"].strip(), hidden)
            raise UserError(f"docker build failed: {error}")
        text = dockerfile_runs.hide(chunk.get("stream", "").rstrip(), hidden)
        if text and not text.lstrip().startswith(QUIET):
            out.info(text)
        elif chunk.get("status") and not chunk.get("progressDetail"):
            out.info(str(chunk["status"]))  # pulling a missing base image


def _sdk_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """`extra_options` as the SDK's classic build takes them (shm size in bytes)."""
    from docker.utils import parse_bytes

    found: dict[str, Any] = {}
    if extra.get("extra_hosts"):
        found["extra_hosts"] = dict(extra["extra_hosts"])
    if extra.get("shm_size"):
        found["shm_size"] = parse_bytes(str(extra["shm_size"]))
    return found
