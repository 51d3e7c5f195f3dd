from pathlib import PurePosixPath
from typing import Any

from appliance.api import App, Context, UserError, validate


def set_option(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("app")
        p.add_argument("key", choices=["dockerfile-path", "build-args", "trust-host-ca"])
        p.add_argument("value", nargs="?")

    ns = ctx.parse(configure)
    app = App(ns.app).require()
    key = ns.key.replace("-", "_")
    if not ns.value:
        app.settings.unset("builder-dockerfile", key)
        ctx.out.section(f"{ns.key} of {app.name} reset to its default")
        return 0
    value: Any
    if key == "trust_host_ca":
        if ns.value not in ("true", "false"):
            raise UserError("trust-host-ca is true or false")
        value = ns.value == "true"
    elif key == "dockerfile_path":
        path = PurePosixPath(ns.value)
        if path.is_absolute() or ".." in path.parts or not ns.value.strip():
            raise UserError("dockerfile-path must be a relative path inside the repository")
        value = str(path)
    else:
        value = [k.strip() for k in ns.value.split(",") if k.strip()]
        for name in value:
            if not validate.CONFIG_KEY.fullmatch(name):
                raise UserError(f"invalid config key {name!r}")
    app.settings.set("builder-dockerfile", key, value)
    ctx.out.section(f"{ns.key} of {app.name} set to {ns.value}")
    return 0
