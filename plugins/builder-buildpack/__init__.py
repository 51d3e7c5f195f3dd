"""Builds apps with Heroku buildpacks (`bin/detect`, `bin/compile`, `bin/release`) in a
container of a settable stack image, keeping a build cache per app.

Detected (priority 20, after a Dockerfile) only when buildpacks are configured: a
`BUILDPACK_URL` config var or `.env` entry, the app's list (`buildpacks:add`), a
`.buildpacks` file, or `app.json`'s `buildpacks`. `builder:set APP buildpack` pins it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import UserError, hookimpl

from . import sources

if TYPE_CHECKING:
    from appliance.api import Deploy

NAME = "buildpack"
PRIORITY = 20


@hookimpl(trylast=True)
def appliance_builder_detect(deploy: Deploy) -> dict[str, Any] | None:
    if deploy.source_dir is None:
        return None
    try:
        urls, reason = sources.resolve(
            deploy.app, deploy.source_dir, deploy.config, deploy.app_json
        )
    except UserError as exc:  # configured, but wrongly: the build says why
        return {"builder": NAME, "priority": PRIORITY, "reason": f"buildpacks configured: {exc}"}
    if not urls:
        return None
    return {"builder": NAME, "priority": PRIORITY, "reason": reason}


@hookimpl(trylast=True)
def appliance_build(deploy: Deploy) -> str | None:
    if deploy.builder != NAME or deploy.source_dir is None:
        return None
    urls, _ = sources.resolve(deploy.app, deploy.source_dir, deploy.config, deploy.app_json)
    if not urls:
        raise UserError(
            f"no buildpacks for {deploy.app.name}: add a .buildpacks file, set BUILDPACK_URL, "
            f"or run buildpacks:add {deploy.app.name} URL"
        )
    from . import build

    return build.run(deploy, urls)
