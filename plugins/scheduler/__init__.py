"""Which scheduler runs an app: `scheduler:set`, else `scheduler:set-global`, else
`docker-local`. The commands that reach an app's processes (`logs`, `run`, `enter`)
live here too and ask the app's scheduler through the scheduler hooks."""

from __future__ import annotations

from appliance.api import App, Appliance, hookimpl

from .choice import scheduler_of


@hookimpl(trylast=True)
def appliance_app_scheduler(app: App, appliance: Appliance) -> str:
    return scheduler_of(app, appliance)
