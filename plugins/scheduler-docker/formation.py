"""Which containers a deploy starts."""

from __future__ import annotations

from appliance import formation
from appliance.deploy import Deploy


def plan(deploy: Deploy) -> list[tuple[str, int]]:
    """(process type, count) to start: types the release can run, scaled above 0. With
    no Procfile (or one with only `release`), `web` runs the image's own command."""
    explicit = bool(formation.configured(deploy.app))
    runnable = {t for t in deploy.procfile if t != "release"} or {"web"}
    result = []
    for name, count in sorted(
        formation.scale(deploy.app, deploy.procfile, deploy.app_json).items()
    ):
        if count <= 0:
            continue
        if name not in runnable:
            if explicit:
                deploy.out.warn(f"{name} is scaled to {count}, but the release has no {name}")
            continue
        result.append((name, count))
    return result
