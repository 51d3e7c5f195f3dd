"""The scheduler of an app, as the `scheduler` table of its settings and of the
host's says, and the names the installed schedulers answer to."""

from __future__ import annotations

import re

from appliance.api import App, Appliance, UserError

DEFAULT = "docker-local"
TABLE = "scheduler"
KEY = "selected"
NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def scheduler_of(app: App, appliance: Appliance) -> str:
    """The app's own choice, else the host's, else `docker-local`."""
    chosen = app.settings.get(TABLE, KEY) or appliance.settings().get(TABLE, KEY)
    return str(chosen) if chosen else DEFAULT


def installed(appliance: Appliance) -> list[str]:
    """Every scheduler name an installed plugin answers to."""
    found = appliance.hook.appliance_scheduler_names()
    return sorted({str(name) for names in found for name in (names or [])})


def checked(name: str, appliance: Appliance) -> str:
    """`name`, once it is a valid name that an installed plugin answers to."""
    if len(name) > 50 or not NAME.fullmatch(name):
        raise UserError(f"invalid scheduler name {name[:60]!r}")
    known = installed(appliance)
    if name not in known:
        raise UserError(
            f"no installed plugin is the scheduler {name!r} "
            f"(installed: {', '.join(known) or 'none'}; see plugin:list)"
        )
    return name


def unhandled(app: App, appliance: Appliance) -> UserError:
    """The error when no installed plugin is the scheduler `app` is set to."""
    name = appliance.hook.appliance_app_scheduler(app=app) or DEFAULT
    return UserError(
        f"no installed plugin is the scheduler {name!r} of {app.name}: see scheduler:report"
    )
