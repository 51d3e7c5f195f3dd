from typing import Any

from appliance import api
from appliance.api import App, Context, UserError, releases

from . import formation


def restart(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app"))
    app = App(ns.app).require()
    current = releases.require_current(app)
    ctx.out.section(f"Restarting {app.name} ({current.name})")
    api.restart(ctx.appliance, app, summary="Restart")
    return 0


def scale(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("assignments", nargs="*", metavar="TYPE=COUNT")

    ns = ctx.parse(configure, formats=True)
    app = App(ns.app).require()
    if not ns.assignments:
        shown = _in_force(app)
        if ctx.out.json:
            ctx.out.data(shown)
        else:
            ctx.out.raw(f"=====> {app.name} scale")
            for name, count in sorted(shown.items()):
                ctx.out.raw(f"{name}: {count}")
        return 0
    changes = formation.parse(ns.assignments)
    with app.command_lock("scale"):
        before = formation.configured(app)
        wanted = formation.bounded({**_in_force(app), **changes})
        app.settings.set("ps", "scale", wanted)
        summary = ", ".join(f"{k}={v}" for k, v in sorted(wanted.items()))
        ctx.out.section(f"Scaling {app.name}: {summary}")
        release = releases.current(app)
        if release is None:
            ctx.out.info("Saved; it applies from the first deploy")
            return 0
        try:
            api.restart(ctx.appliance, app, summary=f"Scale {summary}", same_config=True)
        except BaseException:
            if before:
                app.settings.set("ps", "scale", before)
            else:
                app.settings.unset("ps", "scale")
            raise
    return 0


def _in_force(app: App) -> dict[str, int]:
    release = releases.current(app)
    return formation.scale(
        app, release.procfile if release else {}, release.app_json if release else {}
    )


def rebuild(ctx: Context) -> int:
    """Build the current release's git revision again, from the app's repository and
    without reusing the image of an unchanged tree, and deploy it as a new release."""
    import tempfile
    from pathlib import Path

    ns = ctx.parse(lambda p: p.add_argument("app"))
    app = App(ns.app).require()
    current = releases.require_current(app)
    rev = _revision_of(app, current)
    if not rev:
        raise UserError(
            f"{app.name} {current.name} was not built from a git push: nothing to rebuild"
        )
    ctx.out.section(f"Rebuilding {app.name} from {rev[:7]} ({current.name})")
    with tempfile.TemporaryDirectory(prefix=f"appliance-{app.name}-") as tmp:
        source = Path(tmp)
        if not ctx.appliance.hook.appliance_source_checkout(app=app, rev=rev, dest=source):
            raise UserError(f"no installed plugin keeps the source of {app.name}")
        # No `tree`: the build key is unknown, so the image of this tree is not reused.
        api.deploy_source(
            ctx.appliance, app, source, summary=f"Rebuild {rev[:7]}", rev=rev
        )
    return 0


def _revision_of(app: App, current: releases.Release) -> str:
    """The revision the current release's image was built from: config changes and
    rollbacks make releases without one, so look back for the push of that image."""
    for release in reversed(releases.all_releases(app)):
        if release.number <= current.number and release.image == current.image and release.rev:
            return release.rev
    return ""


def stop(ctx: Context) -> int:
    """Stop every process of the app (the proxy then answers 502) until ps:start."""
    app = ctx.parse_app()
    with app.command_lock("stop"):
        if ctx.appliance.hook.appliance_scheduler_stop(app=app) is None:
            raise UserError(
                f"no installed plugin is the scheduler of {app.name}: see scheduler:report"
            )
    return 0


def start(ctx: Context) -> int:
    """Start the current release again, through the usual swap; the scheduler learns
    that the app runs again when the deploy goes live."""
    app = ctx.parse_app()
    release = releases.require_current(app)
    ctx.out.section(f"Starting {app.name} ({release.name})")
    api.restart(ctx.appliance, app, summary="Start", same_config=True)
    return 0
