"""The health column of ps:report: Docker's own HEALTHCHECK status when the image
declares one, else, for a running web container, whether it accepts a TCP connection
on its port right now. Probes run concurrently with a short timeout, so a report of
many apps stays fast."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import containers as c

PROBE_TIMEOUT = 0.5


def statuses(found: list[Any]) -> dict[str, str]:
    """Container id -> "healthy", "unhealthy", "starting" (Docker's) or "-"."""
    result: dict[str, str] = {}
    probes: list[tuple[str, str]] = []
    for k in found:
        declared = (k.attrs.get("State", {}).get("Health") or {}).get("Status")
        ip = c.container_ip(k)
        if declared:
            result[k.id] = str(declared)
        elif k.labels.get(c.LABEL_PROCESS) == "web" and k.status == "running" and ip:
            probes.append((k.id, ip))
        else:
            result[k.id] = "-"
    if probes:
        with ThreadPoolExecutor(max_workers=min(32, len(probes))) as pool:
            answers = pool.map(lambda probe: accepts(probe[1], c.CONTAINER_PORT), probes)
            for (container_id, _), ok in zip(probes, answers, strict=True):
                result[container_id] = "healthy" if ok else "unhealthy"
    return result


def accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=PROBE_TIMEOUT):
            return True
    except OSError:
        return False
