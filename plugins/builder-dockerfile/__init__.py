"""Builds an app whose source has a Dockerfile, streaming the build to the pusher."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance_plugins.builder import builds

from appliance.api import UserError, hookimpl, tree

from . import buildkit

if TYPE_CHECKING:
    from appliance.api import Deploy

NAME = "dockerfile"


def dockerfile_path(deploy: Deploy) -> str:
    return str(deploy.app.settings.get("builder-dockerfile", "dockerfile_path", "Dockerfile"))


def build_args(deploy: Deploy) -> dict[str, str]:
    """The proxy settings, and the config vars the app marked for build."""
    marked = deploy.app.settings.get("builder-dockerfile", "build_args", [])
    args = builds.proxy_env()
    args.update({key: deploy.config[key] for key in marked if key in deploy.config})
    buildkit.build_arg_items(args)  # names checked for either builder
    return args


@hookimpl(trylast=True)
def appliance_builder_detect(deploy: Deploy) -> dict[str, Any] | None:
    path = dockerfile_path(deploy)
    if deploy.source_dir is None or not tree.is_file(deploy.source_dir, path):
        return None
    return {"builder": NAME, "priority": 10, "reason": f"found {path}"}


@hookimpl(trylast=True)
def appliance_build(deploy: Deploy) -> str | None:
    if deploy.builder != NAME or deploy.source_dir is None:
        return None
    path = dockerfile_path(deploy)
    if not tree.is_file(deploy.source_dir, path):
        raise UserError(f"{path} not found in the pushed source")
    out = deploy.out
    out.section(f"Building {deploy.app.name} from {path}")
    trust = bool(deploy.app.settings.get("builder-dockerfile", "trust_host_ca", True))
    ca_bundle = builds.host_ca_bundle() if trust else None
    if buildkit.cli():
        buildkit.build(
            context=deploy.source_dir,
            dockerfile=path,
            tag=deploy.image_tag,
            build_args=build_args(deploy),
            ca_bundle=ca_bundle,
            out=out,
            timeout=builds.timeout(),
            extra=builds.extra_options(deploy),
        )
    else:
        if ca_bundle:
            out.warn("no docker CLI with BuildKit: the host's CA bundle cannot reach this build")
        builds.sdk_build(
            context=deploy.source_dir,
            dockerfile=path,
            tag=deploy.image_tag,
            out=out,
            buildargs=build_args(deploy),
            extra=builds.extra_options(deploy),
        )
    return deploy.image_tag
