from typing import Any

from appliance import api
from appliance.api import App, Context, UserError, releases, validate

MAX_KEEP = 1000  # release images kept per app


def _row(release: releases.Release, current: int | None) -> dict[str, Any]:
    return {
        "release": release.name,
        "summary": release.summary,
        "user": release.user,
        "created_at": release.created_at,
        "image": release.image,
        "rev": release.rev,
        "current": release.number == current,
    }


def list_releases(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    current = app.settings.get("core", "release")
    rows = [_row(r, current) for r in reversed(releases.all_releases(app))]
    if ctx.out.json:
        ctx.out.data(rows)
        return 0
    ctx.out.raw(f"=====> {app.name} releases")
    ctx.out.table(
        ["RELEASE", "SUMMARY", "BY", "CREATED", ""],
        [
            [
                r["release"],
                r["summary"],
                r["user"],
                r["created_at"],
                "current" if r["current"] else "",
            ]
            for r in rows
        ],
    )
    return 0


def info(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("release")

    ns = ctx.parse(configure, formats=True)
    app = App(ns.app).require()
    release = releases.load(app, releases.parse_number(ns.release))
    data = release.to_dict() | {"current": release.number == app.settings.get("core", "release")}
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    ctx.out.report(f"{app.name} {release.name}", {
        "Summary": release.summary,
        "By": release.user,
        "Created": release.created_at,
        "Image": release.image,
        "Revision": release.rev or "-",
        "Config vars": ", ".join(sorted(release.config)) or "none",
        "Processes": ", ".join(f"{k}: {v}" for k, v in release.procfile.items()) or "image default",
        "Rollback of": f"v{release.rollback_of}" if release.rollback_of else "-",
        "Current": "yes" if data["current"] else "no",
    })  # fmt: skip
    return 0


def rollback(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("release", nargs="?")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    current = releases.require_current(app)
    if ns.release:
        number = releases.parse_number(ns.release)
    else:
        older = [n for n in releases.numbers(app) if n < current.number]
        if not older:
            raise UserError(f"{app.name} has no release before {current.name} to roll back to")
        number = older[-1]
    target = releases.load(app, number)
    ctx.out.section(f"Rolling back {app.name} to {target.name} ({target.summary})")
    api.rollback(ctx.appliance, app, target)
    return 0


def set_option(ctx: Context) -> int:
    app, _, given = ctx.parse_setting(["keep"])
    if given is None:
        releases.set_keep(app, None)
        ctx.out.section(f"{app.name} keeps the images of its last {releases.KEEP_DEFAULT} releases")
    else:
        keep = validate.whole_number(given, "keep", 1, MAX_KEEP)
        releases.set_keep(app, keep)
        ctx.out.section(f"{app.name} keeps the images of its last {keep} releases")
    return 0


def logs(ctx: Context) -> int:
    """`releases:logs APP [vN] [--failed] [--list]`: a deploy's output as it was shown."""
    from . import deploylogs

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("release", nargs="?", help="vN: the deploy that made this release")
        p.add_argument("--failed", action="store_true", help="the last failed deploy")
        p.add_argument("--list", action="store_true", help="list the kept deploy logs")

    ns = ctx.parse(configure, formats=True)
    app = App(ns.app).require()
    found = deploylogs.all_logs(app)
    if ns.list or ctx.out.json:
        rows = [
            {"deploy": log.deploy, "outcome": _outcome(log), "release": log.release,
             "size": log.path.stat().st_size}
            for log in reversed(found)
        ]  # fmt: skip
        if ctx.out.json:
            ctx.out.data(rows)
        else:
            ctx.out.table(
                ["DEPLOY", "OUTCOME", "SIZE"],
                [[r["deploy"], r["outcome"], r["size"]] for r in rows],
            )
        return 0
    if ns.release:
        number = releases.parse_number(ns.release)
        chosen = [log for log in found if log.release == number]
        missing = f"{app.name} has no deploy log of v{number} (the last {deploylogs.KEEP} are kept)"
    elif ns.failed:
        chosen = [log for log in found if log.outcome == "failed"]
        missing = f"{app.name} has no failed deploy among its last {deploylogs.KEEP}"
    else:
        chosen = found
        missing = f"{app.name} has no deploy logs yet"
    if not chosen:
        raise UserError(missing)
    ctx.out.raw(chosen[-1].path.read_text(encoding="utf-8", errors="replace").rstrip("\n"))
    return 0


def _outcome(log: Any) -> str:
    if log.outcome == "ok":
        return "deployed (same release)"
    if log.outcome == "failed":
        return "failed"
    if log.outcome:
        return f"made {log.outcome}"
    return "running or killed"
