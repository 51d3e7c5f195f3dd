"""A buildpack build: a container of the stack image, /app as BUILD_DIR, committed.

1. The buildpacks are fetched onto the host (fetch.py).
2. A build container of the stack image starts (`sleep infinity`) with the app's cache
   directory bind-mounted at /cache; the source goes to /app, the buildpacks and the
   ENV_DIR (one file per config var) to /tmp/appliance-build, the launcher to
   /usr/local/bin/appliance-launch, all in one `put_archive`.
3. For each buildpack, with the `export` files of the buildpacks before it sourced:
   `bin/detect /app` (a buildpack that detects nothing is skipped), then
   `bin/compile /app /cache ENV_DIR`, its output streamed to the pusher line by line.
   Each runs at nice 10 and best-effort IO priority 7, in a container with low CPU
   shares (and a low IO weight where the kernel has one) and `build-memory`.
4. `bin/release /app` of each buildpack that ran: `default_process_types` (the app's
   Procfile wins) and `config_vars` (image ENV defaults; config vars win at run time).
5. /tmp/appliance-build (config values included) is removed, /cache is given back to
   the appliance user, and the container is committed with ENTRYPOINT the launcher,
   which sources `/app/.profile.d/*.sh` and `/app/.profile`, then execs the command.

Building in /app itself means paths a buildpack bakes in are right at run time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from appliance_plugins.builder import builds

from appliance.api import Deploy, Output, UserError

from . import fetch, sources
from .session import Session


def run(deploy: Deploy, urls: list[str]) -> str:
    """Build `deploy.source_dir` with `urls`; return the image (`deploy.image_tag`)."""
    import docker

    app, out = deploy.app, deploy.out
    packs = [sources.parse_url(url) for url in urls]
    stack, _ = sources.stack(app)
    out.section(f"Building {app.name} with buildpacks on {stack}")
    timeout = builds.timeout()
    engine = docker.from_env(timeout=timeout + 60)
    try:
        stack_config = _stack_image(engine, stack, out)
        with tempfile.TemporaryDirectory(prefix=f"appliance-buildpacks-{app.name}-") as tmp:
            work = Path(tmp)
            for number, pack in enumerate(packs):
                fetch.fetch(pack, work / "buildpacks" / str(number), out)
            cache = _cache_dir(deploy, stack)
            session = Session(engine, deploy, packs, stack, stack_config, work, cache, timeout)
            return session.run()
    finally:
        engine.close()


def _stack_image(engine: Any, image: str, out: Output) -> dict[str, Any]:
    import docker.errors

    try:
        found = engine.images.get(image)
    except docker.errors.ImageNotFound:
        out.section(f"Pulling the stack image {image}")
        try:
            for event in engine.api.pull(image, stream=True, decode=True):
                if "error" in event:
                    raise UserError(f"cannot pull the stack image {image}: {event['error']}")
                status = str(event.get("status", ""))
                if status.startswith(("Digest:", "Status:")):
                    out.info(status)
            found = engine.images.get(image)
        except docker.errors.APIError as exc:
            raise UserError(
                f"cannot pull the stack image {image}: {exc.explanation or exc} "
                "(buildpacks:set-stack [APP] IMAGE)"
            ) from None
    return dict(found.attrs.get("Config") or {})


def _cache_dir(deploy: Deploy, stack: str) -> Path:
    """The app's build cache; emptied when the stack changes (its binaries would not fit)."""
    app = deploy.app
    cache = app.path / "cache"
    previous = app.settings.get(sources.TABLE, "cache_stack")
    if previous and previous != stack and cache.exists():
        deploy.out.section(f"The stack changed from {previous}: starting with an empty cache")
        clear_cache(app.path / "cache")
    cache.mkdir(mode=0o700, exist_ok=True)
    if previous != stack:
        app.settings.set(sources.TABLE, "cache_stack", stack)
    return cache


def clear_cache(cache: Path) -> None:
    if not cache.exists():
        return
    try:
        shutil.rmtree(cache)
    except OSError as exc:
        raise UserError(f"cannot empty the build cache {cache}: {exc}") from None
