"""The deploy pipeline: build, start beside the old, switch traffic, retire the old.

Any failure before the switch removes what the new release started and leaves
the previous release serving.
"""

from __future__ import annotations

import time
from pathlib import Path

from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.hooks import Hooks
from appliance.output import Output
from appliance.state import App


def next_release(app: App) -> int:
    number = int(app.settings.get("core", "last_release", 0)) + 1
    app.settings.set("core", "last_release", number)
    return number


def deploy(
    app: App,
    hooks: Hooks,
    out: Output,
    *,
    user: str,
    source_dir: Path | None = None,
    rev: str | None = None,
    image: str | None = None,
    summary: str = "",
) -> Deploy:
    """Run the whole pipeline under the app's lock. The caller holds no lock."""
    started = time.monotonic()
    with app.lock(what=summary or "deploy"):
        current = app.settings.get("core", "release")
        job = Deploy(
            app=app,
            out=out,
            release=next_release(app),
            user=user,
            source_dir=source_dir,
            rev=rev,
            image=image,
            summary=summary,
            previous_release=current,
        )
        try:
            _run(job, hooks)
        except BaseException as exc:
            reason = str(exc) or type(exc).__name__
            hooks.event("appliance_deploy_failed", deploy=job, error=reason)
            raise
    job.timings["total"] = time.monotonic() - started
    return job


def _run(job: Deploy, hooks: Hooks) -> None:
    app, out = job.app, job.out
    if job.image is None:
        if job.source_dir is None:
            raise UserError("nothing to deploy: no source and no image")
        hooks.call("appliance_pre_build", deploy=job)
        with job.timed("build"):
            job.image = hooks.call("appliance_build", deploy=job)
        if job.image is None:
            raise UserError(
                f"no builder can build {app.name}: no installed builder recognises the source "
                "(the built-in one needs a Dockerfile at the top of the repository)"
            )
        hooks.call("appliance_post_build", deploy=job)
    for found in reversed(hooks.call("appliance_container_env", deploy=job)):
        job.env.update(found or {})
    hooks.call("appliance_pre_deploy", deploy=job)
    try:
        with job.timed("start"):
            targets = hooks.call("appliance_scheduler_start", deploy=job)
        if targets is None:
            raise UserError(f"no scheduler handles {app.name}")
        job.targets = list(targets)
        with job.timed("switch"):
            hooks.call("appliance_proxy_update", deploy=job)
    except BaseException:
        out.section(
            "Deploy failed: removing the new containers; the previous release keeps serving"
        )
        hooks.call("appliance_scheduler_abort", deploy=job)
        raise
    app.settings.set("core", "release", job.release)
    app.settings.set("core", "image", job.image)
    if job.rev:
        app.settings.set("core", "rev", job.rev)
    app.settings.set("core", "deployed_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    hooks.call("appliance_scheduler_retire", deploy=job)
    hooks.event("appliance_post_deploy", deploy=job)
    urls = [u for found in hooks.call("appliance_app_urls", app=app) for u in found]
    out.section(f"Application deployed: {urls[0] if urls else app.name}")
