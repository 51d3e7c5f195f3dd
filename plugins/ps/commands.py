from appliance import pipeline, releases
from appliance.command import Context
from appliance.state import App


def restart(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app"))
    app = App(ns.app).require()
    current = releases.require_current(app)
    ctx.out.section(f"Restarting {app.name} ({current.name})")
    pipeline.deploy(
        app,
        ctx.hooks,
        ctx.out,
        user=ctx.user,
        summary="Restart",
        image=current.image,
        config=current.config,
        new_release=False,
    )
    return 0
