"""builder-auto:show, builder-auto:set-base, builder-auto:set, builder-auto:report."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from appliance_plugins.builder import builds

from appliance import api
from appliance.api import App, Context, UserError, cabundle, releases, tree

from . import detect, dockerfile

TRUE = ("true", "yes", "on", "1")
FALSE = ("false", "no", "off", "0")
FLAGS = {"trust-host-ca": "trust_host_ca", "pass-proxy": "pass_proxy"}
APP_KEYS = sorted([*FLAGS, "language", *(f"base-{n}" for n in dockerfile.DEFAULT_BASES)])


def _bool(key: str, value: str) -> bool:
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise UserError(f"{key} must be true or false")


def _deployed_revision(app: App) -> str | None:
    """The git revision the app runs (a push deploys before its branch moves, so it is
    the deploy branch's head), if its current release came from one."""
    current = releases.current(app)
    return current.rev if current is not None and current.rev else None


def show(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("--eject", action="store_true",
                       help="a Dockerfile to commit at the root of the repository")  # fmt: skip
        p.add_argument("--built", action="store_true",
                       help="the Dockerfile of the last build, as it was")  # fmt: skip

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    saved = dockerfile.saved_path(app)
    rev = None if ns.built else _deployed_revision(app)
    if rev is None:
        if ns.eject or not saved.is_file():
            raise UserError(f"nothing was pushed to {app.name} yet: push first")
        ctx.out.raw(saved.read_text().rstrip("\n"))
        return 0
    with tempfile.TemporaryDirectory(prefix=f"appliance-{app.name}-") as tmp:
        source = Path(tmp)
        if not ctx.appliance.hook.appliance_source_checkout(app=app, rev=rev, dest=source):
            raise UserError(f"no plugin keeps the source of {app.name} (git)")
        language = app.settings.get(dockerfile.TABLE, "language")
        plan = detect.detect(source, str(language) if language else None)
        if plan is None:
            raise UserError(
                f"revision {rev[:12]} of {app.name} has nothing builder-auto recognises "
                "(requirements.txt, pyproject.toml, package.json, go.mod, index.html, .static)"
            )
        if tree.is_file(source, "Dockerfile") or tree.is_file(source, ".buildpacks"):
            ctx.out.warn(
                f"revision {rev[:12]} has a Dockerfile or .buildpacks: another builder builds "
                f"it, unless `builder:set {app.name} auto` pins this one"
            )
        ca = dockerfile.flag(app, "trust_host_ca") and cabundle.ca_bundle_source() is not None
        header = "" if ns.eject else f"# Built from {rev[:12]}\n"
        rendered = dockerfile.render(app, plan, ca=ca, eject=ns.eject, header=header)
    ctx.out.raw(rendered.text.rstrip("\n"))
    return 0


def set_base(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("language", choices=list(dockerfile.DEFAULT_BASES))
        p.add_argument("image", nargs="?")

    ns = ctx.parse(configure)
    key = dockerfile.base_key(ns.language)
    settings = api.global_settings()
    if not ns.image:
        settings.unset(dockerfile.TABLE, key)
        default = dockerfile.DEFAULT_BASES[ns.language]
        ctx.out.section(f"Base image for {ns.language} reset to the default, {default}")
        return 0
    settings.set(dockerfile.TABLE, key, dockerfile.image_ref(ns.image))
    ctx.out.section(f"Base image for {ns.language} set to {ns.image} (from the next build)")
    return 0


def set_option(ctx: Context) -> int:
    app, name, given = ctx.parse_setting(list(APP_KEYS))
    if name in FLAGS:
        key: str = FLAGS[name]
    elif name == "language":
        key = "language"
    else:
        key = dockerfile.base_key(name.removeprefix("base-"))
    if given is None:
        app.settings.unset(dockerfile.TABLE, key)
        ctx.out.section(f"{name} of {app.name} reset to its default")
        return 0
    value: Any
    if name in FLAGS:
        value = _bool(name, given)
    elif key == "language":
        if given not in detect.LANGUAGES:
            raise UserError(f"language must be one of {', '.join(detect.LANGUAGES)}")
        value = given
    else:
        value = dockerfile.image_ref(given)
    app.settings.set(dockerfile.TABLE, key, value)
    shown = str(value).lower() if isinstance(value, bool) else value
    ctx.out.section(f"{name} of {app.name} set to {shown} (from the next build)")
    return 0


def _masked(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//***@", url)


def _data(app: App | None) -> dict[str, Any]:
    bases = {}
    for name in dockerfile.DEFAULT_BASES:
        image, origin = dockerfile.base_image(app, name)
        bases[name] = {"image": image, "origin": origin}
    proxies = {k: _masked(v) for k, v in builds.proxy_env().items() if k.islower()}
    data: dict[str, Any] = {
        "bases": bases,
        "ca_bundle": (cabundle.ca_bundle_source() or (None,))[0],
        "trust_host_ca": dockerfile.flag(app, "trust_host_ca"),
        "pass_proxy": dockerfile.flag(app, "pass_proxy"),
        "proxy": proxies,
    }
    if app is not None:
        last = api.read_toml(dockerfile.last_path(app))
        data.update(
            language=app.settings.get(dockerfile.TABLE, "language"),
            last_build=last or None,
            dockerfile=str(dockerfile.saved_path(app))
            if dockerfile.saved_path(app).is_file()
            else None,
        )
    return data


def report(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("app", nargs="?"), formats=True)
    app = App(ns.app).require() if ns.app is not None else None
    data = _data(app)
    if ctx.out.json:
        ctx.out.data(data)
        return 0
    fields = {f"Base {name}": f"{b['image']} ({b['origin']})" for name, b in data["bases"].items()}
    fields["CA bundle"] = data["ca_bundle"] or "none found (builder:set-global ca-bundle PATH)"
    fields["Trust host CA"] = "yes" if data["trust_host_ca"] else "no"
    fields["Pass proxy"] = "yes" if data["pass_proxy"] else "no"
    fields["Proxy"] = ", ".join(f"{k}={v}" for k, v in data["proxy"].items()) or "none"
    if app is not None:
        last = data["last_build"] or {}
        fields["Language"] = data["language"] or "detected on each push"
        fields["Last build"] = (
            f"{last.get('summary', '')} at {str(last.get('rev', ''))[:12] or '-'}"
            if last
            else "never built by builder-auto"
        )
        fields["Dockerfile"] = data["dockerfile"] or "-"
    title = f"{app.name} builder-auto" if app else "builder-auto (host-wide)"
    ctx.out.report(title, fields)
    return 0
