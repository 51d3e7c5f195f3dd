"""Deploy phases, at the points Heroku and Dokku users expect:

* `scripts.dokku.predeploy` (app.json): after a build, before anything starts; its
  changes to the filesystem are committed into the image;
* the Procfile's `release` process: before the new containers start, for every new
  release (builds, config changes, rollbacks), not for a restart;
* `scripts.dokku.postdeploy`: after traffic has moved;
* `scripts.postdeploy` (Heroku's): once, after the app's first deploy.

A failing predeploy or release aborts the deploy with the old release serving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import UserError, hookimpl

if TYPE_CHECKING:
    from appliance.api import Deploy


def _script(app_json: dict[str, Any], *path: str) -> str | None:
    node: Any = app_json.get("scripts", {})
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) and node.strip() else None


def _run(deploy: Deploy, phase: str, command: str, commit: bool = False) -> dict[str, Any]:
    deploy.out.section(f"Running {phase}: {command}")
    result = deploy.appliance.hook.appliance_run_oneoff(
        deploy=deploy, command=command, commit=commit
    )
    if result is None:
        raise UserError(f"no scheduler can run the {phase} command")
    return dict(result)


@hookimpl
def appliance_pre_deploy(deploy: Deploy) -> None:
    predeploy = _script(deploy.app_json, "dokku", "predeploy")
    if predeploy and deploy.source_dir is not None:
        result = _run(deploy, "predeploy", predeploy, commit=True)
        if result["exit_code"] != 0:
            raise UserError(f"predeploy failed with exit status {result['exit_code']}")
        deploy.image = result["image"] or deploy.image
    release = deploy.procfile.get("release")
    if release and deploy.new_release:
        result = _run(deploy, "release phase", release)
        if result["exit_code"] != 0:
            raise UserError(f"release phase failed with exit status {result['exit_code']}")


@hookimpl
def appliance_post_deploy(deploy: Deploy) -> None:
    phases = [("postdeploy", _script(deploy.app_json, "dokku", "postdeploy"))]
    if deploy.first_deploy:
        phases.append(("first-deploy postdeploy", _script(deploy.app_json, "postdeploy")))
    for phase, command in phases:
        if command:
            result = _run(deploy, phase, command)
            if result["exit_code"] != 0:
                deploy.out.warn(f"{phase} failed with exit status {result['exit_code']}")
