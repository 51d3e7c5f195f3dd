"""builder-auto's settings, and the Dockerfile rendered from `templates/build/*.j2`.

Settings (`builder-auto` table; per app in app.toml, host-wide in settings.toml):

    base_python, base_node, base_static, base_go, base_go_run   base images
    trust_host_ca   the host's CA bundle reaches the dependency stage (true)
    pass_proxy      the host's proxy settings reach the build as build args (true)
    language        per app only: python, node, static or go, instead of detecting

The CA bundle's path and the proxy settings themselves are the host's build settings
(`builder:set-global ca-bundle|http-proxy|https-proxy|no-proxy`, read through
`appliance.builds`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance import api
from appliance.api import App, UserError

from .detect import Plan

TABLE = "builder-auto"
PORT = 5000
WORK_DIR = ".appliance-auto"  # in the build context: the Dockerfile and the CA bundle
CA_FILE = f"{WORK_DIR}/host-ca.crt"

DEFAULT_BASES = {
    "python": "python:3.12-slim",
    "node": "node:20-slim",
    "static": "busybox:stable",
    "go": "golang:1.22",
    "go-run": "debian:bookworm-slim",
}
CA_ENV = {
    "python": ["PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"],
    "node": ["NODE_EXTRA_CA_CERTS", "NPM_CONFIG_CAFILE", "SSL_CERT_FILE"],
    "go": ["SSL_CERT_FILE", "GIT_SSL_CAINFO"],
    "static": [],
}
NO_DEPENDENCIES = ("static",)

# A Docker image reference: [registry[:port]/]path[:tag][@sha256:digest], lowercase
# path components. Nothing else (no spaces, quotes or newlines) can reach a FROM line.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE = re.compile(
    rf"^(?:[a-z0-9.-]+(?::[0-9]{{1,5}})?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


def image_ref(value: str) -> str:
    if len(value) > 255 or not IMAGE.fullmatch(value):
        raise UserError(
            f"invalid image {value!r}: expected a reference like python:3.12-slim or "
            "registry.example.com:5000/team/python:3.12"
        )
    return value


def base_key(name: str) -> str:
    if name not in DEFAULT_BASES:
        raise UserError(f"unknown base {name!r}: use one of {', '.join(DEFAULT_BASES)}")
    return "base_" + name.replace("-", "_")


def _setting(app: App | None, key: str) -> tuple[Any, str]:
    if app is not None:
        value = app.settings.get(TABLE, key)
        if value is not None:
            return value, "app"
    value = api.global_settings().get(TABLE, key)
    if value is not None:
        return value, "global"
    return None, "default"


def flag(app: App | None, key: str, default: bool = True) -> bool:
    value, _ = _setting(app, key)
    return default if value is None else bool(value)


def _node_major(engine: str, default: int) -> int | None:
    """The major version `engines.node` asks for, when one single major fits it."""
    text = engine.strip()
    exact = re.fullmatch(r"[\^~=v]?\s*(\d+)(?:\.(?:\d+|x|\*))*", text)
    if exact:
        return int(exact.group(1))
    at_least = re.fullmatch(r">=?\s*v?(\d+)(?:\.(?:\d+|x|\*))*", text)
    if at_least:
        return max(int(at_least.group(1)), default)
    return None


def base_image(app: App | None, name: str, plan: Plan | None = None) -> tuple[str, str]:
    """The base image for `name` (a language, or go-run) and where it comes from."""
    value, origin = _setting(app, base_key(name))
    if value is not None:
        return image_ref(str(value)), "set for the app" if origin == "app" else "set host-wide"
    default = DEFAULT_BASES[name]
    if plan is not None and name == "python" and plan.python_version:
        return f"python:{plan.python_version}-slim", f"default for {plan.python_version}"
    if plan is not None and name == "node" and plan.node_engine:
        major = _node_major(plan.node_engine, int(default.split(":")[1].split("-")[0]))
        if major is None:
            plan.notes.append(
                f"engines.node {plan.node_engine!r} does not name one major version: "
                f"using {default}"
            )
        elif f"node:{major}-slim" != default:
            return f"node:{major}-slim", f"default for engines.node {plan.node_engine}"
    return default, "default"


@dataclass
class Rendered:
    text: str
    bases: dict[str, str]
    origins: dict[str, str]
    ca: bool


def render(app: App, plan: Plan, *, ca: bool, eject: bool = False, header: str = "") -> Rendered:
    """The Dockerfile for `plan`: from the app's template override, the host's, or the
    built-in `templates/build/<language>.Dockerfile.j2`."""
    names = [plan.language] + (["go-run"] if plan.language == "go" else [])
    found = {name: base_image(app, name, plan) for name in names}
    bases = {name: image for name, (image, _) in found.items()}
    ca = ca and not eject and plan.language not in NO_DEPENDENCIES
    text = api.render(
        f"build/{plan.language}.Dockerfile.j2",
        overrides_for=app.name,
        app=app.name,
        plan=plan,
        base=bases[plan.language],
        run_base=bases.get("go-run", ""),
        ca=ca,
        ca_file=CA_FILE,
        ca_env=CA_ENV[plan.language],
        work_dir=WORK_DIR,
        eject=eject,
        port=PORT,
    )
    return Rendered(
        text=header + text,
        bases=bases,
        origins={name: origin for name, (_, origin) in found.items()},
        ca=ca,
    )


def saved_path(app: App) -> Path:
    """Where the Dockerfile of the app's last build is kept, for `builder-auto:show`."""
    return app.path / "builder-auto" / "Dockerfile"


def last_path(app: App) -> Path:
    """What the app's last build by builder-auto was: language, revision, base images."""
    return app.path / "builder-auto" / "last.toml"
