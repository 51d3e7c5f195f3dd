"""nginx in front of every app: a vhost per app, switched with a graceful reload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.hookspecs import hookimpl
from appliance.output import Output
from appliance.state import App

from . import nginx

if TYPE_CHECKING:
    from appliance.deploy import Deploy


def domains_of(app: App, hooks: Any = None) -> list[str]:
    if hooks is None:
        from appliance.hooks import Hooks
        from appliance.registry import Registry

        hooks = Hooks(Registry(), Output())
    found = hooks.call("appliance_app_domains", app=app)
    return [d for group in found for d in group]


def _files(deploy: Deploy) -> dict[Any, str | None]:
    app = deploy.app
    targets = [str(t) for t in deploy.targets]
    files: dict[Any, str | None] = {}
    global_path, global_text = nginx.global_file()
    if global_text is not None:
        files[global_path] = global_text
    files[nginx.vhost_path(app)] = (
        nginx.render(app, targets, domains_of(app, deploy.hooks)) if targets else None
    )
    return files


@hookimpl(trylast=True)
def appliance_proxy_prepare(deploy: Deploy) -> None:
    """Render before the checks, so the switch after them is only test-and-reload."""
    deploy.extra["proxy-nginx"] = _files(deploy)


@hookimpl(trylast=True)
def appliance_proxy_update(deploy: Deploy) -> bool:
    files = deploy.extra.get("proxy-nginx") or _files(deploy)
    deploy.out.section(f"Switching traffic to release v{deploy.release}")
    nginx.apply(files)
    deploy.app.settings.set("proxy-nginx", "targets", [str(t) for t in deploy.targets])
    return True


@hookimpl
def appliance_app_destroy(app: App, out: Output) -> None:
    if nginx.vhost_path(app).exists():
        nginx.apply({nginx.vhost_path(app): None})
        out.info("Removed the nginx vhost")


@hookimpl(trylast=True)
def appliance_app_urls(app: App) -> list[str]:
    port = nginx.port()
    suffix = "" if port == "80" else f":{port}"
    return [f"http://{domain}{suffix}/" for domain in domains_of(app)]


@hookimpl
def appliance_daemon_start(daemon: Any) -> None:
    """Re-render vhosts when template overrides change."""
    from . import watch

    watch.start(daemon)


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    return {
        "Proxy": "nginx",
        "Proxy targets": " ".join(app.settings.get("proxy-nginx", "targets", [])) or "none",
    }
