"""Builds an app whose source has a Dockerfile, streaming the build to the pusher."""

from __future__ import annotations

import threading
from typing import Any

from appliance import builds
from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.hookspecs import hookimpl

NAME = "dockerfile"
QUIET = ("Removing intermediate container", "---> Running in")


def dockerfile_path(deploy: Deploy) -> str:
    return str(deploy.app.settings.get("builder-dockerfile", "dockerfile_path", "Dockerfile"))


def build_args(deploy: Deploy) -> dict[str, str]:
    """The proxy settings, and the config vars the app marked for build."""
    marked = deploy.app.settings.get("builder-dockerfile", "build_args", [])
    args = builds.proxy_env()
    args.update({key: deploy.config[key] for key in marked if key in deploy.config})
    return args


@hookimpl(trylast=True)
def appliance_builder_detect(deploy: Deploy) -> dict[str, Any] | None:
    path = dockerfile_path(deploy)
    if deploy.source_dir is None or not (deploy.source_dir / path).is_file():
        return None
    return {"builder": NAME, "priority": 10, "reason": f"found {path}"}


@hookimpl(trylast=True)
def appliance_build(deploy: Deploy) -> str | None:
    if deploy.builder != NAME or deploy.source_dir is None:
        return None
    path = dockerfile_path(deploy)
    if not (deploy.source_dir / path).is_file():
        raise UserError(f"{path} not found in the pushed source")
    import docker
    import docker.errors

    out = deploy.out
    out.section(f"Building {deploy.app.name} from {path}")
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
                buildargs=build_args(deploy),
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
    return deploy.image_tag
