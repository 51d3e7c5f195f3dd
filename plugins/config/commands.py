import json
import shlex
import sys
from collections.abc import Callable
from typing import Any

from appliance.api import App, Context, NotFound, UserError

from . import dotenv, store

GLOBAL_NOTE = (
    "Saved for every app: each app gets it at its next deploy or ps:restart "
    "(as a new release); an app's own value wins"
)


def _parse(ctx: Context, configure: Callable[[Any], None], formats: bool = False) -> Any:
    """Parse `[--global | APP] ...`: with `--global` there is no APP, and `ns.app` is
    None; otherwise `ns.app` is the required, existing App."""
    host_wide = "--global" in ctx.args

    def full(p: Any) -> None:
        if not host_wide:
            p.add_argument("app")
        p.add_argument("--global", dest="host_wide", action="store_true",
                       help="the host-wide vars every app gets")  # fmt: skip
        configure(p)

    ns = ctx.parse(full, formats=formats)
    ns.app = None if host_wide else App(ns.app).require()
    return ns


def _no_restart(p: Any) -> None:
    p.add_argument("--no-restart", action="store_true", help="save without deploying")


def _change(
    ctx: Context,
    app: App | None,
    update: Callable[[dict[str, str]], dict[str, str]],
    summary: str,
    restart: bool,
) -> None:
    """Under the app's lock, save `update(vars)`; deploy it as a new release unless
    told not to. A failed deploy puts the old vars back: what is stored is what runs.
    Global vars are only saved: each app picks them up at its next deploy."""
    if app is None:
        from appliance import api

        with api.lock_file(api.root() / "global-env.lock", "global config", timeout=60):
            store.save(None, update(store.load(None)))
        ctx.out.info(GLOBAL_NOTE)
        return
    from appliance.api import redeploy, releases  # only changes deploy: config:get stays light

    with app.command_lock(summary):
        before = store.load(app)
        after = update(before)
        store.save(app, after)
        current = releases.current(app)
        if not restart or current is None:
            ctx.out.info("Saved; they apply from the next deploy" if current else "Saved")
            return
        try:
            redeploy(ctx.appliance, app, summary=summary)
        except BaseException:
            store.save(app, before)
            raise


def _whose(app: App | None) -> str:
    return app.name if app else "every app (global)"


def set_vars(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
        _no_restart(p)

    ns = _parse(ctx, configure)
    changes = dict(store.parse_assignment(a) for a in ns.assignments)
    keys = ", ".join(sorted(changes))
    ctx.out.section(f"Setting config vars on {_whose(ns.app)}: {keys}")
    _change(ctx, ns.app, lambda old: {**old, **changes}, f"Set {keys}", not ns.no_restart)
    return 0


def unset_vars(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("keys", nargs="+", metavar="KEY")
        _no_restart(p)

    ns = _parse(ctx, configure)
    keys = [store.config_key(k) for k in ns.keys]
    missing = [k for k in keys if k not in store.load(ns.app)]
    if missing:
        raise NotFound(f"{_whose(ns.app)} has no config var {', '.join(missing)}")
    ctx.out.section(f"Unsetting config vars on {_whose(ns.app)}: {', '.join(keys)}")
    _change(
        ctx,
        ns.app,
        lambda old: {k: v for k, v in old.items() if k not in keys},
        f"Unset {', '.join(keys)}",
        not ns.no_restart,
    )
    return 0


def import_vars(ctx: Context) -> int:
    """`.env` text on stdin: the vars it names are set (with `--replace`, the others
    are removed)."""

    def configure(p: Any) -> None:
        p.add_argument("--replace", action="store_true", help="remove the vars not in the file")
        _no_restart(p)

    ns = _parse(ctx, configure)
    if sys.stdin is None or sys.stdin.isatty():
        raise UserError("give the .env file on stdin: config:import APP < .env", code=2)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
    found = dotenv.parse(text.replace("\r\n", "\n"))
    if not found and not ns.replace:
        raise UserError("no config vars on stdin")
    keys = ", ".join(sorted(found)) or "(none)"
    ctx.out.section(f"Importing config vars to {_whose(ns.app)}: {keys}")

    def update(old: dict[str, str]) -> dict[str, str]:
        return dict(found) if ns.replace else {**old, **found}

    _change(ctx, ns.app, update, f"Import {keys}", not ns.no_restart)
    return 0


def _shown(ns: Any) -> dict[str, str]:
    if ns.app is None:
        return store.load(None)
    return store.merged(ns.app) if ns.merged else store.load(ns.app)


def _merged_option(p: Any) -> None:
    p.add_argument("--merged", action="store_true", help="with the global vars the app gets")


def get_var(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("key")
        _merged_option(p)

    ns = _parse(ctx, configure)
    values = _shown(ns)
    key = store.config_key(ns.key)
    if key not in values:
        raise NotFound(f"{_whose(ns.app)} has no config var {key}")
    ctx.out.raw(values[key])
    return 0


def show(ctx: Context) -> int:
    def configure(p: Any) -> None:
        kind = p.add_mutually_exclusive_group()
        kind.add_argument("--shell", action="store_true", help="as shell assignments")
        kind.add_argument("--export", action="store_true", help="as `export KEY='value'` lines")
        _merged_option(p)

    ns = _parse(ctx, configure, formats=True)
    values = _shown(ns)
    if ctx.out.json:
        ctx.out.data(values)
    elif ns.export:
        _print_exact(ctx, dotenv.shell_export(values))
    elif ns.shell:
        for key, value in values.items():
            ctx.out.raw(f"{key}={shlex.quote(value)}")
    else:
        ctx.out.raw(f"=====> {_whose(ns.app)} config vars")
        width = max((len(k) for k in values), default=0) + 1
        for key, value in values.items():
            ctx.out.raw(f"{(key + ':').ljust(width)}  {json.dumps(value)[1:-1]}")
    return 0


def export_vars(ctx: Context) -> int:
    ns = _parse(ctx, _merged_option)
    _print_exact(ctx, dotenv.dump(_shown(ns)))
    return 0


def _print_exact(ctx: Context, text: str) -> None:
    """Text whose every character counts (it is read back), as UTF-8 whatever the
    locale, without a trailing line of its own."""
    stream = ctx.out.stream
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(text.encode())
        buffer.flush()
    else:
        stream.write(text)
        stream.flush()
