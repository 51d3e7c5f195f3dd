"""nginx in front of every app it routes: a vhost per app, switched with a graceful
reload. It acts only on the apps whose proxy is `nginx` (`appliance_app_proxy`), so
another proxy plugin can take an app over whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.api import App, NotFound, Output, hookimpl

from . import nginx

if TYPE_CHECKING:
    from appliance.api import Appliance, Deploy


def _files(deploy: Deploy) -> dict[Any, str | None]:
    app = deploy.app
    targets = [str(t) for t in deploy.targets]
    files: dict[Any, str | None] = {}
    global_path, global_text = nginx.global_file()
    if global_text is not None:
        files[global_path] = global_text
    domains = nginx.domains_of(app, deploy.appliance.hook)
    files[nginx.vhost_path(app)] = nginx.render(app, targets, domains) if targets else None
    return files


@hookimpl(trylast=True)
def appliance_proxy_prepare(deploy: Deploy) -> None:
    """Render before the checks, so the switch after them is only test-and-reload."""
    if nginx.routes(deploy.app, deploy.appliance.hook):
        deploy.extra["proxy-nginx"] = _files(deploy)


@hookimpl(trylast=True)
def appliance_proxy_update(deploy: Deploy) -> bool | None:
    if not nginx.routes(deploy.app, deploy.appliance.hook):
        return None
    files = deploy.extra.get("proxy-nginx") or _files(deploy)
    deploy.out.section(f"Switching traffic to release v{deploy.release}")
    nginx.apply(files)
    deploy.app.settings.set("proxy-nginx", "targets", [str(t) for t in deploy.targets])
    return True


@hookimpl
def appliance_app_destroy(app: App, out: Output) -> None:
    """A vhost exists only for an app nginx routes (or routed, if its removal failed)."""
    if nginx.vhost_path(app).exists():
        nginx.apply({nginx.vhost_path(app): None})
        out.info("Removed the nginx vhost")


@hookimpl
def appliance_proxy_removed(app: App, proxy: str, out: Output) -> None:
    if proxy == nginx.NAME:
        appliance_app_destroy(app, out)
        app.settings.unset("proxy-nginx", "targets")


@hookimpl(trylast=True)
def appliance_app_urls(app: App, appliance: Appliance) -> list[str]:
    if not nginx.routes(app, appliance.hook):
        return []
    port = nginx.port()
    suffix = "" if port == "80" else f":{port}"
    return [f"http://{domain}{suffix}/" for domain in nginx.domains_of(app, appliance.hook)]


@hookimpl
def appliance_daemon_start(daemon: Any) -> None:
    """Re-render vhosts when template overrides change."""
    from . import watch

    watch.start(daemon)


@hookimpl
def appliance_app_report(app: App, appliance: Appliance) -> dict[str, Any]:
    if not nginx.routes(app, appliance.hook):
        return {}
    return {
        "Proxy targets": " ".join(app.settings.get("proxy-nginx", "targets", [])) or "none",
    }


@hookimpl
def appliance_proxy_names() -> list[str]:
    return [nginx.NAME]


@hookimpl(trylast=True)
def appliance_proxy_report(app: App, appliance: Appliance) -> dict[str, Any] | None:
    if not nginx.routes(app, appliance.hook):
        return None
    path = nginx.vhost_path(app)
    return {
        "Vhost": str(path) if path.is_file() else "none (not deployed)",
        "Targets": app.settings.get("proxy-nginx", "targets", []),
        "URLs": appliance_app_urls(app, appliance),
    }


@hookimpl(trylast=True)
def appliance_proxy_config(app: App, appliance: Appliance) -> str | None:
    if not nginx.routes(app, appliance.hook):
        return None
    path = nginx.vhost_path(app)
    if not path.is_file():
        raise NotFound(f"{app.name} has no nginx config yet: deploy it first")
    return path.read_text()


@hookimpl(trylast=True)
def appliance_proxy_validate(app: App, appliance: Appliance) -> list[str] | None:
    if not nginx.routes(app, appliance.hook):
        return None
    files = nginx.rendered_now(app, appliance.hook)
    if files is None:
        raise NotFound(f"{app.name} is not routed yet: deploy it (with a web process) first")
    return nginx.check(files)


@hookimpl(trylast=True)
def appliance_proxy_logs(
    app: App, kind: str, lines: int, follow: bool, out: Output, appliance: Appliance
) -> bool | None:
    if not nginx.routes(app, appliance.hook):
        return None
    from . import logfiles

    logfiles.show(app, kind, lines, follow, out)
    return True
