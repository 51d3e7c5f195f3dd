"""buildpacks:add, :set, :remove, :list, :clear, :set-stack, :clear-cache, :report,
:set-property and :set-global."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from appliance import api
from appliance.api import App, Conflict, Context, NotFound, UserError

from . import allowed, sources


def _index(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= sources.MAX_BUILDPACKS:
        raise argparse.ArgumentTypeError(f"must be 1 to {sources.MAX_BUILDPACKS}")
    return int(text)


def _app_url_index(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app")
    parser.add_argument("url")
    parser.add_argument("--index", type=_index, help="position in the list, 1 first")


def _url(text: str) -> str:
    buildpack = sources.parse_url(text)
    allowed.check(buildpack)  # and again at each fetch
    return buildpack.url


def add(ctx: Context) -> int:
    ns = ctx.parse(_app_url_index)
    app = App(ns.app).require()
    url = _url(ns.url)
    urls = sources.configured(app)
    if url in urls:
        raise Conflict(f"{sources.mask(url)} is already one of {app.name}'s buildpacks")
    position = min(ns.index or len(urls) + 1, len(urls) + 1)
    urls.insert(position - 1, url)
    sources.save(app, urls)
    ctx.out.section(f"Added {sources.mask(url)} to {app.name}'s buildpacks (position {position})")
    return 0


def set_buildpack(ctx: Context) -> int:
    ns = ctx.parse(_app_url_index)
    app = App(ns.app).require()
    url = _url(ns.url)
    urls = sources.configured(app)
    position = ns.index or 1
    if position > len(urls) + 1:
        most = len(urls) + 1
        raise UserError(f"{app.name} has {len(urls)} buildpack(s): --index is at most {most}")
    if url in urls and urls.index(url) != position - 1:
        raise Conflict(f"{sources.mask(url)} is already one of {app.name}'s buildpacks")
    if position <= len(urls):
        urls[position - 1] = url
    else:
        urls.append(url)
    sources.save(app, urls)
    ctx.out.section(f"{app.name}'s buildpack {position} is {sources.mask(url)}")
    return 0


def remove(ctx: Context) -> int:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app")
        parser.add_argument("url", nargs="?")
        parser.add_argument("--index", type=_index)

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    if (ns.url is None) == (ns.index is None):
        raise UserError("name the buildpack to remove: a URL or --index N", code=2)
    urls = sources.configured(app)
    if ns.index is not None:
        if ns.index > len(urls):
            raise NotFound(f"{app.name} has {len(urls)} buildpack(s), no number {ns.index}")
        url = urls.pop(ns.index - 1)
    else:
        url = ns.url.strip()
        if url not in urls:
            raise NotFound(f"{sources.mask(url)} is not one of {app.name}'s buildpacks")
        urls.remove(url)
    sources.save(app, urls)
    ctx.out.section(f"Removed {sources.mask(url)} from {app.name}'s buildpacks")
    return 0


def list_buildpacks(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    urls = sources.configured(app)
    if ctx.out.json:
        ctx.out.data(urls)
        return 0
    ctx.out.section(f"{app.name} buildpack urls")
    for url in urls:
        ctx.out.info(sources.mask(url))
    return 0


def clear(ctx: Context) -> int:
    app = ctx.parse_app()
    sources.save(app, [])
    ctx.out.section(f"Cleared {app.name}'s buildpacks")
    return 0


def set_stack(ctx: Context) -> int:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("words", nargs="*", metavar="[APP] IMAGE")
        parser.add_argument("--unset", action="store_true", help="back to the default")

    ns = ctx.parse(configure)
    words = list(ns.words)
    if len(words) not in ((0, 1) if ns.unset else (1, 2)):
        raise UserError("usage: buildpacks:set-stack [APP] IMAGE, or [APP] --unset", code=2)
    image = None if ns.unset else sources.image_ref(words.pop())
    app = App(words[0]).require() if words else None
    settings = app.settings if app else api.global_settings()
    whose = app.name if app else "the host"
    if image is None:
        settings.unset(sources.TABLE, "stack")
        now = sources.stack(app)[0] if app else sources.DEFAULT_STACK
        ctx.out.section(f"Stack of {whose} reset: builds run on {now}")
    else:
        settings.set(sources.TABLE, "stack", image)
        ctx.out.section(f"Stack of {whose} set to {image}")
    return 0


def clear_cache(ctx: Context) -> int:
    from . import build

    app = ctx.parse_app()
    with app.lock(timeout=600, what="buildpacks:clear-cache"):
        build.clear_cache(app.path / "cache")
    ctx.out.section(f"Emptied {app.name}'s build cache")
    return 0


def _size(path: Path) -> int:
    total = 0
    for top, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(top, name)).st_size
            except OSError:
                continue
    return total


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def report(ctx: Context) -> int:
    app = ctx.parse_app(formats=True)
    stack, where = sources.stack(app)
    cache = app.path / "cache"
    last: dict[str, Any] = app.settings.get(sources.TABLE, "last_build") or {}
    data = {
        "buildpacks": sources.configured(app),
        "stack": stack,
        "stack_set_by": where,
        "cache_dir": str(cache),
        "cache_bytes": _size(cache) if cache.exists() else 0,
        "last_build": last or None,
    }
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    ctx.out.report(f"{app.name} buildpacks", {
        "Buildpacks": ", ".join(map(sources.mask, data["buildpacks"])) or "none set (see below)",
        "Also read": "BUILDPACK_URL (config, then .env) first; then .buildpacks, app.json",
        "Stack": f"{stack} ({where})",
        "Build cache": f"{cache} ({_human(data['cache_bytes'])})",
        "Last build": (
            f"{', '.join(last.get('detected', []))} on {last.get('stack')}" if last else "never"
        ),
    })  # fmt: skip
    return 0


def set_property(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("key", choices=["trust-host-ca"])
        p.add_argument("value", choices=["true", "false"])

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    app.settings.set("builder-buildpack", "trust_host_ca", ns.value == "true")
    ctx.out.section(f"{ns.key} of {app.name} set to {ns.value}")
    return 0


GLOBAL_KEYS = {"local-dirs": "local_dirs", "private-hosts": "private_hosts"}


def set_global(ctx: Context) -> int:
    """Local-only (plugin.toml): where buildpack URLs may point on this host's side."""

    def configure(p: Any) -> None:
        p.add_argument("key", choices=sorted(GLOBAL_KEYS))
        p.add_argument("value", nargs="?", metavar="ENTRY[,ENTRY...]")

    ns = ctx.parse(configure)
    settings = api.global_settings()
    key = GLOBAL_KEYS[ns.key]
    if ns.value is None:
        settings.unset(sources.TABLE, key)
        ctx.out.section(f"{ns.key} reset: none allowed")
        return 0
    parse = allowed.parse_dirs if key == "local_dirs" else allowed.parse_hosts
    entries = parse(ns.value)
    settings.set(sources.TABLE, key, entries)
    ctx.out.section(f"{ns.key} set to {', '.join(entries)}")
    return 0
