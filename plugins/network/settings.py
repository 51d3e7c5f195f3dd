"""Which networks an app joins, and when: `[network]` in app.toml."""

from __future__ import annotations

import re

from appliance import api
from appliance.api import App, UserError

PHASES = {
    "initial-network": "initial",
    "attach-post-create": "post_create",
    "attach-post-deploy": "post_deploy",
}
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
BUILTIN = ("bridge", "host", "none", "default")
LABEL = "appliance.network"


def network_name(name: str) -> str:
    if not NAME.fullmatch(name) or name in BUILTIN:
        raise UserError(
            f"invalid network name {name!r}: lowercase letters, digits, '.', '_' and '-' "
            f"(not {', '.join(BUILTIN)})"
        )
    return name


def of(app: App) -> dict[str, str]:
    """`{"initial": NAME, "post_create": NAME, "post_deploy": NAME}`, those set."""
    return {k: str(v) for k, v in app.settings.table("network").items() if k in PHASES.values()}


def users(network: str) -> list[str]:
    """The apps set to join `network`."""
    return [name for name in api.app_names() if network in of(App(name)).values()]


def to_connect(app: App, phase: str) -> list[str]:
    """Networks a container joins after create: `post_create` always; `post_deploy`
    too for a one-off or a restored container, whose deploy is long live."""
    wanted = of(app)
    keys = ["post_create"] if phase == "deploy" else ["post_create", "post_deploy"]
    found = [wanted[k] for k in keys if k in wanted]
    return [n for i, n in enumerate(found) if n != wanted.get("initial") and n not in found[:i]]


def aliases(app: str, process: str, index: str | None) -> list[str]:
    """What other containers on the network call this one; none for one-offs."""
    if process in ("", "run"):
        return []
    return [f"{app}.{process}", *([f"{app}.{process}.{index}"] if index else [])]
