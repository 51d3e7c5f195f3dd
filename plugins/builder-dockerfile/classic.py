"""Dockerfile builds through the Docker SDK's classic builder, where no docker CLI
with BuildKit is at hand: build args and limits, but no build secrets."""

from __future__ import annotations

import threading
from typing import Any

from appliance import builds
from appliance.deploy import Deploy
from appliance.errors import UserError

QUIET = ("Removing intermediate container", "---> Running in")


def build(deploy: Deploy, path: str, args: dict[str, str]) -> None:
    import docker
    import docker.errors

    out = deploy.out
    limits: dict[str, Any] = {"cpushares": 256}  # a build yields the CPU to running apps
    if builds.memory():
        limits["memory"] = builds.memory()
    timeout = builds.timeout()
    client = docker.from_env(timeout=timeout + 60)
    failure: list[BaseException] = []
    finished = threading.Event()

    def run() -> None:
        try:
            stream = client.api.build(
                path=str(deploy.source_dir),
                dockerfile=path,
                tag=deploy.image_tag,
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
                buildargs=args,
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
        except docker.errors.APIError as exc:
            failure.append(UserError(f"docker build failed: {exc.explanation or exc}"))
        except BaseException as exc:
            failure.append(exc)

    # The build streams in a daemon thread so a timeout can give up on it; when the
    # deploy's process ends, its connection closes and the engine cancels the build.
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    finished.set()
    if worker.is_alive():
        raise UserError(
            f"the build took longer than {timeout} s and was stopped "
            "(builder:set-global build-timeout SECONDS)"
        )
    client.close()
    if failure:
        raise failure[0]
