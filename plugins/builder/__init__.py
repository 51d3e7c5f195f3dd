"""The builder plugin: turns a pushed source tree into an image by picking a builder
(pinned, else detected) and firing `appliance_build`, reusing the image of an
identical earlier build."""

from __future__ import annotations

from appliance.api import Deploy, UserError, hookimpl

from . import builds, choice


@hookimpl(trylast=True)
def appliance_build_source(deploy: Deploy) -> str:
    key = choice.build_key(deploy)
    image = choice.reusable_image(deploy, key)
    if image:
        deploy.out.section("Reusing the image built from this source and settings: no build needed")
        return image
    choice.choose_builder(deploy)
    with deploy.timed("build"), builds.slot(deploy.out):
        image = deploy.appliance.hook.appliance_build(deploy=deploy)
    if image is None:
        raise UserError(f"builder {deploy.builder!r} is not installed or did not build")
    deploy.image = image
    choice.remember_build(deploy, key)
    return str(image)
