"""A plugin's manifest: `plugin.toml` read into a `Plugin` and its `Command`s.

Reading a manifest imports no plugin code: routing a command needs manifests only.
The registry (`appliance.registry`) finds the manifests and loads the code.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance import state
from appliance.errors import UserError

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
    """Where installed (not built-in) plugins live: `<root>/plugins/`."""
    return state.root() / "plugins"


def deps_root() -> Path:
    """Every plugin's pip-installed dependencies, one folder per plugin."""
    return state.root() / "plugin-deps"


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
        requires: list[str] | None = None,
        public: list[str] | None = None,
        dependencies: list[str] | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self.builtin = builtin
        self.version = version
        self.description = description
        self.hooks: list[str] = hooks if hooks is not None else []
        self.commands: dict[str, Command] = commands if commands is not None else {}
        self.enabled = enabled
        # Other plugins this one imports (their `public` modules only).
        self.requires: list[str] = requires if requires is not None else []
        # This plugin's modules that plugins requiring it may import.
        self.public: list[str] = public if public is not None else []
        # PEP 508 requirements, pip-installed into `deps_dir` by plugin:install.
        self.dependencies: list[str] = dependencies if dependencies is not None else []
        self._deps_dir: Path | None = None

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

    @property
    def deps_dir(self) -> Path:
        """Where the plugin's Python dependencies are installed: under the state root,
        so an upgrade of the appliance (a fresh virtualenv) keeps them."""
        return self._deps_dir or deps_root() / self.name

    @deps_dir.setter
    def deps_dir(self, path: Path) -> None:
        self._deps_dir = path

    @property
    def templates_dir(self) -> Path:
        """The templates the plugin ships (`templates/` in its folder), which
        `render(..., plugin_dir=...)` searches after the app's and the host's overrides."""
        return self.path / "templates"

    def declared_hooks(self) -> list[str]:
        """The hooks it implements, sorted: those its manifest names and its triggers."""
        return sorted(set(self.hooks) | set(self.triggers))

    def to_dict(self) -> dict[str, Any]:
        """What a trigger executable receives for a `plugin` argument."""
        return {
            "name": self.name,
            "version": self.version,
            "path": str(self.path),
            "builtin": self.builtin,
            "enabled": self.enabled,
            "requires": list(self.requires),
            "dependencies": list(self.dependencies),
            "deps_dir": str(self.deps_dir),
        }


def read_manifest(path: Path, builtin: bool) -> Plugin:
    """The plugin in folder `path`, from its `plugin.toml`; a `UserError` naming the
    file when it cannot be read or declares something invalid."""
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
        requires=_names(manifest, data, "requires", validate.plugin_name),
        public=_names(manifest, data, "public", module_name),
        dependencies=_names(manifest, data, "dependencies", requirement),
    )
    if plugin.name in plugin.requires:
        raise UserError(f"{manifest}: a plugin cannot require itself")
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


MAX_LISTED = 50
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}(?:\.[A-Za-z_][A-Za-z0-9_]{0,99}){0,4}")
# A PEP 508 requirement without a URL, a path or an option: a name, optional extras,
# optional version specifiers, an optional environment marker. Spaces only (never a
# newline), no `@`, `/`, `\`, `:` or `#`, and it starts with a letter or a digit, so
# pip can only read it as a requirement on the package index.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?"
_SPEC = r"(?:===|==|!=|~=|<=|>=|<|>) *[A-Za-z0-9.*+!_-]{1,50}"
_SPECS = rf"{_SPEC}(?: *, *{_SPEC}){{0,9}}"
_REQUIREMENT = re.compile(
    rf"{_NAME} *(?:\[ *{_NAME}(?: *, *{_NAME}){{0,19}} *\])?"
    rf" *(?:{_SPECS}|\( *{_SPECS} *\))?"
    r"(?: *; *[A-Za-z0-9_.'\" <>=!~()-]{1,150})?"
)
MAX_REQUIREMENT = 200


def requirement(text: str) -> str:
    """One Python dependency as `plugin.toml` declares it (`"requests>=2,<3"`)."""
    if len(text) > MAX_REQUIREMENT or not _REQUIREMENT.fullmatch(text):
        raise UserError(
            f"invalid dependency {text[:80]!r}: use a PyPI requirement such as 'requests>=2' "
            "(no URL, path or pip option)"
        )
    return text


def module_name(text: str) -> str:
    """A module of the plugin, relative to its folder (`archive`, `lib.client`)."""
    if not _MODULE.fullmatch(text):
        raise UserError(f"invalid module name {text[:80]!r}")
    return text


def _names(
    manifest: Path, data: dict[str, Any], key: str, check: Callable[[str], str]
) -> list[str]:
    """A list of strings from the manifest, each checked, at most MAX_LISTED."""
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{manifest}: {key} must be a list of strings")
    if len(value) > MAX_LISTED:
        raise UserError(f"{manifest}: {key} lists more than {MAX_LISTED} entries")
    try:
        return [check(v) for v in value]
    except UserError as exc:
        raise UserError(f"{manifest}: {key}: {exc}") from None
