"""The public API: the only module of the core a plugin imports, built-in or not.

    from appliance.api import App, Context, Deploy, UserError, hookimpl

Everything named here is documented (docs/plugins.md, "Public API", generated from
these docstrings) and kept stable: arguments are added, never renamed. Everything
else in `appliance/` is private and may change. Names load on first use, so a
command that needs little pays for little.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from appliance.markers import hookimpl

if TYPE_CHECKING:
    from appliance import (
        access,
        audit,
        cabundle,
        hostenv,
        netcheck,
        releases,
        tree,
        validate,
    )
    from appliance.access import Key
    from appliance.appfiles import parse_app_json, parse_procfile
    from appliance.background import Daemon
    from appliance.command import Context
    from appliance.deploy import Deploy
    from appliance.errors import Conflict, NotFound, PluginError, UserError
    from appliance.host import Appliance, self_command
    from appliance.lifecycle import create_app, destroy_app
    from appliance.manifest import Command, Plugin, deps_root, installed_dir, read_manifest
    from appliance.output import INDENT, Output
    from appliance.pipeline import deploy_image, deploy_source, redeploy, restart, rollback
    from appliance.recovery import recover_if_idle
    from appliance.registry import Registry
    from appliance.releases import Release
    from appliance.runtime import Container, Target
    from appliance.state import (
        DEFAULT_ROOT,
        App,
        Settings,
        app_names,
        atomic_write,
        global_settings,
        lock_file,
        read_toml,
        root,
        write_toml,
    )
    from appliance.templates import render, templates_dir

__all__ = [
    "DEFAULT_ROOT",
    "INDENT",
    "App",
    "Appliance",
    "Command",
    "Conflict",
    "Container",
    "Context",
    "Daemon",
    "Deploy",
    "Key",
    "NotFound",
    "Output",
    "Plugin",
    "PluginError",
    "Registry",
    "Release",
    "Settings",
    "Target",
    "UserError",
    "access",
    "app_names",
    "atomic_write",
    "audit",
    "cabundle",
    "create_app",
    "deploy_image",
    "deploy_source",
    "deps_root",
    "destroy_app",
    "global_settings",
    "hookimpl",
    "hostenv",
    "installed_dir",
    "lock_file",
    "netcheck",
    "parse_app_json",
    "parse_procfile",
    "read_manifest",
    "read_toml",
    "recover_if_idle",
    "redeploy",
    "releases",
    "render",
    "restart",
    "rollback",
    "root",
    "self_command",
    "templates_dir",
    "tree",
    "validate",
    "write_toml",
]

_WHERE: dict[str, str] = {
    "DEFAULT_ROOT": "appliance.state",
    "INDENT": "appliance.output",
    "App": "appliance.state",
    "Appliance": "appliance.host",
    "Command": "appliance.manifest",
    "Conflict": "appliance.errors",
    "Container": "appliance.runtime",
    "Context": "appliance.command",
    "Daemon": "appliance.background",
    "Deploy": "appliance.deploy",
    "Key": "appliance.access",
    "NotFound": "appliance.errors",
    "Output": "appliance.output",
    "Plugin": "appliance.manifest",
    "PluginError": "appliance.errors",
    "Registry": "appliance.registry",
    "Release": "appliance.releases",
    "Settings": "appliance.state",
    "Target": "appliance.runtime",
    "UserError": "appliance.errors",
    "app_names": "appliance.state",
    "atomic_write": "appliance.state",
    "create_app": "appliance.lifecycle",
    "deps_root": "appliance.manifest",
    "installed_dir": "appliance.manifest",
    "read_manifest": "appliance.manifest",
    "deploy_image": "appliance.pipeline",
    "deploy_source": "appliance.pipeline",
    "destroy_app": "appliance.lifecycle",
    "global_settings": "appliance.state",
    "lock_file": "appliance.state",
    "parse_app_json": "appliance.appfiles",
    "parse_procfile": "appliance.appfiles",
    "read_toml": "appliance.state",
    "recover_if_idle": "appliance.recovery",
    "redeploy": "appliance.pipeline",
    "render": "appliance.templates",
    "restart": "appliance.pipeline",
    "rollback": "appliance.pipeline",
    "root": "appliance.state",
    "self_command": "appliance.host",
    "templates_dir": "appliance.templates",
    "write_toml": "appliance.state",
}
"""Where each name lives; the modules in `__all__` and not here are namespaces
(`validate.app_name`, `releases.current`, `tree.read_text`...)."""


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    elif name in __all__:
        value = importlib.import_module(f"appliance.{name}")
    else:
        raise AttributeError(f"appliance.api has no {name!r} (see docs/plugins.md)")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

