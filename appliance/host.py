"""The running appliance: the one object every command, deploy, hook and daemon job
reaches, as datasette hands its plugins `datasette`.

`ctx.appliance` in a command, `deploy.appliance` in a pipeline hook, the `appliance`
argument of every other hook, `daemon.appliance` in background work. Plugins never
build a registry or hooks of their own: they fire hooks through `appliance.hook`.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from appliance.hooks import HookRelay, Hooks
from appliance.output import Output
from appliance.state import App, Settings

if TYPE_CHECKING:
    from appliance.manifest import Plugin
    from appliance.registry import Registry


class Appliance:
    """The host: its plugins (`registry`), hooks (`hook`), output (`out`) and the user
    it acts for (`user`: the SSH key's name, or `local:LOGIN`)."""

    def __init__(self, registry: Registry, out: Output, user: str) -> None:
        self.registry = registry
        self.out = out
        self.user = user
        self._hooks = Hooks(registry, out)
        self.hook = HookRelay(self._hooks, self)

    def __repr__(self) -> str:
        return f"Appliance(user={self.user!r})"

    def with_output(self, out: Output) -> Appliance:
        """The same appliance (plugins already loaded), writing to `out` (a daemon
        job's own log, a deploy's captured output)."""
        return Appliance(self.registry, out, self.user)

    def app(self, name: str) -> App:
        """The app named `name` (validated); it may not exist yet (`App.exists()`)."""
        from appliance import validate

        return App(validate.app_name(name))

    def settings(self) -> Settings:
        """The host-wide settings (`<root>/settings.toml`), a table per plugin."""
        from appliance import state

        return state.global_settings()

    def verify_plugin(self, plugin: Plugin) -> None:
        """Load `plugin` on its own, as the registry would: raises `PluginError` when
        its code fails to import, implements a hook that does not exist, or requires a
        plugin that is missing or disabled (it is loaded beside the others)."""
        self.registry.trial_load(plugin)

    def hook_names(self) -> set[str]:
        """The name of every hook a plugin may implement."""
        return {name for name in dir(self.registry.pm.hook) if name.startswith("appliance_")}

    def reload_plugins(self) -> None:
        """Read the plugins again (after one was installed, enabled or disabled)."""
        from appliance.registry import Registry

        self.registry = Registry(self.registry.specs)
        self._hooks = Hooks(self.registry, self.out)
        self.hook = HookRelay(self._hooks, self)



def self_command() -> list[str]:
    """How another process runs this appliance (a git hook, a detached job): the
    `appliance` on PATH, which follows upgrades (install.sh switches a symlink), else
    this interpreter. Arguments follow as argv, never through a shell."""
    import shutil

    found = shutil.which("appliance")
    return [found] if found else [sys.executable, "-m", "appliance"]


def current_user() -> str:
    user = os.environ.get("APPLIANCE_USER")
    if user:
        return user
    import pwd

    return f"local:{pwd.getpwuid(os.getuid()).pw_name}"
