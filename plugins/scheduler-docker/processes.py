"""An app's containers as `ps:report` shows them, and `ps:stop`
(`appliance_scheduler_report`, `appliance_scheduler_stop`)."""

from __future__ import annotations

import time
from typing import Any

from appliance.api import App, Output

from . import containers as c
from .container_spec import setting


def report(apps: list[App]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each app's containers, every app in one engine query; what is past
    its retire deadline is retired first, never shown."""
    engine = c.client()
    by_app = _by_app(engine)
    from . import retiring

    overdue = [a for a in apps if retiring.overdue(a, by_app.get(a.name, []), time.time())]
    for app in overdue:
        retiring.retire_due(app, engine)
    if overdue:
        by_app = _by_app(engine)
    from . import health

    shown = [k for app in apps for k in by_app.get(app.name, [])]
    healthy = health.statuses([k for k in shown if k.labels.get(c.LABEL_PROCESS) != "run"])
    return {app.name: _rows(app, by_app.get(app.name, []), healthy) for app in apps}


def _by_app(engine: Any) -> dict[str, list[Any]]:
    by_app: dict[str, list[Any]] = {}
    for container in _inspected(engine):
        by_app.setdefault(container.labels.get(c.LABEL_APP, ""), []).append(container)
    return by_app


def _inspected(engine: Any) -> list[Any]:
    """Every app container, fully inspected (restarts and start time are not in the
    list): one list query, then the inspections side by side rather than in turn."""
    from concurrent.futures import ThreadPoolExecutor

    import docker.errors

    listed = engine.containers.list(all=True, sparse=True, filters={"label": [c.LABEL_APP]})

    def inspect(container: Any) -> Any:
        try:
            container.reload()
        except docker.errors.NotFound:
            return None  # removed meanwhile (a retire)
        return container

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [k for k in pool.map(inspect, listed) if k is not None]


def _rows(app: App, containers: list[Any], healthy: dict[str, str]) -> list[dict[str, Any]]:
    from . import retiring

    current = app.settings.get("core", "deploy")
    pending = retiring.window(app)
    rows = []
    for k in sorted(containers, key=lambda k: (c.deploy_of(k), k.name)):
        if k.labels.get(c.LABEL_PROCESS) == "run":
            continue
        rows.append({
            "name": k.name,
            "process": k.labels.get(c.LABEL_PROCESS, ""),
            "release": int(k.labels.get(c.LABEL_RELEASE, "0")),
            "deploy": c.deploy_of(k),
            "current": c.deploy_of(k) == current,
            "live": int(current or 0),
            "retiring_until": None if c.deploy_of(k) == current
            else retiring.retiring_until(pending, c.deploy_of(k)),
            "status": k.status,
            "health": healthy.get(k.id, "-"),
            "uptime": round(c.uptime(k)),
            "restarts": int(k.attrs.get("RestartCount", 0)),
            "image": k.attrs.get("Config", {}).get("Image", ""),
        })  # fmt: skip
    return rows


def stop(app: App, out: Output) -> None:
    """Stop every container of the app until a deploy goes live again; the daemon
    leaves a stopped app alone meanwhile. The caller holds the app's command lock."""
    engine = c.client()
    found = [k for k in c.app_containers(engine, app.name) if k.status != "exited"]
    out.section(f"Stopping {app.name}: {len(found)} container(s)")
    for container in found:
        container.stop(timeout=setting(app, "stop_timeout", 10))
    app.settings.set("scheduler-docker", "stopped", True)
