"""Creating and destroying apps: the state directory, plus the hooks that let
plugins set up and tear down what they keep per app."""

from __future__ import annotations

import shutil
import time

from appliance import access
from appliance.errors import Conflict
from appliance.hooks import Hooks
from appliance.output import Output
from appliance.state import App, new_identity


def create_app(name: str, hooks: Hooks, out: Output, user: str) -> App:
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
    hooks.event("appliance_app_created", app=app, out=out)
    return app


def destroy_app(app: App, hooks: Hooks, out: Output) -> None:
    with app.lock(timeout=60, what="destroy"):
        hooks.event("appliance_app_destroy", app=app, out=out)
        trash = app.path.with_name(f".{app.name}.destroyed.{time.time_ns()}")
        app.path.rename(trash)
        access.forget_app(app.name)
    shutil.rmtree(trash, ignore_errors=True)
