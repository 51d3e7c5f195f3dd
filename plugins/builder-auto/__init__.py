"""Builds an app that has no Dockerfile and no buildpacks from a Dockerfile generated
for its language (Python, Node, static sites, Go), rendered from
`templates/build/<language>.Dockerfile.j2`. See README.md in this folder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance import api
from appliance.api import UserError, hookimpl

if TYPE_CHECKING:
    from appliance.api import Deploy

NAME = "auto"
PRIORITY = 90


@hookimpl(trylast=True)
def appliance_builder_detect(deploy: Deploy) -> dict[str, Any] | None:
    if deploy.source_dir is None:
        return None
    from . import detect, dockerfile

    language = deploy.app.settings.get(dockerfile.TABLE, "language")
    found = detect.sniff(deploy.source_dir, str(language) if language else None)
    if found is None:
        return None
    return {"builder": NAME, "priority": PRIORITY, "reason": found[1]}


@hookimpl(trylast=True)
def appliance_build(deploy: Deploy) -> str | None:
    if deploy.builder != NAME or deploy.source_dir is None:
        return None
    from . import build, dockerfile

    app, out = deploy.app, deploy.out
    plan = build.plan_for(deploy)
    if plan is None:
        raise UserError(
            "builder-auto found nothing to build: add a requirements.txt, pyproject.toml, "
            "package.json, go.mod, index.html or .static (or builder-auto:set APP language X)"
        )
    rendered = build.prepare(deploy, plan)
    out.section(f"Building {app.name} with a generated Dockerfile: {plan.summary}")
    for name, image in rendered.bases.items():
        out.info(f"Base image{' (run)' if name == 'go-run' else ''}: {image} "
                 f"({rendered.origins[name]})")  # fmt: skip
    if plan.cmd_rule:
        out.info(f"Default web command: {plan.cmd_rule} (a Procfile web: line wins)")
    for note in plan.notes:
        out.info(note)
    if rendered.ca:
        out.info("The host's CA bundle is trusted while dependencies install, not in the image")
    args = build.build_args(deploy)
    if args:
        out.info(
            "Proxy settings passed to the build: "
            + ", ".join(sorted(k for k in args if k.islower()))
        )
    missing = build.missing_images(list(rendered.bases.values()))
    if missing:
        out.info(f"Pulling {', '.join(missing)} (not on this host yet)")
    out.info(f"builder-auto:show {app.name} prints this Dockerfile")
    build.docker_build(
        deploy,
        labels={"appliance.builder": NAME, "appliance.language": plan.language},
        args=args,
    )
    # Kept beside the saved Dockerfile, not in app.toml: builder settings there are
    # inputs of the build (the core reuses an image when they are unchanged).
    api.write_toml(
        dockerfile.last_path(app),
        {
            "language": plan.language,
            "reason": plan.reason,
            "summary": plan.summary,
            "rev": deploy.rev or "",
            "bases": rendered.bases,
            "host_ca": rendered.ca,
        },
    )
    return deploy.image_tag
