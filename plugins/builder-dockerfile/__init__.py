"""Builds an app whose source has a Dockerfile, streaming the build to the pusher."""

from __future__ import annotations

from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.hookspecs import hookimpl

QUIET = ("Removing intermediate container", "---> Running in")


@hookimpl(trylast=True)
def appliance_build(deploy: Deploy) -> str | None:
    if deploy.source_dir is None or not (deploy.source_dir / "Dockerfile").is_file():
        return None
    import docker
    import docker.errors

    out = deploy.out
    out.section(f"Building {deploy.app.name} from Dockerfile")
    client = docker.from_env(timeout=3600)
    try:
        stream = client.api.build(
            path=str(deploy.source_dir),
            tag=deploy.image_tag,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
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
