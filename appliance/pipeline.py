"""The deploy pipeline: build, start beside the old, check, switch traffic, retire the old.

Every step is a hook; the entry points (`deploy_source`, `deploy_image`, `redeploy`,
`restart`, `rollback`) say what a deploy starts from.

Any failure before the switch, an interrupted push included, removes what the new
deploy started and leaves the previous release serving. A deploy killed outright
leaves a marker that the next deploy of the app finds and cleans up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance import releases, state
from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.recovery import MARKER, recover
from appliance.state import App

if TYPE_CHECKING:
    from appliance.host import Appliance


class Interrupted(UserError):
    """The deploying process was told to stop (SIGTERM, SIGHUP: the pusher left)."""


@contextlib.contextmanager
def _signals_interrupt(job: Deploy) -> Iterator[None]:
    """SIGTERM and SIGHUP stop a deploy that has not switched yet; once live, it ends."""

    def handler(signum: int, frame: Any) -> None:
        if not job.live:
            raise Interrupted(f"deploy interrupted by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def deploy_source(
    appliance: Appliance,
    app: App,
    source_dir: Path,
    *,
    summary: str,
    rev: str | None = None,
    tree: str | None = None,
) -> Deploy:
    """Build the source tree in `source_dir` (git revision `rev`, tree id `tree` when
    known: equal trees reuse their image) and deploy it as a new release."""
    return _deploy(appliance, app, summary=summary, source_dir=source_dir, rev=rev, tree=tree)


def deploy_image(
    appliance: Appliance,
    app: App,
    image: str,
    *,
    summary: str,
    procfile: dict[str, str] | None = None,
    app_json: dict[str, Any] | None = None,
) -> Deploy:
    """Deploy a ready image as a new release; process types and app.json are those
    given, else the current release's."""
    return _deploy(
        appliance, app, summary=summary, image=image, procfile=procfile, app_json=app_json
    )


def redeploy(appliance: Appliance, app: App, *, summary: str) -> Deploy:
    """The current release's image again, with the config in force now, as a new
    release (a config change)."""
    return _deploy(appliance, app, summary=summary, image=_current(app).image)


def restart(
    appliance: Appliance, app: App, *, summary: str = "Restart", same_config: bool = False
) -> Deploy:
    """New containers for the current release. With `same_config` they run with the
    release's own config (a scale, a start); otherwise with the config in force, and a
    config changed since the release makes a new one."""
    current = _current(app)
    config = current.config if same_config else None
    return _deploy(
        appliance, app, summary=summary, image=current.image, config=config, new_release=False
    )


def rollback(appliance: Appliance, app: App, target: releases.Release) -> Deploy:
    """A new release that runs `target`'s image, config, process types and app.json."""
    return _deploy(
        appliance,
        app,
        summary=f"Rollback to {target.name}",
        image=target.image,
        config=target.config,
        procfile=target.procfile,
        app_json=target.app_json,
        rollback_of=target.number,
    )


def _current(app: App) -> releases.Release:
    current = releases.current(app)
    if current is None:
        raise UserError(f"{app.name} has no release yet: git push it first")
    return current


def _deploy(appliance: Appliance, app: App, **given: Any) -> Deploy:
    """Run the whole pipeline under the app's lock. The caller holds no lock.

    `given`: what the entry point starts from (`summary`, `source_dir`, `rev`, `tree`,
    `image`, `config`, `procfile`, `app_json`, `rollback_of`, `new_release`).
    """
    with app.lock(timeout=app.lock_timeout(), what=given["summary"]):
        recover(app, appliance)
        job = _new_deploy(appliance, app, **given)
        state.atomic_write(app.path / MARKER, f"{job.id} {os.getpid()}\n")
        hook = appliance.hook
        hook.appliance_deploy_started(deploy=job)
        try:
            with _signals_interrupt(job):
                _run(job, config_given=given.get("config") is not None)
        except BaseException as exc:
            reason = str(exc) or type(exc).__name__
            hook.appliance_deploy_failed(deploy=job, error=reason)
            raise
        finally:
            (app.path / MARKER).unlink(missing_ok=True)
    return job


