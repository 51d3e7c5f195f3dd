import re
import time
from typing import Any

from appliance import api
from appliance.api import App, Context, UserError, releases, validate

from . import containers as c
from .container_spec import setting

BUILD_TAG = re.compile(r"^build-(\d+)(?:-predeploy)?$")
OPTIONS = {
    "ready-timeout": "ready_timeout",
    "stop-timeout": "stop_timeout",
    "restart-policy": "restart_policy",
}
MAX_SECONDS = 86400  # ready-timeout and stop-timeout
RESTART_POLICY = re.compile(r"^(no|always|unless-stopped|on-failure(:\d{1,3})?)$")


def report(ctx: Context) -> int:
    """One app's containers, or with no APP every app's, in one engine query."""
    ns = ctx.parse(lambda p: p.add_argument("app", nargs="?"), formats=True)
    apps = [App(ns.app).require()] if ns.app is not None else [App(n) for n in api.app_names()]
    for app in apps:
        api.recover_if_idle(app, ctx.appliance)
    engine = c.client()
    by_app = _by_app(engine)
    from . import retiring

    overdue = [a for a in apps if retiring.overdue(a, by_app.get(a.name, []), time.time())]
    for app in overdue:  # what is past its retire deadline is retired, never shown
        retiring.retire_due(app, engine)
    if overdue:
        by_app = _by_app(engine)
    from . import health

    shown = [k for app in apps for k in by_app.get(app.name, [])]
    healthy = health.statuses([k for k in shown if k.labels.get(c.LABEL_PROCESS) != "run"])
    reports = {app.name: _rows(app, by_app.get(app.name, []), healthy) for app in apps}
    if ctx.out.json:
        ctx.out.data(reports[ns.app] if ns.app is not None else reports)
        return 0
    rows = [
        [name, *row]
        for name, found_rows in reports.items()
        for row in (
            [
                r["name"],
                r["process"],
                f"v{r['release']}",
                r["status"],
                r["health"],
                c.short_uptime(r["uptime"]),
                r["restarts"],
                _role(r),
            ]
            for r in found_rows
        )
    ]
    ctx.out.table(
        ["APP", "CONTAINER", "PROCESS", "RELEASE", "STATUS", "HEALTH", "UP", "RESTARTS", ""],
        rows,
    )  # fmt: skip
    return 0


def _role(row: dict[str, Any]) -> str:
    if row["current"]:
        return "current"
    if row["retiring_until"] is None:
        return "new" if row["deploy"] > row["live"] else "old"
    return "retiring until " + time.strftime("%H:%M:%S", time.localtime(row["retiring_until"]))


def _by_app(engine: Any) -> dict[str, list[Any]]:
    by_app: dict[str, list[Any]] = {}
    for container in _inspected(engine):
        by_app.setdefault(container.labels.get(c.LABEL_APP, ""), []).append(container)
    return by_app


def _inspected(engine: Any) -> list[Any]:
    """Every app container, fully inspected (restarts and start time are not in the
    list): one list query, then the inspections side by side rather than in turn."""
    from concurrent.futures import ThreadPoolExecutor

    import docker.errors

    listed = engine.containers.list(all=True, sparse=True, filters={"label": [c.LABEL_APP]})

    def inspect(container: Any) -> Any:
        try:
            container.reload()
        except docker.errors.NotFound:
            return None  # removed meanwhile (a retire)
        return container

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [k for k in pool.map(inspect, listed) if k is not None]


def _rows(app: App, containers: list[Any], healthy: dict[str, str]) -> list[dict[str, Any]]:
    from . import retiring

    current = app.settings.get("core", "deploy")
    pending = retiring.window(app)
    rows = []
    for k in sorted(containers, key=lambda k: (c.deploy_of(k), k.name)):
        if k.labels.get(c.LABEL_PROCESS) == "run":
            continue
        rows.append({
            "name": k.name,
            "process": k.labels.get(c.LABEL_PROCESS, ""),
            "release": int(k.labels.get(c.LABEL_RELEASE, "0")),
            "deploy": c.deploy_of(k),
            "current": c.deploy_of(k) == current,
            "live": int(current or 0),
            "retiring_until": None if c.deploy_of(k) == current
            else retiring.retiring_until(pending, c.deploy_of(k)),
            "status": k.status,
            "health": healthy.get(k.id, "-"),
            "uptime": round(c.uptime(k)),
            "restarts": int(k.attrs.get("RestartCount", 0)),
            "image": k.attrs.get("Config", {}).get("Image", ""),
        })  # fmt: skip
    return rows


def set_option(ctx: Context) -> int:
    return _set(ctx, sorted(OPTIONS))


def ps_set(ctx: Context) -> int:
    """`ps:set APP restart-policy [VALUE]`: the same setting as scheduler-docker:set."""
    return _set(ctx, ["restart-policy"])


