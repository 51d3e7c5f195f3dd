import sys
import tempfile
from pathlib import Path
from typing import Any

from appliance import pipeline, validate
from appliance.command import Context
from appliance.errors import UserError
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
            tree = repo.tree_of(repo.repo_path(app), new)
            pipeline.deploy(
                app,
                ctx.hooks,
                ctx.out,
                user=ctx.user,
                source_dir=source,
                rev=new,
                tree=tree,
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


def _app_for_deploy(ctx: Context, name: str) -> App:
    app = App(name)
    if not app.exists():
        from appliance import lifecycle

        lifecycle.create_app(app.name, ctx.hooks, ctx.out, ctx.user)
        ctx.out.section(f"Created app {app.name}")
    return app


def from_image(ctx: Context) -> int:
    """Deploy an image as it is; its Procfile and app.json are used when present."""
    from appliance import appfiles

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("image")

    ns = ctx.parse(configure)
    app = _app_for_deploy(ctx, ns.app)
    ctx.out.section(f"Deploying image {ns.image} to {app.name}")
    files = ctx.hooks.call("appliance_image_prepare", image=ns.image)
    if files is None:
        raise UserError("no installed plugin can fetch images")
    procfile = appfiles.parse_procfile(files["procfile"]) if files.get("procfile") else {}
    app_json = appfiles.parse_app_json(files["app_json"]) if files.get("app_json") else {}
    pipeline.deploy(
        app,
        ctx.hooks,
        ctx.out,
        user=ctx.user,
        summary=f"Deploy image {ns.image}",
        image=ns.image,
        procfile=procfile,
        app_json=app_json,
    )
    return 0


def from_archive(ctx: Context) -> int:
    """Deploy a source tarball (from a URL, or '-' for stdin) like a push."""
    from . import archive

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("source", help="an http(s) URL, or - to read the tarball from stdin")

    ns = ctx.parse(configure)
    app = _app_for_deploy(ctx, ns.app)
    data = archive.read(ns.source)
    ctx.out.section(f"Deploying an archive of {len(data) // 1024} KiB to {app.name}")
    with tempfile.TemporaryDirectory(prefix=f"appliance-{app.name}-") as tmp:
        source = archive.unpack(data, Path(tmp))
        pipeline.deploy(
            app,
            ctx.hooks,
            ctx.out,
            user=ctx.user,
            summary="Deploy archive" + ("" if ns.source == "-" else f" {ns.source}"),
            source_dir=source,
            tree=archive.fingerprint(data),
        )
    return 0
