"""What checks an app has, per process type: for checks:report and apps:report."""

from __future__ import annotations

from typing import Any

from appliance.api import App, UserError, releases

from . import settings, spec

SOURCES = {"app.json": "app.json", "CHECKS": "CHECKS file"}


def summary(app: App) -> dict[str, Any]:
    """The checks of the app's current release and its settings, as plain data."""
    release = releases.current(app)
    problem = ""
    try:
        declared = spec.declared(release.app_json if release else {})
    except UserError as exc:
        declared, problem = {}, str(exc)
    uptime = settings.number(app, "uptime")
    processes: dict[str, Any] = {}
    for process in settings.known_processes(app):
        checks = declared.get(process)
        if checks:
            count = f"{len(checks)} check{'s' if len(checks) > 1 else ''}"
            described = f"{SOURCES.get(checks[0].source, checks[0].source)} ({count})"
        else:
            described = spec.describe_default(uptime, process)
        processes[process] = {
            "status": settings.status(app, process),
            "source": checks[0].source if checks else "default",
            "summary": described,
            "wait_to_retire": settings.wait_to_retire(app, process),
            "checks": [c.to_dict() for c in checks or spec.default_checks(process, uptime)],
        }
    return {
        "app": app.name,
        "release": release.number if release else None,
        "uptime": uptime,
        "wait_to_retire": settings.number(app, "wait_to_retire"),
        "disabled": settings.listed(app, "disabled"),
        "skipped": settings.listed(app, "skipped"),
        "problem": problem,
        "processes": processes,
    }


def line(process: str, facts: dict[str, Any]) -> str:
    """`web: app.json (2 checks)`, `worker: skipped, default (uptime 10 s)`."""
    status = "" if facts["status"] == "enabled" else f"{facts['status']}, "
    return f"{process}: {status}{facts['summary']}"


def app_fields(app: App) -> dict[str, Any]:
    data = summary(app)
    fields = {
        "Checks": "; ".join(line(p, f) for p, f in data["processes"].items()),
        "Checks wait to retire": f"{data['wait_to_retire']} s",
    }
    if data["problem"]:
        fields["Checks problem"] = data["problem"]
    return fields
