"""Which containers a deploy starts: the formation the `appliance_formation` hook
gives (built-in: ps), as (process type, count) pairs."""

from __future__ import annotations

from appliance.api import Deploy, UserError


def plan(deploy: Deploy) -> list[tuple[str, int]]:
    found = deploy.appliance.hook.appliance_formation(deploy=deploy)
    if found is None:
        raise UserError(f"no plugin says how many containers {deploy.app.name} runs (ps)")
    return sorted((str(name), int(count)) for name, count in found.items() if count > 0)
