"""Commands of the Docker scheduler's own: its settings (`scheduler-docker:set`,
`ps:set`) and the detached retire after a deploy."""

import re
import time
from typing import Any

from appliance.api import App, Context, UserError, releases, validate

from . import containers as c

BUILD_TAG = re.compile(r"^build-(\d+)(?:-predeploy)?$")
OPTIONS = {
    "ready-timeout": "ready_timeout",
    "stop-timeout": "stop_timeout",
    "restart-policy": "restart_policy",
}
MAX_SECONDS = 86400  # ready-timeout and stop-timeout
RESTART_POLICY = re.compile(r"^(no|always|unless-stopped|on-failure(:\d{1,3})?)$")


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
