"""The daemon's side of the nginx proxy: when a template override changes (host-wide
under `templates/`, or one app's under `apps/APP/templates/`), render the affected
vhosts again and apply them the usual way: `nginx -t` first, the old files kept
when nginx refuses, then a graceful reload. No command needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance import state, validate
from appliance.errors import UserError
from appliance.hooks import Hooks
from appliance.output import Output
from appliance.registry import Registry
from appliance.state import App

from . import nginx

PLUGIN = "proxy-nginx"


class TemplateWatcher:
    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon

    def log(self, message: str) -> None:
        self.daemon.log(message, PLUGIN)

    def watch_all(self, paths: list[str] | None = None) -> None:
        """Watch the host-wide overrides and each app's (new apps included: `apps/`
        itself is watched for them)."""
        self.daemon.watch(state.root() / "templates", self.changed, recursive=True)
        apps = state.root() / "apps"
        self.daemon.watch(apps, self.watch_all)
        try:
            # Every app folder, even one whose app.toml is still being written.
            found = [p.name for p in apps.iterdir() if validate.APP_NAME.fullmatch(p.name)]
        except FileNotFoundError:
            found = []
        for name in found:
            self.daemon.watch(apps / name / "templates", self.changed, recursive=True)

    def changed(self, paths: list[str]) -> None:
        apps_dir = state.root() / "apps"
        host_wide = state.root() / "templates"
        affected: set[str] = set()
        for raw in paths:
            path = Path(raw)
            if path.is_relative_to(host_wide):
                affected.update(state.app_names())
            elif path.is_relative_to(apps_dir) and len(path.relative_to(apps_dir).parts) > 1:
                affected.add(path.relative_to(apps_dir).parts[0])
        hooks = Hooks(Registry(), Output())
        for name in sorted(affected):
            self.rerender(App(name), hooks)

    def rerender(self, app: App, hooks: Hooks) -> None:
        if not app.exists():
            return
        path = nginx.vhost_path(app)
        targets = app.settings.get(PLUGIN, "targets", [])
        if not targets or not path.is_file():
            return
        from . import domains_of

        try:
            files: dict[Path, str | None] = {}
            global_path, global_text = nginx.global_file()
            if global_text is not None:
                files[global_path] = global_text
            text = nginx.render(app, [str(t) for t in targets], domains_of(app, hooks))
            if text != path.read_text():
                files[path] = text
            if not files:
                return
            nginx.apply(files)
        except UserError as exc:
            self.log(f"{app.name}: the changed template is not used: {exc}")
            return
        self.log(f"{app.name}: vhost rendered again from the changed templates, nginx reloaded")


def start(daemon: Any) -> None:
    watcher = TemplateWatcher(daemon)
    daemon.every(60, watcher.watch_all, "template-watches")
