"""docker-options:add, docker-options:remove, docker-options:clear, docker-options:report.

Options are parsed by hand, not with argparse: they look like flags themselves."""

from __future__ import annotations

from appliance.api import App, Context, NotFound, UserError

from . import parse, store

APPLIES = "applies at the next deploy or ps:restart"
APPLIES_TO_BUILDS = "builds use it from the next push or ps:rebuild"


def _args(ctx: Context, usage: str) -> tuple[App, list[str], list[str]]:
    if len(ctx.args) < 3 or ctx.args[0].startswith("-"):
        raise UserError(f"usage: appliance {ctx.command.name} {usage}", code=2)
    app = App(ctx.args[0]).require()
    return app, parse.phases(ctx.args[1]), ctx.args[2:]


def add(ctx: Context) -> int:
    app, phases, words = _args(ctx, "APP build|deploy|run[,...] OPTION...")
    wanted = parse.parse(words)
    if "build" in phases:
        parse.check_build(wanted)
    remote = not ctx.user.startswith("local:")
    reaching = [str(o) for o in wanted if parse.host_only(o)]
    if remote and reaching:
        raise UserError(
            f"{', '.join(reaching)} reaches into the host: run it on the host "
            f"(sudo appliance docker-options:add ...), not over SSH"
        )
    with app.command_lock("docker-options:add"):
        for phase in phases:
            found = store.options(app, phase)
            store.save(app, phase, [*found, *(o for o in wanted if o not in found)])
    shown = " ".join(str(o) for o in wanted)
    when = APPLIES_TO_BUILDS if phases == ["build"] else APPLIES
    ctx.out.section(f"Docker options of {app.name} ({', '.join(phases)}): {shown}; {when}")
    return 0


def remove(ctx: Context) -> int:
    app, phases, words = _args(ctx, "APP build|deploy|run[,...] OPTION...")
    gone = parse.parse(words)
    with app.command_lock("docker-options:remove"):
        for phase in phases:
            found = store.options(app, phase)
            missing = [str(o) for o in gone if o not in found]
            if missing:
                raise NotFound(f"{app.name} has no {phase} option {', '.join(missing)}")
            store.save(app, phase, [o for o in found if o not in gone])
    ctx.out.section(f"Removed from {app.name} ({', '.join(phases)}); {APPLIES}")
    return 0


def clear(ctx: Context) -> int:
    if not ctx.args or len(ctx.args) > 2 or ctx.args[0].startswith("-"):
        raise UserError("usage: appliance docker-options:clear APP [build|deploy|run]", code=2)
    app = App(ctx.args[0]).require()
    phases = parse.phases(ctx.args[1]) if len(ctx.args) == 2 else list(parse.PHASES)
    with app.command_lock("docker-options:clear"):
        for phase in phases:
            store.save(app, phase, [])
    ctx.out.section(f"Docker options of {app.name} cleared ({', '.join(phases)}); {APPLIES}")
    return 0


def report(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    data = {phase: store.stored(app, phase) for phase in parse.PHASES}
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    ctx.out.report(
        f"{app.name} docker options",
        {phase.capitalize(): " ".join(opts) or "none" for phase, opts in data.items()},
    )
    return 0
