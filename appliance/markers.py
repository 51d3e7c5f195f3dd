"""`hookspec` and `hookimpl` markers that do not import pluggy.

A plugin module imports `hookimpl` at load time; with these markers a command whose
plugin fires no hook never pays for importing pluggy. The plugin manager reads the
marks through pluggy's public `parse_hookimpl_opts` / `parse_hookspec_opts`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

SPEC_ATTR = "_appliance_hookspec"
IMPL_ATTR = "_appliance_hookimpl"


def hookspec(
    function: F | None = None, *, firstresult: bool = False, historic: bool = False
) -> Any:
    opts = {
        "firstresult": firstresult,
        "historic": historic,
        "warn_on_impl": None,
        "warn_on_impl_args": None,
    }

    def mark(func: F) -> F:
        setattr(func, SPEC_ATTR, opts)
        return func

    return mark(function) if function is not None else mark


def hookimpl(
    function: F | None = None,
    *,
    tryfirst: bool = False,
    trylast: bool = False,
    wrapper: bool = False,
    hookwrapper: bool = False,
    optionalhook: bool = False,
    specname: str | None = None,
) -> Any:
    opts = {
        "tryfirst": tryfirst,
        "trylast": trylast,
        "wrapper": wrapper,
        "hookwrapper": hookwrapper,
        "optionalhook": optionalhook,
        "specname": specname,
    }

    def mark(func: F) -> F:
        setattr(func, IMPL_ATTR, opts)
        return func

    return mark(function) if function is not None else mark


def plugin_manager() -> Any:
    """A pluggy PluginManager that understands these markers, with every spec added."""
    import inspect

    import pluggy

    from appliance import hookspecs

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
    manager.add_hookspecs(hookspecs)
    return manager
