"""Building the appliance: the one place that puts registry, hook specs and host
together (the process entry points and tests call it; plugins are handed the result)."""

from __future__ import annotations

from appliance.host import Appliance, current_user
from appliance.output import Output
from appliance.registry import Registry


def open_appliance(out: Output | None = None, user: str | None = None) -> Appliance:
    """The appliance of the current state root, with every plugin's manifest read
    (their code loads when a command or hook needs it)."""
    from appliance import hookspecs

    return Appliance(Registry(hookspecs), out or Output(), user or current_user())
