"""The commands that reach an app's processes, whichever scheduler runs them:
`logs`, `run`, `run:detached`, `run:list` and `enter`. Each parses its arguments,
checks the app, and asks the app's scheduler through a scheduler hook."""

from __future__ import annotations

import argparse
import re
from typing import Any

from appliance.api import App, Context, Output, UserError, releases, validate

from . import caller
from .choice import unhandled

CONTAINER_REF = re.compile(r"^([a-z0-9][a-z0-9-]{0,62})\.(\d{1,4})$")
DEFAULT_SHELL = [
    "/bin/sh",
    "-c",
    "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi",
]


def logs(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("-n", "--num", type=int, default=100, help="lines to show (0: all)")
        p.add_argument("-t", "--tail", action="store_true", help="keep following the output")
        p.add_argument("-p", "--ps", help="only this process type")
        p.add_argument("-q", "--quiet", action="store_true", help="no prefixes")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if ns.ps:
        validate.process_type(ns.ps)
    shown = ctx.appliance.hook.appliance_scheduler_logs(
        app=app, lines=max(ns.num, 0), follow=ns.tail, process=ns.ps, quiet=ns.quiet
    )
    if shown is None:
        raise unhandled(app, ctx.appliance)
    return 0


def _run_args(ctx: Context) -> tuple[App, list[str]]:
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
    app, argv = _run_args(ctx)
    release = releases.require_current(app)
    code = ctx.appliance.hook.appliance_scheduler_run(
        app=app, release=release, argv=argv, mode=caller.run_mode()
    )
    if code is None:
        raise unhandled(app, ctx.appliance)
    return int(code)


def run_detached(ctx: Context) -> int:
    app, argv = _run_args(ctx)
    release = releases.require_current(app)
    name = ctx.appliance.hook.appliance_scheduler_run_detached(app=app, release=release, argv=argv)
    if name is None:
        raise unhandled(app, ctx.appliance)
    ctx.out.section(f"Started {name} (see: appliance logs {app.name} --ps run)")
    return 0


def run_list(ctx: Context) -> int:
    """`run:list APP`: the app's one-off processes still running."""
    app = ctx.parse_app(formats=True)
    found: list[dict[str, Any]] | None = []
    if app.settings.get("core", "last_deploy") is not None:
        found = ctx.appliance.hook.appliance_scheduler_oneoffs(app=app)
    if found is None:
        raise unhandled(app, ctx.appliance)
    rows = sorted(found, key=lambda r: str(r["name"]))
    if ctx.out.json:
        ctx.out.data(rows)
    elif not rows:
        ctx.out.raw(f"{app.name} has no one-off processes running")
    else:
        ctx.out.table(
            ["NAME", "COMMAND", "UP"],
            [[r["name"], r["command"], Output.short_duration(r["uptime"])] for r in rows],
        )
    return 0


def _command(words: list[str]) -> list[str]:
    """One word is a shell line (as for `run`), several an argv; none, a shell."""
    if not words:
        return DEFAULT_SHELL
    return ["/bin/sh", "-c", words[0]] if len(words) == 1 else words


def enter(ctx: Context) -> int:
    """`enter APP [web.1] [-- CMD...]`: exec into a running process of the current
    deploy; a terminal when the caller has one; the exit status comes back."""

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("rest", nargs=argparse.REMAINDER, metavar="[TYPE.N] [-- CMD...]")

    # argparse drops a `--`, which separates the container from the command: split here.
    raw = list(ctx.args)
    head, command = (
        (raw[: raw.index("--")], raw[raw.index("--") + 1 :]) if "--" in raw else (raw, [])
    )
    if not head or head[0].startswith("-"):
        ctx.parse(configure)  # --help, or a usage error
        raise UserError("usage: enter APP [TYPE.N] [-- COMMAND...]", code=2)
    app = App(head[0]).require()
    rest = head[1:]
    ref = None
    if rest and CONTAINER_REF.fullmatch(rest[0]):
        ref = rest.pop(0)
    rest += command
    code = ctx.appliance.hook.appliance_scheduler_enter(
        app=app, container=ref, command=_command(rest), tty=caller.interactive()
    )
    if code is None:
        raise unhandled(app, ctx.appliance)
    return int(code)
