"""Trigger executables as pluggy implementations, and hook-call tracing.

A trigger (`triggers/<hook>` in a plugin folder) becomes a small object with one
hook implementation that runs the executable (`appliance.triggers.run`).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.errors import PluginError

if TYPE_CHECKING:
    from appliance.manifest import Plugin


def trace_before(hook_name: str, hook_impls: list[Any], kwargs: dict[str, Any]) -> None:
    names = ", ".join(i.plugin_name for i in hook_impls)
    print(f"[hook] {hook_name} -> {names}", file=sys.stderr, flush=True)


def trace_after(outcome: Any, hook_name: str, hook_impls: list[Any], kwargs: Any) -> None:
    exc = outcome.exception
    result = f"raised {type(exc).__name__}: {exc}" if exc else repr(outcome.get_result())
    print(f"[hook] {hook_name} <- {result[:200]}", file=sys.stderr, flush=True)


# Hook arguments a trigger never receives: live objects with no JSON form (the
# running appliance). An implementation may take any subset of a hook's arguments,
# so the trigger's implementation simply does not ask for them.
NOT_FOR_TRIGGERS = frozenset({"appliance"})


def trigger_plugin(plugin: Plugin, hook: str, exe: Path, argnames: tuple[str, ...]) -> Any:
    """A pluggy plugin object whose one hook runs the executable `exe`.

    pluggy reads an implementation's argument names from its code object, so the
    function is compiled with the spec's own (identifier-checked) names, less
    `NOT_FOR_TRIGGERS`.
    """
    from appliance import triggers
    from appliance.markers import hookimpl

    if not all(name.isidentifier() for name in (hook, *argnames)):
        raise PluginError(f"hook {hook!r} has unusable argument names")
    argnames = tuple(name for name in argnames if name not in NOT_FOR_TRIGGERS)

    def call(kwargs: dict[str, Any]) -> Any:
        return triggers.run(plugin.name, hook, exe, kwargs)

    params = ", ".join(argnames)
    packed = ", ".join(f"{name!r}: {name}" for name in argnames)
    namespace: dict[str, Any] = {"_call": call}
    exec(f"def {hook}({params}):\n    return _call({{{packed}}})\n", namespace)
    holder = types.SimpleNamespace()
    setattr(holder, hook, hookimpl(namespace[hook]))
    return holder
