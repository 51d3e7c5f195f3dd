"""storage:mount, storage:unmount, storage:list, storage:ensure-directory,
storage:set-global, storage:report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from appliance import api
from appliance.api import App, Conflict, Context, NotFound, UserError, hostenv

from . import paths, store

APPLIES = "applies at the next deploy or ps:restart"


def _app_and_mount(p: Any) -> None:
    p.add_argument("app")
    p.add_argument("mount", metavar="HOST-DIR:CONTAINER-DIR[:ro]")


def mount(ctx: Context) -> int:
    ns = ctx.parse(_app_and_mount)
    app = App(ns.app).require()
    wanted = paths.parse(ns.mount)
    paths.relative(wanted.host)
    if not os.path.isdir(wanted.host):
        raise NotFound(
            f"{wanted.host} does not exist: create it with storage:ensure-directory "
            f"{os.path.basename(wanted.host)}"
        )
    with app.command_lock("storage:mount"):
        found = store.mounts(app)
        if any(m.container == wanted.container for m in found):
            raise Conflict(f"{app.name} already mounts something at {wanted.container}")
        _not_nested(app, wanted)
        store.save(app, [*found, wanted])
    ctx.out.section(f"Mounted {wanted} in {app.name}; {APPLIES}")
    return 0


def _not_nested(app: App, wanted: paths.Mount) -> None:
    """The new source obeys every rule (store.py): verified now, nested with no recorded
    source (this app's included) and with no directory a container still mounts."""
    source = paths.verified_source(wanted.host)
    clash = store.nested_with(app, wanted, source)
    if clash:
        name, other = clash
        raise Conflict(
            f"{wanted.host} is nested with {other} mounted by {name}: mount sources may "
            "not contain one another (mount a sibling directory instead)"
        )
    for container, used in store.sources_in_use():
        if paths.nested(source, Path(os.path.normpath(used))):
            raise Conflict(
                f"{wanted.host} is nested with {used}, still mounted by container "
                f"{container}: mount sources may not contain one another"
            )


def unmount(ctx: Context) -> int:
    ns = ctx.parse(_app_and_mount)
    app = App(ns.app).require()
    gone = paths.parse(ns.mount)
    with app.command_lock("storage:unmount"):
        found = store.mounts(app)
        kept = [m for m in found if not m.same_place(gone)]
        if len(kept) == len(found):
            raise NotFound(f"{app.name} has no mount {gone.host}:{gone.container}")
        store.save(app, kept)
    ctx.out.section(f"Unmounted {gone.host}:{gone.container} from {app.name}; {APPLIES}")
    return 0


def list_mounts(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    found = store.mounts(app)
    if ctx.out.json:
        ctx.out.data([{"host": m.host, "container": m.container, "mode": m.mode} for m in found])
        return 0
    ctx.out.raw(f"=====> {app.name} volume bind-mounts:")
    for m in found:
        ctx.out.raw(f"       {m}")
    if not found:
        ctx.out.raw("       none")
    return 0


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app", nargs="?"), formats=True)
    data: dict[str, Any] = {"base": str(paths.base())}
    apps = [App(ns.app).require()] if ns.app is not None else [App(n) for n in api.app_names()]
    if ns.app is not None:
        data["mounts"] = [str(m) for m in store.mounts(apps[0])]
    data["problems"] = [text for app in apps for text in store.problems(app)]
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    fields = {"Storage base": data["base"]}
    if ns.app:
        fields["Mounts"] = ", ".join(data["mounts"]) or "none"
    fields["Problems"] = "; ".join(data["problems"]) or "none"
    ctx.out.report(f"{ns.app or 'host'} storage", fields)
    return 0


def ensure_directory(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("name")
        p.add_argument("--chown", default="app", help="app (uid 1000, default), heroku, "
                       "herokuish (32767), packeto (2000), root, false or a uid")  # fmt: skip

    ns = ctx.parse(configure)
    name = paths.directory_name(ns.name)
    owner = paths.owner(ns.chown)
    created = run_helper(str(paths.base()), name, owner)
    ctx.out.section(f"Storage directory {created} is ready")
    ctx.out.info(f"Mount it with: storage:mount APP {created}:/CONTAINER-DIR")
    return 0


def run_helper(base: str, name: str, owner: str) -> str:
    """The root helper install.sh puts in place (through sudo); without it (a checkout
    run as root), the copy shipped with the package."""
    helper = str(api.global_settings().get("storage", "helper", paths.HELPER))
    if os.path.isfile(helper):
        argv = [helper]
    else:
        argv = [sys.executable, "-I", str(api.templates_dir() / "system" / "storage-directory")]
    if os.geteuid() != 0:
        argv = ["sudo", "-n", *argv]
    result = subprocess.run(
        [*argv, base, name, owner],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=hostenv.host_env(),
    )
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"cannot create the storage directory: {why}")
    return result.stdout.strip()


def set_global(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("key", choices=["base"])
        p.add_argument("value", nargs="?")

    ns = ctx.parse(configure)
    settings = api.global_settings()
    if ns.value is None:
        settings.unset("storage", "base")
        ctx.out.section(f"Storage base reset to {paths.DEFAULT_BASE}")
        return 0
    value = paths.absolute(ns.value, "storage base")
    if value == "/":
        raise UserError("the storage base cannot be /")
    settings.set("storage", "base", value)
    ctx.out.section(f"Storage base set to {value}")
    ctx.out.info("Mounts outside it are refused from the next deploy of each app")
    return 0
