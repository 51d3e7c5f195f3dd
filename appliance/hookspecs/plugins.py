"""Hooks about the plugins themselves: installed, uninstalled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.markers import hookspec

if TYPE_CHECKING:
    from appliance.host import Appliance
    from appliance.manifest import Plugin
    from appliance.output import Output


@hookspec(isolated=True)
def appliance_plugin_installed(plugin: Plugin, out: Output, appliance: Appliance) -> None:
    """Event (isolated): `plugin` was just installed or upgraded by plugin:install, its
    Python dependencies in place (Dokku's `install` trigger).

    * `plugin`: the installed plugin's manifest (`Plugin`: `name`, `version`, `path`,
      `requires`, `dependencies`, `deps_dir`...).
    * `out`: where to report.

    Every enabled plugin that implements the hook hears of it, the new plugin
    included: compare `plugin.name` with your own name to set yourself up (create a
    folder, a default setting). Runs as the appliance user; keep it idempotent: it
    runs again on every upgrade. A failure is a warning; the plugin stays installed.
    """


@hookspec(isolated=True)
def appliance_plugin_uninstalled(plugin: Plugin, out: Output, appliance: Appliance) -> None:
    """Event (isolated): `plugin` is about to be removed by plugin:uninstall (its
    files and dependencies are still there, and go next), so it can clean up after
    itself.

    * `plugin`: the plugin being removed.
    * `out`: where to report.

    Every enabled plugin that implements the hook hears of it, the leaving plugin
    included: compare `plugin.name` with your own name. A failure is a warning.
    """
