from pathlib import PurePosixPath
from typing import Any

from appliance.api import Context, UserError, validate


def set_option(ctx: Context) -> int:
    app, name, given = ctx.parse_setting(["dockerfile-path", "build-args", "trust-host-ca"])
    key = name.replace("-", "_")
    if not given:
        app.settings.unset("builder-dockerfile", key)
        ctx.out.section(f"{name} of {app.name} reset to its default")
        return 0
    value: Any
    if key == "trust_host_ca":
        if given not in ("true", "false"):
            raise UserError("trust-host-ca is true or false")
        value = given == "true"
    elif key == "dockerfile_path":
        path = PurePosixPath(given)
        if path.is_absolute() or ".." in path.parts or not given.strip():
            raise UserError("dockerfile-path must be a relative path inside the repository")
        value = str(path)
    else:
        value = [k.strip() for k in given.split(",") if k.strip()]
        for config_key in value:
            if not validate.CONFIG_KEY.fullmatch(config_key):
                raise UserError(f"invalid config key {config_key!r}")
    app.settings.set("builder-dockerfile", key, value)
    ctx.out.section(f"{name} of {app.name} set to {given}")
    return 0
