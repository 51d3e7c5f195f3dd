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
from typing import TYPE_CHECKING, Any

from appliance import state
from appliance.errors import NotFound, PluginError, UserError
from appliance.manifest import Command, Plugin, builtin_dir, installed_dir, read_manifest

if TYPE_CHECKING:
    from pluggy import PluginManager


def discover() -> dict[str, Plugin]:
    """Every plugin of the state root, built-in first, then installed ones; a plugin
    whose manifest is broken, or whose name is taken, is skipped with a warning."""
    plugins: dict[str, Plugin] = {}
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
            if plugin.name in plugins:
                print(
                    f" !     skipping plugin {plugin.name!r} in {path}: name already taken",
                    file=sys.stderr,
                )
                continue
            plugin.enabled = plugin.name not in disabled
            plugins[plugin.name] = plugin
    return plugins


class Registry:
    """The plugins of one state root (or the given ones), and their plugin manager.

    `specs` is the module of hook specifications (`appliance.hookspecs`), handed in
    by whoever builds the appliance (`appliance.boot`); without it the registry
    routes commands but cannot fire hooks.
    """

    def __init__(
        self, specs: types.ModuleType | None = None, plugins: dict[str, Plugin] | None = None
    ) -> None:
        self.specs = specs
        self.plugins: dict[str, Plugin] = discover() if plugins is None else plugins
        self._pm: PluginManager | None = None
        self._loaded: set[str] = set()
        self._importing: dict[str, Plugin] = {}

    def rescan(self) -> None:
        """Read the plugins from disk again (after plugin:install, for instance);
        plugins already registered with the plugin manager stay registered."""
        self.plugins = discover()

    def trial_load(self, plugin: Plugin) -> None:
        """Load `plugin`, which is not (or not yet) in the store, in a scratch plugin
        manager beside this registry's other plugins: its code imports, its hooks
        match the specs, the plugins it requires are there."""
        Registry(self.specs, {**self.plugins, plugin.name: plugin}).load(plugin)

    def enabled(self) -> list[Plugin]:
        """The enabled plugins, built-in first."""
        return [p for p in self.plugins.values() if p.enabled]

    def get(self, name: str) -> Plugin:
        """The plugin named `name`, enabled or not; `NotFound` when none is installed."""
        try:
            return self.plugins[name]
        except KeyError:
            raise NotFound(f"plugin {name!r} is not installed") from None

    def commands(self) -> dict[str, Command]:
        """Every command of the enabled plugins by name (the first plugin to declare a
        name wins)."""
        found: dict[str, Command] = {}
        for plugin in self.enabled():
            for name, command in plugin.commands.items():
                found.setdefault(name, command)
        return found

    def command(self, name: str) -> Command | None:
        """The enabled plugins' command `name`, or None."""
        for plugin in self.enabled():
            if name in plugin.commands:
                return plugin.commands[name]
        return None

    # --- hooks -------------------------------------------------------------

    @property
    def pm(self) -> PluginManager:
        """pluggy's plugin manager, made (with the hook specs) the first time a hook fires."""
        if self._pm is None:
            if self.specs is None:
                raise PluginError("this registry was built without hook specifications")
            from appliance.manager import plugin_manager
            from appliance.trigger_adapter import trace_after, trace_before

            self._pm = plugin_manager(self.specs)
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
        """Register every enabled plugin's hooks now (a failure raises `PluginError`)."""
        for plugin in self.enabled():
            if plugin.name not in self._loaded:
                self.load(plugin)

    def load(self, plugin: Plugin) -> None:
        """Register `plugin`'s hooks and triggers; a plugin whose code or hooks are refused
        raises `PluginError` and leaves nothing registered."""
        import pluggy

        self._loaded.add(plugin.name)
        self.check_requires(plugin)
        pm = self.pm
        try:
            self._register(plugin, pm)
        except pluggy.PluginValidationError as exc:
            # An implementation pluggy refuses (an argument no spec has, a hook that
            # does not exist) is a plugin that fails to load: a PluginError, which an
            # isolated event turns into a warning; what it registered is taken out.
            for name, _ in pm.list_name_plugin():
                if name == plugin.name or name.startswith(f"{plugin.name}:trigger:"):
                    pm.unregister(name=name)
            raise PluginError(
                f"plugin {plugin.name} failed to load: {exc} "
                f"(disable it with: appliance plugin:disable {plugin.name})"
            ) from exc

    def _register(self, plugin: Plugin, pm: Any) -> None:
        from appliance.trigger_adapter import trigger_plugin

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
        """The plugin's package (`appliance_plugins.<name>` or `appliance_ext.<name>`),
        or one of its modules, imported from the plugin's folder."""
        from appliance import plugin_imports

        package = plugin.module_name
        for each in [plugin, *filter(None, map(self.plugins.get, plugin.requires))]:
            plugin_imports.forget_stale(each.module_name, each.path)
        if package not in sys.modules:
            self.check_requires(plugin)
            plugin_imports.activate(self.find_spec)
            self._importing[package] = plugin
            try:
                importlib.import_module(package)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {plugin.name} failed to load: {type(exc).__name__}: {exc} "
                    f"(disable it with: appliance plugin:disable {plugin.name})"
                ) from exc
            finally:
                del self._importing[package]
        if submodule:
            return importlib.import_module(f"{package}.{submodule}")
        return sys.modules[package]

    def find_spec(self, package: str) -> importlib.machinery.ModuleSpec | None:
        """How `import appliance_plugins.<name>` (or `appliance_ext.<name>`) finds the
        plugin's folder, for the registry's own imports and for a plugin importing the
        public module of a plugin it requires (`appliance.plugin_imports`)."""
        from appliance import plugin_imports

        plugin = self._importing.get(package) or next(
            (p for p in self.plugins.values() if p.module_name == package), None
        )
        if plugin is None:
            return None
        if not plugin.enabled:
            raise ImportError(
                f"plugin {plugin.name} is disabled (enable it with: "
                f"appliance plugin:enable {plugin.name})",
                name=package,
            )
        self.check_requires(plugin)
        if plugin.dependencies:
            self._add_deps(plugin)
        return plugin_imports.package_spec(package, plugin.path)

    def _add_deps(self, plugin: Plugin) -> None:
        """Put the plugin's pip-installed dependencies on sys.path, after the
        appliance's own packages (which therefore win a clash)."""
        folder = str(plugin.deps_dir)
        if not plugin.deps_dir.is_dir():
            raise PluginError(
                f"plugin {plugin.name}: its dependencies are not installed "
                f"(install them with: appliance plugin:install-dependencies {plugin.name})"
            )
        if folder not in sys.path:
            sys.path.append(folder)

    def check_requires(self, plugin: Plugin) -> None:
        """A plugin loads only beside every plugin it requires, enabled."""
        for name in plugin.requires:
            other = self.plugins.get(name)
            if other is None:
                raise PluginError(
                    f"plugin {plugin.name} requires plugin {name}, which is not installed"
                )
            if not other.enabled:
                raise PluginError(
                    f"plugin {plugin.name} requires plugin {name}, which is disabled "
                    f"(enable it with: appliance plugin:enable {name})"
                )

    def required_by(self, name: str) -> list[str]:
        """The enabled plugins that require the plugin `name`."""
        return sorted(p.name for p in self.enabled() if name in p.requires)

    def importable_modules(self, plugin: Plugin) -> set[str]:
        """The modules of other plugins that `plugin` may import: the `public` modules
        of the plugins it requires, as full names (`appliance_plugins.git.archive`)."""
        found: set[str] = set()
        for name in plugin.requires:
            other = self.plugins.get(name)
            if other is not None:
                found |= {f"{other.module_name}.{module}" for module in other.public}
        return found

    def handler(self, command: Command) -> Callable[..., Any]:
        """The Python function that runs `command` (its module imported now)."""
        assert command.handler
        module_name, _, function = command.handler.partition(":")
        module = self.import_module(command.plugin, module_name)
        try:
            return getattr(module, function)
        except AttributeError:
            raise PluginError(
                f"plugin {command.plugin.name}: handler {command.handler} not found"
            ) from None
