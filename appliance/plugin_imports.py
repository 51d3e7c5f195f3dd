"""Imports between plugins, through a `sys.meta_path` finder.

A plugin imports the public modules of a plugin it requires by package name:
`from appliance_plugins.git import archive` (a built-in plugin) or
`from appliance_ext.hello_plugin import greetings` (an installed one). Neither
package is on disk under that name (plugin folders have dashes, installed plugins
live under the state root), so this finder resolves `<package>.<name>` through the
registry that last imported a plugin (`Registry.find_spec`): the same folder, the
same enabled check and the same `requires` check as `Registry.import_module`. The
plugin's own modules below its package are then found the ordinary way.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from appliance.manifest import BUILTIN_PACKAGE, INSTALLED_PACKAGE

PACKAGES = (BUILTIN_PACKAGE, INSTALLED_PACKAGE)

Resolver = Callable[[str], importlib.machinery.ModuleSpec | None]


class _PluginFinder:
    """First on sys.meta_path: `appliance_plugins.<name>` / `appliance_ext.<name>`."""

    def __init__(self) -> None:
        self.resolve: Resolver | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top, _, rest = fullname.partition(".")
        if top not in PACKAGES or not rest or "." in rest or self.resolve is None:
            return None
        return self.resolve(fullname)


class _NamespaceFinder:
    """Last on sys.meta_path: the two top-level packages, as empty namespaces, when
    nothing else provides them (in a checkout `appliance_plugins` is not installed;
    `appliance_ext` never is)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PACKAGES:
            return None
        return importlib.machinery.ModuleSpec(fullname, None, is_package=True)


_finder = _PluginFinder()
_namespaces = _NamespaceFinder()


def activate(resolve: Resolver) -> None:
    """Resolve plugin packages with `resolve` from now on (the latest registry that
    imports a plugin: every registry of a process reads the same state root)."""
    _finder.resolve = resolve
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    if _namespaces not in sys.meta_path:
        sys.meta_path.append(_namespaces)


def package_spec(package: str, folder: Path) -> importlib.machinery.ModuleSpec:
    """The spec of a plugin's package: its folder, with or without `__init__.py`."""
    init = folder / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(
            package, init, submodule_search_locations=[str(folder)]
        )
        if spec is not None:
            return spec
    spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    return spec


def forget_stale(package: str, folder: Path) -> None:
    """Drop a plugin's modules imported from another folder (an upgraded plugin, or
    another state root in the same process), so the next import reads `folder`."""
    loaded = sys.modules.get(package)
    if loaded is not None and list(getattr(loaded, "__path__", [])) != [str(folder)]:
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
