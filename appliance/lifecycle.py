"""Creating and destroying apps: the state directory, plus the hooks that let
plugins set up and tear down what they keep per app."""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING

from appliance import access
from appliance.errors import Conflict
from appliance.state import App, new_identity

if TYPE_CHECKING:
    from appliance.host import Appliance


def create_app(appliance: Appliance, name: str) -> App:
    """Create the app `name` for `appliance.user`, who is granted it if their key may
    create apps, and fire `appliance_app_created`."""
    user = appliance.user
    app = App(name)
    with app.lock(timeout=30, what="create"):
        if app.exists():
            raise Conflict(f"app {name!r} already exists")
        app.path.mkdir(parents=True, exist_ok=True)
        app.settings.update("core", {
            "id": new_identity(),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "created_by": user,
        })  # fmt: skip
    access.grant_created(user, name)
    appliance.hook.appliance_app_created(app=app, out=appliance.out)
    return app


def destroy_app(appliance: Appliance, app: App) -> None:
    """Fire `appliance_app_destroy`, then remove the app's state and grants."""
    with app.lock(timeout=60, what="destroy"):
        appliance.hook.appliance_app_destroy(app=app, out=appliance.out)
        trash = app.path.with_name(f".{app.name}.destroyed.{time.time_ns()}")
        app.path.rename(trash)
        access.forget_app(app.name)
    shutil.rmtree(trash, ignore_errors=True)
