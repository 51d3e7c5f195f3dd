"""Hooks of the proxy that routes an app: which one it is, and what it shows and checks.

The switch itself is two deploy hooks (`appliance_proxy_prepare`,
`appliance_proxy_update`); these are the rest of a proxy's interface, so that every
command about routing (`proxy:*`) works whatever proxy routes the app. A proxy plugin
answers for an app only when `appliance_app_proxy` names it, and returns None
otherwise, so that another proxy can take the app over whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.markers import hookspec

if TYPE_CHECKING:
    from appliance.host import Appliance
    from appliance.output import Output
    from appliance.state import App


@hookspec(firstresult=True)
def appliance_app_proxy(app: App, appliance: Appliance) -> str | None:
    """Decision: the name of the proxy that routes `app` (`nginx`), or None when
    the app is not routed.

    Every proxy plugin asks this in each hook that acts on an app
    (`appliance.hook.appliance_app_proxy(app=app) == "mine"`) and does nothing for an
    app routed by another. When every implementation returns None the app has no
    proxy: deploys start its containers without routing them, and it has no URLs.

    Built-in: `proxy` (trylast) returns the app's choice (`proxy:set APP NAME`), else
    the host's (`proxy:set-global NAME`), else `nginx`; None after `proxy:disable APP`.
    """


@hookspec
def appliance_proxy_names(appliance: Appliance) -> list[str]:
    """Collect: the proxy names this plugin answers to, as `appliance_app_proxy`
    returns them (lowercase letters, digits and dashes).

    `proxy:set` and `proxy:set-global` refuse a name no installed plugin returns here,
    so that a typo cannot leave an app unrouted.

    Built-in: `proxy-nginx` returns `["nginx"]`.
    """
    return []


@hookspec(firstresult=True)
def appliance_proxy_report(app: App, appliance: Appliance) -> dict[str, Any] | None:
    """Decision: what the app's proxy knows about `app`, for `proxy:report`, as a flat
    `{label: value}` dict; None when this plugin does not route the app.

    The generic facts (`Proxy enabled`, `Proxy type`, `Proxy global type`,
    `Proxy computed type`) come first; yours follow. In JSON the labels become
    lowercase keys with underscores (`Proxy targets` -> `proxy_targets`), the values
    kept as they are (a list stays a list; in text it is joined with spaces). Keep it
    cheap: it runs for every app when `proxy:report` has no APP.

    Built-in: `proxy-nginx` (trylast): the vhost file, the targets it sends traffic to
    and the app's URLs.
    """


@hookspec(firstresult=True)
def appliance_proxy_config(app: App, appliance: Appliance) -> str | None:
    """Decision: the configuration that routes `app` now, as the proxy reads it (text
    for `proxy:show-config`); None when this plugin does not route the app.

    Raise `NotFound` when the app is yours but not routed yet (never deployed, no
    web process).

    Built-in: `proxy-nginx` (trylast) returns the app's vhost file.
    """


@hookspec(firstresult=True)
def appliance_proxy_validate(app: App, appliance: Appliance) -> list[str] | None:
    """Decision: check the configuration the proxy would route `app` with if it were
    rendered now (the current targets, domains, settings and template overrides),
    without applying it; for `proxy:validate`.

    Return the problems found, one line each (`[]`: valid), or None when this plugin
    does not route the app. Nothing may change what serves traffic: leave the running
    configuration as it was. Raise `NotFound` when the app is yours but not routed yet.

    Built-in: `proxy-nginx` (trylast) renders the vhost and runs `nginx -t` on it under
    the nginx lock, then puts the files back as they were (nothing is reloaded).
    """


@hookspec(firstresult=True)
def appliance_proxy_logs(
    app: App, kind: str, lines: int, follow: bool, out: Output, appliance: Appliance
) -> bool | None:
    """Decision: print the proxy's log of `app` for `proxy:logs`; True once printed,
    None when this plugin does not route the app.

    * `kind`: `access` (one line per request) or `error`.
    * `lines`: how many of the last lines to print (0: all of them).
    * `follow`: go on printing lines as they come, until `out.reader_gone()`.
    * `out`: print each line with `out.raw(line)`.

    Raise `NotFound` when there is no such log yet.

    Built-in: `proxy-nginx` (trylast) reads `log_dir/APP-access.log` or
    `APP-error.log`, followed across logrotate's renames (as `nginx:access-logs` and
    `nginx:error-logs` do).
    """


@hookspec(isolated=True)
def appliance_proxy_removed(app: App, proxy: str, out: Output, appliance: Appliance) -> None:
    """Event (isolated): the proxy named `proxy` no longer routes `app`:
    `proxy:set` chose another one, or `proxy:disable` turned routing off.

    Fires after the app was deployed again without that proxy (when it was deployed at
    all), so traffic has moved already. Remove what you kept for the app (its config,
    then reload) when `proxy` is your name; do nothing otherwise. A failure is a
    warning; be idempotent.

    Built-in: `proxy-nginx` removes the app's vhost.
    """
