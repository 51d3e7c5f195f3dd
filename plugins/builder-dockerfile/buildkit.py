"""Dockerfile builds through BuildKit (the docker CLI), so the host's CA bundle can
reach every RUN step as a build secret that never lands in the image.

Each `RUN` of the user's Dockerfile gets the bundle mounted over the system store and
the variables pip, requests, node and curl read pointed at it, and each shell-form
`RUN` first lowers its own CPU and IO priority (`appliance.dockerfile_runs`); the
rewritten Dockerfile is written outside the build context, the user's is untouched,
and the build output shows the RUN lines as the user wrote them. BuildKit ignores
`--memory` and `--cpu-shares`: `appliance.builds.limit_buildkit` limits the cgroup
its steps run in instead.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from appliance_plugins.builder import builds, dockerfile_runs

from appliance.api import Output, UserError, cabundle, hostenv, tree

CA_TARGET, CA_ENV = cabundle.CA_TARGET, cabundle.CA_ENV


@functools.cache
def cli() -> str | None:
    """A docker CLI that builds with BuildKit: a 20.10 CLI does natively, newer ones
    through the buildx plugin. None when there is none."""
    candidates = [shutil.which("docker", path=hostenv.PATH), "/usr/bin/docker"]
    for docker in dict.fromkeys(c for c in candidates if c and os.access(c, os.X_OK)):
        version = _run([docker, "version", "--format", "{{.Client.Version}}"])
        if version is None:
            continue
        digits = re.match(r"\d+", version)
        if (digits and int(digits.group()) < 23) or _run([docker, "buildx", "version"]):
            return docker
    return None


def _run(argv: list[str]) -> str | None:
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=20, check=False,
            env=hostenv.host_env(),
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


CA_MOUNT = f"--mount=type=secret,id=appliance-ca,target={CA_TARGET},required=false"
CA_EXPORTS = "export " + " ".join(f"{name}={CA_TARGET}" for name in CA_ENV) + "; "


def step_changes(ca: bool) -> tuple[list[str], str]:
    """The flags added to every RUN, and the prefix of every shell-form command."""
    return ([CA_MOUNT] if ca else []), (CA_EXPORTS if ca else "") + dockerfile_runs.PRIORITY


def build(
    *,
    context: Path,
    dockerfile: str,
    tag: str,
    build_args: dict[str, str],
    ca_bundle: str | None,
    out: Output,
    timeout: int,
    extra: dict[str, Any] | None = None,
) -> None:
    docker = cli()
    if docker is None:
        raise UserError("no docker CLI with BuildKit found")
    original = builds.read_dockerfile(context, dockerfile)
    tree.read_bytes(context, ".dockerignore")  # the CLI reads it: never through a link out
    flags, prefix = step_changes(ca=ca_bundle is not None)
    builds.limit_buildkit(out)
    with tempfile.TemporaryDirectory(prefix="appliance-dockerfile-") as tmp:
        generated = Path(tmp) / "Dockerfile"
        generated.write_text(dockerfile_runs.rewrite(original, flags=flags, prefix=prefix))
        ignore = tree.read_bytes(context, f"{dockerfile}.dockerignore")
        if ignore is not None:
            (Path(tmp) / "Dockerfile.dockerignore").write_bytes(ignore)
        argv = [docker, "build", "--progress=plain", "-f", str(generated), "-t", tag]
        if ca_bundle:
            argv += ["--secret", f"id=appliance-ca,src={ca_bundle}"]
        for host, address in (extra or {}).get("extra_hosts", {}).items():
            argv += ["--add-host", f"{host}:{address}"]
        if (extra or {}).get("shm_size"):
            argv += ["--shm-size", str((extra or {})["shm_size"])]
        argv += build_arg_items(build_args)
        argv.append(str(context))
        # The CLI's own environment is the appliance's, never the build args: a build arg
        # named LD_PRELOAD, PATH or DOCKER_CONFIG is data for the build, nothing more.
        env = hostenv.host_env(DOCKER_BUILDKIT="1")
        _stream(argv, env, out, timeout, dockerfile_runs.injected(flags, prefix))


BUILD_ARG = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def build_arg_items(build_args: dict[str, str]) -> list[str]:
    """`--build-arg NAME=VALUE` for each build arg: names checked, values as data."""
    items: list[str] = []
    for key, value in build_args.items():
        if not BUILD_ARG.fullmatch(key) or "\0" in value:
            raise UserError(f"invalid build arg {key!r}")
        items += ["--build-arg", f"{key}={value}"]
    return items


def _stream(
    argv: list[str], env: dict[str, str], out: Output, timeout: int, hidden: list[str]
) -> None:
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        proc.kill()

    timer = threading.Timer(timeout, stop)
    timer.start()
    tail: list[str] = []
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = dockerfile_runs.hide(raw.rstrip(), hidden)
            if line:
                out.info(line)
                tail = [*tail[-4:], line]
        code = proc.wait()
    finally:
        timer.cancel()
    if stopped.is_set():
        raise UserError(
            f"the build took longer than {timeout} s and was stopped "
            "(builder:set-global build-timeout SECONDS)"
        )
    if code != 0:
        reason = next((ln for ln in reversed(tail) if "ERROR" in ln or "error" in ln), "")
        raise UserError(f"docker build failed: {reason or f'exit status {code}'}")
