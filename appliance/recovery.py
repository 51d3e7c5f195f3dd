"""Cleaning up after a deploy that was killed before it could clean up itself.

Kept apart from the pipeline so commands that only look (apps:report, ps:report) can
call `recover_if_idle` without importing the whole deploy path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.state import App

if TYPE_CHECKING:
    from appliance.host import Appliance

MARKER = "deploying"
"""Written in the app's directory while a deploy runs: `DEPLOY-ID PID`."""


def recover(app: App, appliance: Appliance) -> None:
    """Clean up after a deploy that was killed before it could clean up itself.
    The caller holds the app's lock."""
    marker = app.path / MARKER
    try:
        text = marker.read_text().split()
    except FileNotFoundError:
        return
    deploy_id = int(text[0]) if text and text[0].isdigit() else 0
    out = appliance.out
    out.section(f"Cleaning up deploy {deploy_id} of {app.name}, which was interrupted")
    from appliance.deploy import Deploy

    ghost = Deploy(app=app, out=out, id=deploy_id, release=0, user="", appliance=appliance)
    appliance.hook.appliance_scheduler_abort(deploy=ghost)
    marker.unlink(missing_ok=True)
    out.info("Removed its containers; the current release was never touched")


def recover_if_idle(app: App, appliance: Appliance) -> None:
    """For commands that only look: clean up a killed deploy when no deploy is running
    now (the marker is there but the lock is free); never wait for the lock."""
    if not (app.path / MARKER).exists():
        return
    from appliance.errors import Conflict

    try:
        with app.lock(timeout=0, what="recover", announce=False):
            recover(app, appliance)
    except Conflict:
        return  # a deploy is running: the marker is its own
