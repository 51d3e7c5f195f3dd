"""Images deployed as they are (`git:from-image`): pulled when missing, and their
Procfile and app.json read from the working directory."""

from __future__ import annotations

import io
import re
import tarfile
from typing import Any

from appliance.api import UserError

from . import containers as c

IMAGE = re.compile(r"^[a-z0-9]+(?:[._/:@-][A-Za-z0-9_.-]+)*$")


def prepare(image: str) -> dict[str, Any]:
    import docker.errors

    if len(image) > 255 or not IMAGE.fullmatch(image):
        raise UserError(f"invalid image reference {image!r}")
    engine = c.client(timeout=600)
    try:
        found = engine.images.get(image)
    except docker.errors.ImageNotFound:
        try:
            found = engine.images.pull(image)
        except docker.errors.APIError as exc:
            raise UserError(f"cannot pull {image}: {exc.explanation or exc}") from None
    workdir = (found.attrs.get("Config", {}).get("WorkingDir") or "/").rstrip("/")
    container = engine.containers.create(found.id, command=["true"])
    try:
        return {
            "procfile": read_file(container, f"{workdir}/Procfile"),
            "app_json": read_file(container, f"{workdir}/app.json"),
        }
    finally:
        container.remove(force=True)


def read_file(container: Any, path: str) -> str | None:
    import docker.errors

    try:
        stream, stat = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    if stat.get("size", 0) > 1_000_000:
        raise UserError(f"{path} in the image is too large")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        member = archive.next()
        if member is None or not member.isfile():
            return None
        extracted = archive.extractfile(member)
        return extracted.read().decode() if extracted else None
