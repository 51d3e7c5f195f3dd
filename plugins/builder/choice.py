"""Which builder builds a source tree, and reusing the image of an identical build."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from appliance import api
from appliance.api import Deploy, UserError

KEEP_BUILDS = 20
"""Images remembered per app for reuse (`builds` table of app.toml)."""


def build_key(job: Deploy) -> str | None:
    """What a build depends on: the source tree, the config (build args, BUILDPACK_URL)
    and every builder setting of the app and the host (each settings table whose name
    starts with `builder`, the convention builder plugins follow). Equal keys, equal
    images."""
    if not job.tree:
        return None

    def builder_tables(data: dict[str, Any]) -> dict[str, Any]:
        tables = {
            name: {k: v for k, v in table.items() if k != "last"}
            for name, table in data.items()
            if name.startswith("builder") and isinstance(table, dict)
        }
        return {name: table for name, table in tables.items() if table}

    inputs = {
        "tree": job.tree,
        "config": job.config,
        "app": builder_tables(api.read_toml(job.app.settings.path)),
        "host": builder_tables(api.global_settings().data),
    }
    encoded = json.dumps(inputs, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def reusable_image(job: Deploy, key: str | None) -> str | None:
    """The image an earlier deploy built from the same inputs, if still present; the
    process types its builder found come back with it."""
    found = job.app.settings.table("builds").get(key) if key else None
    if not isinstance(found, dict):
        return None
    if not job.appliance.hook.appliance_image_exists(image=found["image"], app=job.app):
        return None
    job.procfile = {**found.get("procfile", {}), **job.procfile}
    return str(found["image"])


def remember_build(job: Deploy, key: str | None) -> None:
    if not key or not job.image:
        return
    built = job.app.settings.table("builds")
    built.pop(key, None)
    built[key] = {"image": job.image, "procfile": job.procfile}
    job.app.settings.replace("builds", dict(list(built.items())[-KEEP_BUILDS:]))


def detect_builders(job: Deploy) -> list[dict[str, Any]]:
    found = [d for d in job.appliance.hook.appliance_builder_detect(deploy=job) if d]
    return sorted(found, key=lambda d: (int(d.get("priority", 50)), str(d.get("builder"))))


def choose_builder(job: Deploy) -> None:
    """The app's pinned builder, else the detected one with the lowest priority."""
    app, out = job.app, job.out
    detected = detect_builders(job)
    pinned = app.settings.get("builder", "selected")
    if pinned:
        job.builder, reason = str(pinned), "pinned with builder:set"
    elif detected:
        job.builder, reason = str(detected[0]["builder"]), str(detected[0].get("reason", ""))
    else:
        raise UserError(
            f"no builder can build {app.name}: add a Dockerfile, a .buildpacks file, or a "
            "requirements.txt, package.json, go.mod or index.html (see builder:report)"
        )
    app.settings.set("builder", "last", {"builder": job.builder, "reason": reason})
    out.section(f"Using the {job.builder} builder ({reason})")
