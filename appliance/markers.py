"""`hookspec` and `hookimpl` markers that do not import pluggy: a leaf module.

A plugin module imports `hookimpl` at load time; with these markers a command whose
plugin fires no hook never pays for importing pluggy. The plugin manager
(`appliance.manager`) reads the marks through pluggy's public `parse_hookimpl_opts` /
`parse_hookspec_opts`; the option keys are pluggy's own (a unit test pins them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

SPEC_ATTR = "_appliance_hookspec"
IMPL_ATTR = "_appliance_hookimpl"
ISOLATED_ATTR = "_appliance_isolated"


def hookspec(
    function: F | None = None,
    *,
    firstresult: bool = False,
    historic: bool = False,
    isolated: bool = False,
) -> Any:
    """Mark a hook specification. `isolated`: an event whose failures are reported
    with the plugin's name while the other implementations still run."""
    opts = {
        "firstresult": firstresult,
        "historic": historic,
        "warn_on_impl": None,
        "warn_on_impl_args": None,
    }

    def mark(func: F) -> F:
        setattr(func, SPEC_ATTR, opts)
        setattr(func, ISOLATED_ATTR, isolated)
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
    """Mark a function as a hook implementation: `@hookimpl` or `@hookimpl(trylast=True)`
    (pluggy's options: tryfirst, trylast, wrapper, hookwrapper, optionalhook, specname)."""
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
