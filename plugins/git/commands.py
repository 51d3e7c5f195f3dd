import os
import re
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from appliance import api
from appliance.api import App, Context, UserError, validate

from . import repo


def hook(ctx: Context) -> int:
    """pre-receive: deploy the pushed deploy branch; a non-zero exit rejects the push."""

    def configure(p: Any) -> None:
        p.add_argument("kind", choices=["pre-receive"])
        p.add_argument("app")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    done = threading.Event()
    if os.environ.get("SSH_CONNECTION"):
        watch_pusher(done)
    try:
        _receive(ctx, app)
    finally:
        # From here the hook must end normally, so that git records the push.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        done.set()
    return 0


def _receive(ctx: Context, app: App) -> None:
    branches = repo.deploy_branches(app)
    for line in sys.stdin.read(1024 * 1024).splitlines():
        _old, new, ref = ref_update(line)
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
            api.deploy_source(
                ctx.appliance, app, source, summary=f"Deploy {new[:7]}", rev=new, tree=tree
            )


OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
REF = re.compile(r"refs/[A-Za-z0-9._/-]{1,250}")


def ref_update(line: str) -> tuple[str, str, str]:
    """One `OLD NEW REF` line as git gives it: full object ids and a plain ref name,
    so nothing else can reach a git command line as an option."""
    parts = line.split(" ")
    if len(parts) != 3 or not all(OBJECT_ID.fullmatch(p) for p in parts[:2]):
        raise UserError(f"malformed ref update from git: {line[:100]!r}")
    if not REF.fullmatch(parts[2]) or ".." in parts[2]:
        raise UserError(f"refusing the ref name {parts[2][:100]!r}")
    return parts[0], parts[1], parts[2]


def watch_pusher(done: threading.Event) -> None:
    """git keeps a hook running after the pusher has gone (Ctrl-C, a dropped link): its
    output is just discarded. So watch the SSH connection itself (SSH_CONNECTION names
    it); when it is no longer established, SIGHUP ourselves, which stops a deploy that
    has not switched yet and removes what it started."""
    parts = os.environ.get("SSH_CONNECTION", "").split()
    if len(parts) != 4 or not connection_established(*parts):
        return

    def watch() -> None:
        while connection_established(*parts):
            if done.wait(0.25):
                return
        if not done.is_set():
            os.kill(os.getpid(), signal.SIGHUP)

    threading.Thread(target=watch, daemon=True).start()


def connection_established(client: str, client_port: str, server: str, server_port: str) -> bool:
    """Is this TCP connection in the kernel's table, ESTABLISHED? (/proc/net/tcp{,6})"""
    import ipaddress

    def key(address: str, port: str) -> tuple[bytes, int]:
        ip = ipaddress.ip_address(address)
        if ip.version == 4:
            ip = ipaddress.IPv6Address(f"::ffff:{ip}")
        return ip.packed, int(port)

    wanted = (key(server, server_port), key(client, client_port))
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and (_endpoint(fields[1]), _endpoint(fields[2])) == wanted:
                return fields[3] == "01"
    return False


def _endpoint(text: str) -> tuple[bytes, int]:
    """`0100007F:0016` (IPv4) or 32 hex digits (IPv6), as the kernel prints them: each
    32-bit word in host (little-endian) order."""
    import ipaddress

    address, port = text.split(":")
    raw = bytes.fromhex(address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        words = ipaddress.IPv6Address(f"::ffff:{ipaddress.IPv4Address(words)}").packed
    return words, int(port, 16)


def set_option(ctx: Context) -> int:
    app, _, given = ctx.parse_setting(["deploy-branch"])
    if given:
        app.settings.set("git", "deploy_branch", validate.branch(given))
        ctx.out.section(f"Deploy branch of {app.name} set to {given}")
    else:
        app.settings.unset("git", "deploy_branch")
        ctx.out.section(f"Deploy branch of {app.name} unset (main or master)")
    return 0


def report(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
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
        from appliance import api

        api.create_app(ctx.appliance, app.name)
        ctx.out.section(f"Created app {app.name}")
    return app


def from_image(ctx: Context) -> int:
    """Deploy an image as it is; its Procfile and app.json are used when present."""
    from appliance import api

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("image")

    ns = ctx.parse(configure)
    if not ctx.access.admin:
        not_anothers_image(ns.image, ns.app)
    app = _app_for_deploy(ctx, ns.app)
    ctx.out.section(f"Deploying image {ns.image} to {app.name}")
    files = ctx.appliance.hook.appliance_image_prepare(image=ns.image, app=app)
    if files is None:
        raise UserError("no installed plugin can fetch images")
    procfile = api.parse_procfile(files["procfile"]) if files.get("procfile") else {}
    app_json = api.parse_app_json(files["app_json"]) if files.get("app_json") else {}
    api.deploy_image(
        ctx.appliance,
        app,
        ns.image,
        summary=f"Deploy image {ns.image}",
        procfile=procfile,
        app_json=app_json,
    )
    return 0


IMAGE_ID = re.compile(r"(sha256:)?[0-9a-f]{6,64}")


def not_anothers_image(image: str, app: str) -> None:
    """A key granted some apps deploys images by name, never by id, and never the
    images the appliance built for other apps (their code, maybe their secrets)."""
    name = image.lower().removeprefix("docker.io/").removeprefix("index.docker.io/")
    repository = re.split(r"[:@]", name, maxsplit=1)[0]
    if IMAGE_ID.fullmatch(name) or name.startswith("sha256:"):
        raise UserError(f"deploy an image by name, not by id ({image!r})")
    own = App(app).image_repositories() if App(app).exists() else []
    if repository.startswith("appliance/") and repository not in own:
        raise UserError(f"{image!r} is another app's image")


def from_archive(ctx: Context) -> int:
    """Deploy a source tarball (from a URL, or '-' for stdin) like a push. The archive
    is fetched and unpacked, within its limits, before the app is created or touched."""
    from . import archive

    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("source", help="an http(s) URL, or - to read the tarball from stdin")

    ns = ctx.parse(configure)
    name = validate.app_name(ns.app)
    with tempfile.TemporaryDirectory(prefix=f"appliance-{name}-") as tmp:
        blob = Path(tmp) / "archive"
        tree = archive.read(ns.source, blob)
        size = blob.stat().st_size
        source = archive.unpack(blob, Path(tmp) / "source")
        blob.unlink()
        app = _app_for_deploy(ctx, name)
        ctx.out.section(f"Deploying an archive of {size // 1024} KiB to {app.name}")
        api.deploy_source(
            ctx.appliance,
            app,
            source,
            summary="Deploy archive" + ("" if ns.source == "-" else f" {ns.source}"),
            tree=tree,
        )
    return 0
