"""Process types and how many of each run: ps:scale, else app.json's formation,
else one `web`. Other plugins ask through `appliance_formation`."""

from __future__ import annotations

from appliance.api import Deploy, hookimpl

from . import formation


@hookimpl(trylast=True)
def appliance_formation(deploy: Deploy) -> dict[str, int]:
    return formation.plan(deploy)
