"""Firing hooks: pipeline hooks propagate failures, isolated events report them."""

from __future__ import annotations

from typing import Any

from appliance.errors import PluginError, UserError
from appliance.output import Output
from appliance.registry import Registry


class Hooks:
    def __init__(self, registry: Registry, out: Output) -> None:
        self.registry = registry
        self.out = out

    def _caller(self, name: str, isolated: bool = False) -> Any:
        self.registry.load_for(name, on_error=self._warn if isolated else None)
        return getattr(self.registry.pm.hook, name)

    def _warn(self, exc: Exception) -> None:
        self.out.warn(str(exc))

    def call(self, name: str, **kwargs: Any) -> Any:
        """Fire a pipeline hook: the first failure stops everything, named by plugin.

        Decision hooks return the first non-None result, others the list of results.
        """
        try:
            return self._caller(name)(**kwargs)
        except UserError:
            raise
        except Exception as exc:
            culprit = self.culprit(exc)
            raise PluginError(
                f"plugin {culprit}: {name} failed: {type(exc).__name__}: {exc}"
            ) from exc

    def each(self, name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Fire a collect hook and pair each result with its plugin's name, for a
        caller that must say which plugin gave what; a failure stops everything."""
        caller = self._caller(name)
        results = []
        for impl in reversed(caller.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            plugin = impl.plugin_name.split(":")[0]
            try:
                results.append((plugin, impl.function(*(kwargs[a] for a in impl.argnames))))
            except UserError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {plugin}: {name} failed: {type(exc).__name__}: {exc}"
                ) from exc
        return results

    def event(self, name: str, **kwargs: Any) -> None:
        """Fire an isolated event: every implementation runs; failures, loading
        included, become warnings."""
        caller = self._caller(name, isolated=True)
        for impl in reversed(caller.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            try:
                impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                plugin = impl.plugin_name.split(":")[0]
                self.out.warn(f"plugin {plugin}: {name} failed: {exc}")

    def culprit(self, exc: BaseException) -> str:
        import traceback

        for frame in traceback.extract_tb(exc.__traceback__):
            for plugin in self.registry.plugins.values():
                if frame.filename.startswith(str(plugin.path) + "/"):
                    return plugin.name
        return "unknown"