def _set(ctx: Context, keys: list[str]) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("key", choices=keys)
        p.add_argument("value", nargs="?")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if ns.value is None:
        app.settings.unset("scheduler-docker", OPTIONS[ns.key])
        ctx.out.section(f"{ns.key} of {app.name} reset to its default")
        return 0
    value: Any
    if ns.key == "restart-policy":
        if not RESTART_POLICY.fullmatch(ns.value):
            raise UserError("restart-policy is no, always, unless-stopped or on-failure[:N]")
        value = ns.value
    else:
        value = validate.whole_number(ns.value, f"{ns.key} (seconds)", 0, MAX_SECONDS)
    app.settings.set("scheduler-docker", OPTIONS[ns.key], value)
    ctx.out.section(f"{ns.key} of {app.name} set to {ns.value} (from the next deploy)")
    return 0


def retire(ctx: Context) -> int:
    """After a deploy: let old containers drain, stop them, prune old images."""

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("--before", type=int, required=True, help="a deploy id")
        p.add_argument("--wait", type=int, default=0)
        p.add_argument("--app-id", help="the app's id: another app of the same name is left be")

    from . import retiring

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    wanted = ns.app_id or app.identity()
    time.sleep(max(ns.wait, 0))
    app.settings.reload()
    if not app.exists() or app.settings.get("core", "id") != wanted:
        return 0  # destroyed (and maybe created again) while draining: not ours any more
    for entry in retiring.window(app):  # woken early: the record has the deadline
        if entry.before == ns.before and entry.deadline > time.time():
            time.sleep(min(entry.deadline - time.time(), 86400))
    engine = c.client()
    retiring.retire_due(app, engine)
    if app.exists():
        prune_images(engine, app, ns.before)
    return 0


def prune_images(engine: Any, app: App, before: int) -> None:
    """Keep the images the release ledger keeps (`releases.images_kept`), those in use,
    and every build from deploy `before` on: a build running now has no release yet."""
    wanted = releases.images_kept(app)
    in_use = {k.attrs.get("Config", {}).get("Image") for k in c.app_containers(engine, app.name)}
    for repository in app.image_repositories():
        for image in engine.images.list(name=repository):
            for tag in image.tags:
                if not tag.startswith(f"{repository}:"):
                    continue  # identical builds of another app share this image: not ours
                build = BUILD_TAG.fullmatch(tag.rpartition(":")[2])
                if not build or int(build.group(1)) >= before:
                    continue
                if tag not in wanted and tag not in in_use:
                    c.untag(engine, tag)


def logs(ctx: Context) -> int:
    from . import logs as app_logs

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("-n", "--num", type=int, default=100, help="lines to show (0: all)")
        p.add_argument("-t", "--tail", action="store_true", help="keep following the output")
        p.add_argument("-p", "--ps", help="only this process type")
        p.add_argument("-q", "--quiet", action="store_true", help="no prefixes")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if ns.ps:
        from appliance.api import validate

        validate.process_type(ns.ps)
    app_logs.show(
        c.client(timeout=3600),
        app.name,
        app.settings.get("core", "deploy"),
        ctx.out,
        max(ns.num, 0),
        ns.tail,
        ns.ps,
        ns.quiet,
    )
    return 0


def _run_args(ctx: Context) -> tuple[App, list[str]]:
    import argparse

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("command", nargs=argparse.REMAINDER)

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    argv = [a for a in ns.command if a != "--"] if ns.command[:1] == ["--"] else ns.command
    if not argv:
        raise UserError("give the command to run: run APP COMMAND [ARGS...]", code=2)
    return app, argv


def run(ctx: Context) -> int:
    """One-off process of the current release, with its config; exit status passed back."""
    from . import oneoff

    app, argv = _run_args(ctx)
    release = releases.require_current(app)
    from . import terminal

    if terminal.interactive():
        from . import sessions

        return sessions.run_tty(
            ctx.appliance.hook, app.name, release.image, release.config, argv
        )
    if terminal.has_input():
        from . import sessions

        return sessions.run_piped(
            ctx.appliance.hook, app.name, release.image, release.config, argv, ctx.out.reader_gone
        )
    return oneoff.run_attached(
        ctx.appliance.hook, app.name, release.image, release.config, argv, ctx.out
    )


def run_detached(ctx: Context) -> int:
    from . import oneoff

    app, argv = _run_args(ctx)
    release = releases.require_current(app)
    name = oneoff.run_detached(
        ctx.appliance.hook, app.name, release.image, release.config, argv
    )
    ctx.out.section(f"Started {name} (see: appliance logs {app.name} --ps run)")
    return 0


def stop(ctx: Context) -> int:
    """Stop every container of the app (nginx then answers 502) until ps:start."""
    ns = ctx.parse(lambda p: p.add_argument("app"))
    app = App(ns.app).require()
    with app.command_lock("stop"):
        engine = c.client()
        found = [k for k in c.app_containers(engine, app.name) if k.status != "exited"]
        ctx.out.section(f"Stopping {app.name}: {len(found)} container(s)")
        for container in found:
            container.stop(timeout=setting(app, "stop_timeout", 10))
        app.settings.set("scheduler-docker", "stopped", True)
    return 0


def start(ctx: Context) -> int:
    """Start the current release again, through the usual swap."""
    ns = ctx.parse(lambda p: p.add_argument("app"))
    app = App(ns.app).require()
    release = releases.require_current(app)
    ctx.out.section(f"Starting {app.name} ({release.name})")
    api.restart(ctx.appliance, app, summary="Start", same_config=True)
    app.settings.unset("scheduler-docker", "stopped")
    return 0
