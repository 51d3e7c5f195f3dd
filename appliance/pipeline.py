"""The deploy pipeline: build, start beside the old, check, switch traffic, retire the old.

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
from typing import Any

from appliance import builds, releases, state
from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.hooks import Hooks
from appliance.output import Output
from appliance.recovery import MARKER, recover
from appliance.state import App


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


def lock_timeout(app: App) -> float | None:
    configured = app.settings.get("core", "lock_timeout")
    if configured is None:
        configured = state.global_settings().get("core", "lock_timeout", 600)
    return float(configured) if configured else None


def deploy(
    app: App,
    hooks: Hooks,
    out: Output,
    *,
    user: str,
    summary: str = "",
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
    """Run the whole pipeline under the app's lock. The caller holds no lock.

    Without `source_dir`, `image` is deployed as is; process types and app.json then
    come from `procfile`/`app_json` or the current release.
    """
    with app.lock(timeout=lock_timeout(app), what=summary):
        recover(app, hooks, out)
        current = releases.current(app)
        deploy_id = int(app.settings.get("core", "last_deploy", 0)) + 1
        app.settings.set("core", "last_deploy", deploy_id)
        numbers = releases.numbers(app)
        job = Deploy(
            app=app,
            out=out,
            id=deploy_id,
            release=(numbers[-1] + 1 if numbers else 1) if new_release or not current else 0,
            new_release=new_release or current is None,
            user=user,
            hooks=hooks,
            source_dir=source_dir,
            rev=rev,
            tree=tree,
            image=image,
            summary=summary,
            rollback_of=rollback_of,
            previous_release=current.number if current else None,
            previous_deploy=app.settings.get("core", "deploy"),
        )
        if not job.new_release and current:
            job.release = current.number
        if config is not None:
            job.config = dict(config)
        if source_dir is None:
            base = current
            job.procfile = procfile if procfile is not None else (base.procfile if base else {})
            job.app_json = app_json if app_json is not None else (base.app_json if base else {})
        state.atomic_write(app.path / MARKER, f"{deploy_id} {os.getpid()}\n")
        hooks.event("appliance_deploy_started", deploy=job)
        try:
            with _signals_interrupt(job):
                _run(job, hooks, config_given=config is not None)
        except BaseException as exc:
            reason = str(exc) or type(exc).__name__
            hooks.event("appliance_deploy_failed", deploy=job, error=reason)
            raise
        finally:
            (app.path / MARKER).unlink(missing_ok=True)
    return job


def _run(job: Deploy, hooks: Hooks, config_given: bool) -> None:
    from appliance import appfiles

    app, out = job.app, job.out
    if not config_given:
        for found in reversed(hooks.call("appliance_container_env", deploy=job)):
            job.config.update(found or {})
        _release_changed_config(job)
    if job.source_dir is not None:
        job.procfile = appfiles.read_procfile(job.source_dir)
        job.app_json = appfiles.read_app_json(job.source_dir)
        hooks.call("appliance_pre_build", deploy=job)
        key = build_key(job)
        job.image = reusable_image(job, hooks)
        if job.image:
            out.section("Reusing the image built from this source and settings: no build needed")
        else:
            choose_builder(job, hooks)
            with job.timed("build"), builds.slot(out):
                job.image = hooks.call("appliance_build", deploy=job)
            if job.image is None:
                raise UserError(f"builder {job.builder!r} is not installed or did not build")
            remember_build(job, key)
        hooks.call("appliance_post_build", deploy=job)
    if job.image is None:
        raise UserError("nothing to deploy: no source and no image")
    job.env = dict(job.config)
    hooks.call("appliance_pre_deploy", deploy=job)
    try:
        with job.timed("start"):
            targets = hooks.call("appliance_scheduler_start", deploy=job)
        if targets is None:
            raise UserError(f"no scheduler handles {app.name}")
        job.targets = list(targets)
        hooks.call("appliance_proxy_prepare", deploy=job)
        with job.timed("checks"):
            hooks.call("appliance_deploy_checks", deploy=job)
        with job.timed("switch"):
            if not hooks.call("appliance_proxy_update", deploy=job):
                raise UserError(f"no proxy handles {app.name}: is proxy-nginx disabled?")
    except BaseException:
        out.raise_on_broken_pipe = False
        out.section("Deploy failed: the new containers are removed, the old release serves on")
        hooks.call("appliance_scheduler_abort", deploy=job)
        raise
    job.live = True
    out.raise_on_broken_pipe = False  # live now: finish even if the pusher has left
    _activate(job)
    _after_switch(job, hooks)


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


def _after_switch(job: Deploy, hooks: Hooks) -> None:
    """The release is live: what fails from here on is reported, never a failed deploy."""
    out = job.out
    try:
        hooks.call("appliance_scheduler_retire", deploy=job)
    except UserError as exc:
        out.warn(f"the old containers could not be retired: {exc}")
    hooks.event("appliance_post_deploy", deploy=job)
    try:
        urls = [u for found in hooks.call("appliance_app_urls", app=job.app) for u in found]
    except UserError as exc:
        out.warn(str(exc))
        urls = []
    job.timings["total"] = time.monotonic() - job.started
    out.info("Timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in job.timings.items()))
    out.section(f"Application deployed: {urls[0] if urls else job.app.name}")


KEEP_BUILDS = 20


def build_key(job: Deploy) -> str | None:
    """What a build depends on: the source tree, the config (build args, BUILDPACK_URL)
    and every builder setting of the app and the host. Equal keys, equal images."""
    if not job.tree:
        return None
    import hashlib
    import json

    def builder_tables(data: dict[str, Any]) -> dict[str, Any]:
        tables = {
            name: {k: v for k, v in table.items() if k != "last"}
            for name, table in data.items()
            if name.startswith("builder") and isinstance(table, dict)
        }
        return {name: table for name, table in tables.items() if table}

    inputs = {
        "tree": job.tree,
        "config": job.config,
        "app": builder_tables(state.read_toml(job.app.settings.path)),
        "host": builder_tables(state.global_settings().data),
    }
    encoded = json.dumps(inputs, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def reusable_image(job: Deploy, hooks: Hooks) -> str | None:
    """The image an earlier deploy built from the same inputs, if still present; the
    process types its builder found come back with it."""
    key = build_key(job)
    found = job.app.settings.table("builds").get(key) if key else None
    if not isinstance(found, dict):
        return None
    if not hooks.call("appliance_image_exists", image=found["image"]):
        return None
    job.procfile = {**found.get("procfile", {}), **job.procfile}
    return str(found["image"])


def remember_build(job: Deploy, key: str | None) -> None:
    if not key or not job.image:
        return
    built = job.app.settings.table("builds")
    built.pop(key, None)
    built[key] = {"image": job.image, "procfile": job.procfile}
    job.app.settings.replace("builds", dict(list(built.items())[-KEEP_BUILDS:]))


def detect_builders(job: Deploy, hooks: Hooks) -> list[dict[str, Any]]:
    found = [d for d in hooks.call("appliance_builder_detect", deploy=job) if d]
    return sorted(found, key=lambda d: (int(d.get("priority", 50)), str(d.get("builder"))))


def choose_builder(job: Deploy, hooks: Hooks) -> None:
    """The app's pinned builder, else the detected one with the lowest priority."""
    app, out = job.app, job.out
    detected = detect_builders(job, hooks)
    pinned = app.settings.get("builder", "selected")
    if pinned:
        job.builder, reason = str(pinned), "pinned with builder:set"
    elif detected:
        job.builder, reason = str(detected[0]["builder"]), str(detected[0].get("reason", ""))
    else:
        raise UserError(
            f"no builder can build {app.name}: add a Dockerfile, a .buildpacks file, or a "
            "requirements.txt, package.json, go.mod or index.html (see builder:report)"
        )
    app.settings.set("builder", "last", {"builder": job.builder, "reason": reason})
    out.section(f"Using the {job.builder} builder ({reason})")


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
