"""The pluggy plugin manager, built around our markers.

It is handed the hook specifications by whoever builds the appliance (`appliance.boot`)
instead of importing them: the specs name the host's types, so importing them from
here would tie the registry to the host in a cycle.
"""

from __future__ import annotations

import inspect
import types
from typing import TYPE_CHECKING, Any

from appliance.markers import IMPL_ATTR, SPEC_ATTR

if TYPE_CHECKING:
    from pluggy import PluginManager


def plugin_manager(specs: types.ModuleType) -> PluginManager:
    """A pluggy PluginManager that understands `appliance.markers`, with `specs` added."""
    import pluggy

    class Manager(pluggy.PluginManager):
        def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
            if not name.startswith("appliance_"):
                return None
            method = getattr(plugin, name, None)
            if not inspect.isroutine(method):
                return None
            return getattr(method, IMPL_ATTR, None)

        def parse_hookspec_opts(self, module_or_class: Any, name: str) -> Any:
            return getattr(getattr(module_or_class, name, None), SPEC_ATTR, None)

    manager = Manager("appliance")
    manager.add_hookspecs(specs)
    return manager
