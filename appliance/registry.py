"""The plugins of one state root: discovery, enable state, lazy loading, handlers.

Routing a command reads manifests only; a plugin's Python code is imported when
one of its commands runs or when a hook it declares fires.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Callable
from typing import Any

from appliance import state
from appliance.errors import NotFound, PluginError, UserError
from appliance.manifest import Command, Plugin, builtin_dir, installed_dir, read_manifest


class Registry:
    """The plugins of one state root: built-in first, then installed ones."""

    def __init__(self) -> None:
        self.plugins: dict[str, Plugin] = {}
        disabled = set(state.read_toml(state.root() / "plugins.toml").get("disabled", []))
        for folder, builtin in ((builtin_dir(), True), (installed_dir(), False)):
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if not (path / "plugin.toml").is_file():
                    continue
                try:
                    plugin = read_manifest(path, builtin)
                except UserError as exc:
                    print(f" !     skipping plugin in {path}: {exc}", file=sys.stderr)
                    continue
                if plugin.name in self.plugins:
                    print(
                        f" !     skipping plugin {plugin.name!r} in {path}: name already taken",
                        file=sys.stderr,
                    )
                    continue
                plugin.enabled = plugin.name not in disabled
                self.plugins[plugin.name] = plugin
        self._pm: Any = None
        self._loaded: set[str] = set()

    def enabled(self) -> list[Plugin]:
        return [p for p in self.plugins.values() if p.enabled]

    def get(self, name: str) -> Plugin:
        try:
            return self.plugins[name]
        except KeyError:
            raise NotFound(f"plugin {name!r} is not installed") from None

    def commands(self) -> dict[str, Command]:
        found: dict[str, Command] = {}
        for plugin in self.enabled():
            for name, command in plugin.commands.items():
                found.setdefault(name, command)
        return found

    def command(self, name: str) -> Command | None:
        for plugin in self.enabled():
            if name in plugin.commands:
                return plugin.commands[name]
        return None

    # --- hooks -------------------------------------------------------------

    @property
    def pm(self) -> Any:
        if self._pm is None:
            from appliance.markers import plugin_manager
            from appliance.trigger_adapter import trace_after, trace_before

            self._pm = plugin_manager()
            if os.environ.get("APPLIANCE_TRACE_PLUGINS"):
                self._pm.add_hookcall_monitoring(trace_before, trace_after)
        return self._pm

    def load_for(self, hook: str, on_error: Callable[[PluginError], None] | None = None) -> None:
        """Register every enabled plugin that declares `hook`. A plugin that fails to
        load raises, or with `on_error` is reported there and left out."""
        for plugin in self.enabled():
            if plugin.name not in self._loaded and hook in plugin.declared_hooks():
                try:
                    self.load(plugin)
                except PluginError as exc:
                    if on_error is None:
                        raise
                    on_error(exc)

    def load_all(self) -> None:
        for plugin in self.enabled():
            if plugin.name not in self._loaded:
                self.load(plugin)

    def load(self, plugin: Plugin) -> None:
        from appliance.trigger_adapter import trigger_plugin

        self._loaded.add(plugin.name)
        pm = self.pm
        if plugin.hooks:
            module = self.import_module(plugin)
            pm.register(module, name=plugin.name)
        for hook, exe in plugin.triggers.items():
            caller = getattr(pm.hook, hook, None)
            if caller is None or caller.spec is None:
                raise PluginError(f"plugin {plugin.name}: trigger {hook} names no known hook")
            pm.register(
                trigger_plugin(plugin, hook, exe, caller.spec.argnames),
                name=f"{plugin.name}:trigger:{hook}",
            )
        pm.check_pending()

    def import_module(self, plugin: Plugin, submodule: str | None = None) -> types.ModuleType:
        package = plugin.module_name
        loaded = sys.modules.get(package)
        if loaded is not None and list(getattr(loaded, "__path__", [])) != [str(plugin.path)]:
            for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
                del sys.modules[name]
        if package not in sys.modules:
            parent = package.rpartition(".")[0]
            if parent not in sys.modules:
                namespace = types.ModuleType(parent)
                namespace.__path__ = []
                namespace.__spec__ = importlib.machinery.ModuleSpec(parent, None, is_package=True)
                sys.modules[parent] = namespace
            init = plugin.path / "__init__.py"
            spec = importlib.util.spec_from_file_location(
                package,
                init if init.is_file() else None,
                submodule_search_locations=[str(plugin.path)],
            )
            if spec is None:
                raise PluginError(f"plugin {plugin.name}: cannot load {plugin.path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[package] = module
            try:
                if spec.loader is not None:
                    spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[package]
                raise PluginError(
                    f"plugin {plugin.name} failed to load: {type(exc).__name__}: {exc} "
                    f"(disable it with: appliance plugin:disable {plugin.name})"
                ) from exc
        if submodule:
            return importlib.import_module(f"{package}.{submodule}")
        return sys.modules[package]

    def handler(self, command: Command) -> Callable[..., Any]:
        assert command.handler
        module_name, _, function = command.handler.partition(":")
        module = self.import_module(command.plugin, module_name)
        try:
            return getattr(module, function)
        except AttributeError:
            raise PluginError(
                f"plugin {command.plugin.name}: handler {command.handler} not found"
            ) from None
