import sys
import tempfile
from pathlib import Path
from typing import Any

from appliance import pipeline, validate
from appliance.command import Context
from appliance.state import App

from . import repo


def hook(ctx: Context) -> int:
    """pre-receive: deploy the pushed deploy branch; a non-zero exit rejects the push."""

    def configure(p: Any) -> None:
        p.add_argument("kind", choices=["pre-receive"])
        p.add_argument("app")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    branches = repo.deploy_branches(app)
    for line in sys.stdin.read().splitlines():
        _old, new, ref = line.split()
        branch = ref.removeprefix("refs/heads/")
        if not ref.startswith("refs/heads/") or branch not in branches:
            ctx.out.section(
                f"Pushed {ref}: not deploying (the deploy branch is {' or '.join(branches)})"
            )
            continue
        if new == repo.ZERO:
            ctx.out.section(f"Deleted {branch}: the running release is left as it is")
            continue
        with tempfile.TemporaryDirectory(prefix=f"appliance-{app.name}-") as tmp:
            source = Path(tmp)
            repo.extract(repo.repo_path(app), new, source)
            pipeline.deploy(
                app,
                ctx.hooks,
                ctx.out,
                user=ctx.user,
                source_dir=source,
                rev=new,
                summary=f"Deploy {new[:7]}",
            )
    return 0


def set_option(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("key", choices=["deploy-branch"])
        p.add_argument("value", nargs="?")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if ns.value:
        app.settings.set("git", "deploy_branch", validate.branch(ns.value))
        ctx.out.section(f"Deploy branch of {app.name} set to {ns.value}")
    else:
        app.settings.unset("git", "deploy_branch")
        ctx.out.section(f"Deploy branch of {app.name} unset (main or master)")
    return 0


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app"), formats=True)
    app = App(ns.app).require()
    data = {
        "repository": str(repo.repo_path(app)),
        "deploy_branches": repo.deploy_branches(app),
        "deployed_rev": app.settings.get("core", "rev", ""),
    }
    if ctx.out.json:
        ctx.out.data(data)
    else:
        ctx.out.report(
            f"{app.name} git information",
            {
                "Repository": data["repository"],
                "Deploy branch": " or ".join(data["deploy_branches"]),
                "Deployed revision": data["deployed_rev"],
            },
        )
    return 0
