"""Plugin discovery from `plugin.toml` manifests, lazy loading, and trigger executables.

Routing a command reads manifests only; a plugin's Python code is imported when
one of its commands runs or when a hook it declares fires.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import tomllib
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance import state
from appliance.errors import NotFound, PluginError, UserError

BUILTIN_PACKAGE = "appliance_plugins"
INSTALLED_PACKAGE = "appliance_ext"


@functools.cache
def builtin_dir() -> Path:
    """The built-in plugins: package data when installed, `plugins/` in a checkout."""
    top = Path(__file__).resolve().parent.parent
    if (top / "pyproject.toml").is_file() and (top / "plugins").is_dir():
        return top / "plugins"
    spec = importlib.util.find_spec(BUILTIN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the built-in plugins are missing: reinstall appliance")
    return Path(next(iter(spec.submodule_search_locations)))


def installed_dir() -> Path:
    return state.root() / "plugins"


class Command:
    """A command a plugin's manifest declares. A plain class, not a dataclass: every
    command routes through here, and importing dataclasses costs ~15 ms."""

    def __init__(
        self,
        name: str,
        plugin: Plugin,
        help: str = "",
        usage: str = "",
        handler: str | None = None,
        exec: str | None = None,
        hidden: bool = False,
        local_only: bool = False,
        access: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.plugin = plugin
        self.help = help
        self.usage = usage
        self.handler = handler
        self.exec = exec
        self.hidden = hidden
        self.local_only = local_only
        # Who may run it (see appliance/access.py and docs/plugins.md, "Command scope").
        access = access or {}
        self.scope: str = access.get("scope", "host")
        self.app_arg: str = access.get("app_arg", "name")
        self.host_options: list[str] = access.get("host_options", [])
        self.local_only_args: list[str] = access.get("local_only_args", [])
        self.internal: bool = access.get("internal", False)
        self.creates_app: bool = access.get("creates_app", False)
        self.redact: str = access.get("redact", "")

    def __repr__(self) -> str:
        return f"Command({self.name!r}, plugin={self.plugin.name!r})"


class Plugin:
    """An installed plugin as its manifest describes it: name, path, version, hooks,
    commands, whether it is built in and enabled."""

    def __init__(
        self,
        name: str,
        path: Path,
        builtin: bool,
        version: str = "0",
        description: str = "",
        hooks: list[str] | None = None,
        commands: dict[str, Command] | None = None,
        enabled: bool = True,
    ) -> None:
        self.name = name
        self.path = path
        self.builtin = builtin
        self.version = version
        self.description = description
        self.hooks: list[str] = hooks if hooks is not None else []
        self.commands: dict[str, Command] = commands if commands is not None else {}
        self.enabled = enabled

    def __repr__(self) -> str:
        return f"Plugin({self.name!r}, path={str(self.path)!r}, builtin={self.builtin})"

    @property
    def triggers(self) -> dict[str, Path]:
        """The plugin's trigger executables, `triggers/appliance_*`, by hook name: hooks it
        implements in any language (`appliance.triggers`)."""
        folder = self.path / "triggers"
        if not folder.is_dir():
            return {}
        return {
            p.name: p
            for p in sorted(folder.iterdir())
            if p.is_file() and os.access(p, os.X_OK) and p.name.startswith("appliance_")
        }

    @property
    def module_name(self) -> str:
        """The Python package its modules import as: `appliance_plugins.NAME` for a built-in,
        `appliance_ext.NAME` for an installed plugin (dashes become underscores)."""
        package = BUILTIN_PACKAGE if self.builtin else INSTALLED_PACKAGE
        return f"{package}.{self.name.replace('-', '_')}"

    def declared_hooks(self) -> list[str]:
        """The hooks it implements, sorted: those its manifest names and its triggers."""
        return sorted(set(self.hooks) | set(self.triggers))


def read_manifest(path: Path, builtin: bool) -> Plugin:
    manifest = path / "plugin.toml"
    try:
        with open(manifest, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise UserError(f"{path} has no plugin.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{manifest}: {exc}") from None
    from appliance import validate

    plugin = Plugin(
        name=validate.plugin_name(str(data.get("name", path.name))),
        path=path,
        builtin=builtin,
        version=str(data.get("version", "0")),
        description=str(data.get("description", "")),
        hooks=[str(h) for h in data.get("hooks", [])],
    )
    for name, spec in data.get("commands", {}).items():
        if not isinstance(spec, dict) or not (spec.get("handler") or spec.get("exec")):
            raise UserError(f"{manifest}: command {name!r} needs a handler or an exec")
        plugin.commands[name] = Command(
            name=name,
            plugin=plugin,
            help=str(spec.get("help", "")),
            usage=str(spec.get("usage", "")),
            handler=spec.get("handler"),
            exec=spec.get("exec"),
            hidden=bool(spec.get("hidden", False)) or spec.get("internal") is True,
            local_only=bool(spec.get("local_only", False)),
            access=_access_fields(manifest, name, spec),
        )
    return plugin


SCOPES = ("app", "host", "any")


def _access_fields(manifest: Path, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A command's declared scope, checked strictly: a typo must not widen it."""

    def bad(what: str) -> UserError:
        return UserError(f"{manifest}: command {name!r}: {what}")

    scope = spec.get("scope", "host")
    if scope not in SCOPES:
        raise bad(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    fields: dict[str, Any] = {"scope": scope}
    app_arg = spec.get("app_arg", "name")
    if app_arg not in ("name", "repo-path"):
        raise bad("app_arg must be 'name' or 'repo-path'")
    fields["app_arg"] = app_arg
    for key in ("host_options", "local_only_args"):
        value = spec.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad(f"{key} must be a list of strings")
        fields[key] = value
    for key in ("internal", "creates_app"):
        if not isinstance(spec.get(key, False), bool):
            raise bad(f"{key} must be true or false")
        fields[key] = spec.get(key, False)
    if spec.get("redact", "") not in ("", "values"):
        raise bad("redact must be 'values'")
    fields["redact"] = spec.get("redact", "")
    return fields


class Registry:
    """The plugins of one state root: built-in first, then installed ones.

    `specs` is the module of hook specifications (`appliance.hookspecs`), handed in
    by whoever builds the appliance (`appliance.boot`); without it the registry
    routes commands but cannot fire hooks.
    """

    def __init__(self, specs: types.ModuleType | None = None) -> None:
        self.specs = specs
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
            if self.specs is None:
                raise PluginError("this registry was built without hook specifications")
            from appliance.manager import plugin_manager

            self._pm = plugin_manager(self.specs)
            if os.environ.get("APPLIANCE_TRACE_PLUGINS"):
                self._pm.add_hookcall_monitoring(_trace_before, _trace_after)
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
                _trigger_plugin(plugin, hook, exe, caller.spec.argnames),
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


def _trace_before(hook_name: str, hook_impls: list[Any], kwargs: dict[str, Any]) -> None:
    names = ", ".join(i.plugin_name for i in hook_impls)
    print(f"[hook] {hook_name} -> {names}", file=sys.stderr, flush=True)


def _trace_after(outcome: Any, hook_name: str, hook_impls: list[Any], kwargs: Any) -> None:
    exc = outcome.exception
    result = f"raised {type(exc).__name__}: {exc}" if exc else repr(outcome.get_result())
    print(f"[hook] {hook_name} <- {result[:200]}", file=sys.stderr, flush=True)


def _trigger_plugin(plugin: Plugin, hook: str, exe: Path, argnames: tuple[str, ...]) -> Any:
    """A pluggy plugin object whose one hook runs the executable `exe`.

    pluggy reads an implementation's argument names from its code object, so the
    function is compiled with the spec's own (identifier-checked) names.
    """
    from appliance import triggers
    from appliance.markers import hookimpl

    if not all(name.isidentifier() for name in (hook, *argnames)):
        raise PluginError(f"hook {hook!r} has unusable argument names")

    def call(kwargs: dict[str, Any]) -> Any:
        return triggers.run(plugin.name, hook, exe, kwargs)

    params = ", ".join(argnames)
    packed = ", ".join(f"{name!r}: {name}" for name in argnames)
    namespace: dict[str, Any] = {"_call": call}
    exec(f"def {hook}({params}):\n    return _call({{{packed}}})\n", namespace)
    holder = types.SimpleNamespace()
    setattr(holder, hook, hookimpl(namespace[hook]))
    return holder
