"""Which apps are this scheduler's: those whose scheduler (`appliance_app_scheduler`)
is `docker-local`, or that no plugin assigns (the built-in default). Every hook that
acts on an app returns None for the others, so another scheduler takes over whole."""

from __future__ import annotations

from appliance.api import App, Appliance

NAME = "docker-local"


def handles(app: App, appliance: Appliance) -> bool:
    return appliance.hook.appliance_app_scheduler(app=app) in (None, NAME)
