"""Firing hooks, by the policy each hook's specification declares.

A hook is fired as an attribute of the host's relay, as with pluggy's own
`pm.hook.NAME(...)`: `appliance.hook.appliance_app_urls(app=app)`. What a failure
does is the spec's to say, never the caller's:

* an **isolated** event (`@hookspec(isolated=True)`) runs every implementation; a
  failure, loading the plugin included, becomes a warning naming the plugin;
* every other hook stops at the first failure, raised as a `PluginError` naming the
  plugin (a `UserError` passes through as it is: it is already the user's message);
* a decision (`firstresult=True`) returns the first non-None result, any other hook
  the list of results, newest plugin first.

`.by_plugin(...)` pairs each result with its plugin's name, for a caller that must
say which plugin gave what (merging options); a failure there follows the spec too.
Wrapper implementations (`wrapper=True`, `hookwrapper=True`) take part when a hook is
fired whole; isolated events and `by_plugin` call implementations one by one and leave
wrappers out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.errors import PluginError, UserError
from appliance.markers import ISOLATED_ATTR
from appliance.output import Output

if TYPE_CHECKING:
    from appliance.registry import Registry


class Hooks:
    """The firing machinery behind `Appliance.hook`; plugins use the relay."""

    def __init__(self, registry: Registry, out: Output) -> None:
        self.registry = registry
        self.out = out

    def caller(self, name: str) -> Any:
        """pluggy's caller of hook `name`, once every plugin declaring it is loaded."""
        caller = getattr(self.registry.pm.hook, name, None)
        if caller is None or caller.spec is None:
            raise AttributeError(f"no hook named {name!r} (see docs/plugins.md)")
        isolated = self.isolated(caller)
        self.registry.load_for(name, on_error=self._warn if isolated else None)
        return caller

    @staticmethod
    def isolated(caller: Any) -> bool:
        return bool(getattr(caller.spec.function, ISOLATED_ATTR, False))

    def argnames(self, name: str) -> tuple[str, ...]:
        return tuple(self.caller(name).spec.argnames)

    def _warn(self, exc: Exception) -> None:
        self.out.warn(str(exc))

    def fire(self, name: str, kwargs: dict[str, Any]) -> Any:
        caller = self.caller(name)
        if self.isolated(caller):
            self._fire_isolated(name, caller, kwargs)
            return None
        try:
            return caller(**kwargs)
        except UserError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {self.culprit(exc)}: {name} failed: {type(exc).__name__}: {exc}"
            ) from exc

    def by_plugin(self, name: str, kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
        """Each plugin's result with its name; a failure follows the spec as `fire`
        does (an isolated hook's failing plugin is warned about and left out)."""
        caller = self.caller(name)
        isolated = self.isolated(caller)
        results = []
        for plugin, impl in self._implementations(caller):
            try:
                results.append((plugin, impl.function(*(kwargs[a] for a in impl.argnames))))
            except UserError as exc:
                if not isolated:
                    raise
                self.out.warn(f"plugin {plugin}: {name} failed: {exc}")
            except Exception as exc:
                if isolated:
                    self.out.warn(f"plugin {plugin}: {name} failed: {exc}")
                    continue
                raise PluginError(
                    f"plugin {plugin}: {name} failed: {type(exc).__name__}: {exc}"
                ) from exc
        return results

    def _fire_isolated(self, name: str, caller: Any, kwargs: dict[str, Any]) -> None:
        for plugin, impl in self._implementations(caller):
            try:
                impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                self.out.warn(f"plugin {plugin}: {name} failed: {exc}")

    @staticmethod
    def _implementations(caller: Any) -> list[tuple[str, Any]]:
        """Plain implementations, newest first (pluggy's order), wrappers left out."""
        return [
            (impl.plugin_name.split(":")[0], impl)
            for impl in reversed(caller.get_hookimpls())
            if not (impl.hookwrapper or impl.wrapper)
        ]

    def culprit(self, exc: BaseException) -> str:
        import traceback

        for frame in traceback.extract_tb(exc.__traceback__):
            for plugin in self.registry.plugins.values():
                if frame.filename.startswith(str(plugin.path) + "/"):
                    return plugin.name
        return "unknown"


class HookCaller:
    """One hook, ready to fire: `relay.NAME(**kwargs)` or `relay.NAME.by_plugin(**kwargs)`."""

    def __init__(self, hooks: Hooks, name: str, host: object) -> None:
        self.hooks, self.name, self.host = hooks, name, host

    def _kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if "appliance" in self.hooks.argnames(self.name):
            kwargs.setdefault("appliance", self.host)
        return kwargs

    def __call__(self, **kwargs: Any) -> Any:
        return self.hooks.fire(self.name, self._kwargs(kwargs))

    def by_plugin(self, **kwargs: Any) -> list[tuple[str, Any]]:
        return self.hooks.by_plugin(self.name, self._kwargs(kwargs))


class HookRelay:
    """`appliance.hook`: every hook of `appliance.hookspecs` as an attribute. The
    `appliance` argument is filled in with the host when the caller leaves it out;
    a name that is no hook raises AttributeError at once."""

    def __init__(self, hooks: Hooks, host: object) -> None:
        self._hooks, self._host = hooks, host

    def __getattr__(self, name: str) -> HookCaller:
        if not name.startswith("appliance_"):
            raise AttributeError(name)
        self._hooks.caller(name)  # raises for a name that is no hook
        return HookCaller(self._hooks, name, self._host)
