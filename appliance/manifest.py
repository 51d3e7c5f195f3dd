"""A plugin's manifest: `plugin.toml` read into a `Plugin` and its `Command`s.

Reading a manifest imports no plugin code: routing a command needs manifests only.
The registry (`appliance.registry`) finds the manifests and loads the code.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import tomllib
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
        package = BUILTIN_PACKAGE if self.builtin else INSTALLED_PACKAGE
        return f"{package}.{self.name.replace('-', '_')}"

    def declared_hooks(self) -> list[str]:
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
