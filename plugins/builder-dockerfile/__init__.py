"""Builds an app whose source has a Dockerfile, streaming the build to the pusher."""

from __future__ import annotations

from typing import Any

from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.hookspecs import hookimpl

QUIET = ("Removing intermediate container", "---> Running in")


NAME = "dockerfile"


def dockerfile_path(deploy: Deploy) -> str:
    return str(deploy.app.settings.get("builder-dockerfile", "dockerfile_path", "Dockerfile"))


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
    client = docker.from_env(timeout=3600)
    try:
        stream = client.api.build(
            path=str(deploy.source_dir),
            tag=deploy.image_tag,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            dockerfile=path,
        )
        for chunk in stream:
            if "error" in chunk:
                raise UserError(f"docker build failed: {chunk['error'].strip()}")
            text = chunk.get("stream", "").rstrip()
            if text and not text.lstrip().startswith(QUIET):
                out.info(text)
    except docker.errors.APIError as exc:
        raise UserError(f"docker build failed: {exc.explanation or exc}") from None
    finally:
        client.close()
    return deploy.image_tag
