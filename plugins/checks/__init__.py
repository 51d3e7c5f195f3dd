"""Checks: new containers must pass their checks before traffic moves to them.

app.json `healthchecks` (Dokku's format) or a legacy CHECKS file declare the checks
per process type; without any, a container must stay up `uptime` seconds (10) and a
web container accept a TCP connection. `checks:skip` and `checks:disable` turn them
off per process type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import App, hookimpl

if TYPE_CHECKING:
    from appliance.api import Deploy


@hookimpl
def appliance_post_build(deploy: Deploy) -> None:
    from . import legacy

    legacy.convert(deploy)


@hookimpl
def appliance_deploy_checks(deploy: Deploy) -> None:
    from . import runner, settings

    deploy.wait_to_retire = settings.wait_to_retire(deploy.app)
    runner.check_deploy(deploy)


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    from . import report

    return report.app_fields(app)