def _new_deploy(
    appliance: Appliance,
    app: App,
    *,
    summary: str,
    source_dir: Path | None = None,
    rev: str | None = None,
    tree: str | None = None,
    image: str | None = None,
    config: dict[str, str] | None = None,
    procfile: dict[str, str] | None = None,
    app_json: dict[str, Any] | None = None,
    rollback_of: int = 0,
    new_release: bool = True,
) -> Deploy:
    """The next deploy of `app` (its id recorded), as the caller holding the lock
    describes it. Without `source_dir`, process types and app.json are those given,
    else the current release's."""
    current = releases.current(app)
    deploy_id = int(app.settings.get("core", "last_deploy", 0)) + 1
    app.settings.set("core", "last_deploy", deploy_id)
    numbers = releases.numbers(app)
    new_release = new_release or current is None
    job = Deploy(
        app=app,
        out=appliance.out,
        id=deploy_id,
        release=(numbers[-1] + 1 if numbers else 1) if new_release else current.number,
        new_release=new_release,
        user=appliance.user,
        appliance=appliance,
        source_dir=source_dir,
        rev=rev,
        tree=tree,
        image=image,
        summary=summary,
        rollback_of=rollback_of,
        previous_release=current.number if current else None,
        previous_deploy=app.settings.get("core", "deploy"),
    )
    if config is not None:
        job.config = dict(config)
    if source_dir is None:
        job.procfile = procfile if procfile is not None else (current.procfile if current else {})
        job.app_json = app_json if app_json is not None else (current.app_json if current else {})
    return job


def _run(job: Deploy, config_given: bool) -> None:
    from appliance import appfiles

    app, out, hook = job.app, job.out, job.appliance.hook
    if not config_given:
        for found in reversed(hook.appliance_container_env(deploy=job)):
            job.config.update(found or {})
        _release_changed_config(job)
    if job.source_dir is not None:
        job.procfile = appfiles.read_procfile(job.source_dir)
        job.app_json = appfiles.read_app_json(job.source_dir)
        hook.appliance_pre_build(deploy=job)
        job.image = hook.appliance_build_source(deploy=job)
        if job.image is None:
            raise UserError(f"no plugin builds source for {app.name}: see plugin:list")
        hook.appliance_post_build(deploy=job)
    if job.image is None:
        raise UserError("nothing to deploy: no source and no image")
    job.env = dict(job.config)
    hook.appliance_pre_deploy(deploy=job)
    try:
        with job.timed("start"):
            targets = hook.appliance_scheduler_start(deploy=job)
        if targets is None:
            raise UserError(f"no scheduler handles {app.name}: see scheduler:report")
        job.targets = list(targets)
        hook.appliance_proxy_prepare(deploy=job)
        with job.timed("checks"):
            hook.appliance_deploy_checks(deploy=job)
        with job.timed("switch"):
            if not hook.appliance_proxy_update(deploy=job):
                raise UserError(f"no proxy handles {app.name}: see proxy:report")
    except BaseException:
        out.raise_on_broken_pipe = False
        out.section("Deploy failed: the new containers are removed, the old release serves on")
        hook.appliance_scheduler_abort(deploy=job)
        raise
    job.live = True
    out.raise_on_broken_pipe = False  # live now: finish even if the pusher has left
    _activate(job)
    _after_switch(job)


def _release_changed_config(job: Deploy) -> None:
    """A restart that finds the config changed since the current release (a host-wide
    var, a `--no-restart` change) deploys it as a new release, so the ledger always
    holds what the containers run with."""
    if job.new_release:
        return
    current = releases.current(job.app)
    if current is None or current.config == job.config:
        return
    numbers = releases.numbers(job.app)
    job.new_release = True
    job.release = (numbers[-1] if numbers else 0) + 1
    changed = sorted(
        k
        for k in set(current.config) | set(job.config)
        if current.config.get(k) != job.config.get(k)
    )
    job.summary = f"{job.summary or 'Deploy'}: config changed ({', '.join(changed)})"
    job.out.info(
        f"Config changed since {current.name} ({', '.join(changed)}): new release v{job.release}"
    )


def _after_switch(job: Deploy) -> None:
    """The release is live: what fails from here on is reported, never a failed deploy."""
    out, hook = job.out, job.appliance.hook
    try:
        hook.appliance_scheduler_retire(deploy=job)
    except UserError as exc:
        out.warn(f"the old containers could not be retired: {exc}")
    hook.appliance_post_deploy(deploy=job)
    try:
        urls = [u for found in hook.appliance_app_urls(app=job.app) for u in found]
    except UserError as exc:
        out.warn(str(exc))
        urls = []
    job.timings["total"] = time.monotonic() - job.started
    out.info("Timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in job.timings.items()))
    out.section(f"Application deployed: {urls[0] if urls else job.app.name}")


def _activate(job: Deploy) -> None:
    """Traffic has moved: record the release and make it current, in one write."""
    app = job.app
    if job.new_release:
        releases.record(
            app,
            releases.Release(
                number=job.release,
                summary=job.summary,
                user=job.user,
                created_at=releases.now(),
                image=job.image or "",
                rev=job.rev or "",
                rollback_of=job.rollback_of,
                config=job.config,
                procfile=job.procfile,
                app_json=job.app_json,
            ),
        )
    live = {"release": job.release, "deploy": job.id, "image": job.image}
    if job.rev:
        live["rev"] = job.rev
    app.settings.update("core", {**live, "deployed_at": releases.now()})
