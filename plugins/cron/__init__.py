"""Cron: app.json `cron` entries run on schedule, by the daemon, as one-off containers
of the app's current release. A deploy whose entries are invalid is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import hookimpl

from . import entries

if TYPE_CHECKING:
    from appliance.api import Deploy


@hookimpl
def appliance_pre_build(deploy: Deploy) -> None:
    """Refuse bad entries before spending a build on them."""
    entries.parse(deploy.app_json)


@hookimpl
def appliance_pre_deploy(deploy: Deploy) -> None:
    entries.parse(deploy.app_json)


@hookimpl
def appliance_daemon_start(daemon: Any) -> None:
    from .ticker import Ticker

    daemon.every(60, Ticker(daemon).tick, "cron", align=True)
