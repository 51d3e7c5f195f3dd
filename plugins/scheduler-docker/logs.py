"""`logs APP`: the app's containers' output, interleaved by time, each line prefixed
with its process (`web.3 | ...`), optionally followed."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from appliance.api import Output

from . import containers as c


def _split(line: str) -> tuple[str, str]:
    stamp, _, text = line.partition(" ")
    return stamp, text


def show(
    engine: Any,
    app: str,
    current_deploy: int | None,
    out: Output,
    lines: int,
    follow: bool,
    process: str | None,
    quiet: bool,
) -> None:
    found = [
        k
        for k in c.app_containers(engine, app, process)
        if process == "run" or current_deploy is None or c.deploy_of(k) == current_deploy
    ]
    if not found:
        out.warn(f"{app} has no running containers")
        return
    label = {k.id: k.name.removeprefix(f"{app}.") for k in found}
    width = max(len(v) for v in label.values())
    merged: list[tuple[str, str, str]] = []
    for k in found:
        raw = k.logs(tail=lines, timestamps=True).decode(errors="replace")
        for line in raw.splitlines():
            stamp, text = _split(line)
            merged.append((stamp, label[k.id], text))
    merged.sort(key=lambda item: item[0])
    for stamp, name, text in merged[-lines:] if lines else merged:
        out.raw(text if quiet else f"{_short(stamp)} {name.ljust(width)} | {text}")
    if not follow:
        return
    lock = threading.Lock()

    def pump(container: Any) -> None:
        since = datetime.now()
        for chunk in container.logs(stream=True, follow=True, timestamps=True, since=since):
            for line in chunk.decode(errors="replace").splitlines():
                stamp, text = _split(line)
                with lock:
                    out.raw(
                        text
                        if quiet
                        else f"{_short(stamp)} {label[container.id].ljust(width)} | {text}"
                    )

    threads = [threading.Thread(target=pump, args=(k,), daemon=True) for k in found]
    for thread in threads:
        thread.start()
    # The pumps block until a container prints: stop here when the reader hangs up.
    while any(thread.is_alive() for thread in threads) and not out.reader_gone():
        for thread in threads:
            thread.join(0.5 / len(threads))


def _short(stamp: str) -> str:
    """`2026-11-23T20:01:02.123456789Z` -> `2026-11-23T20:01:02Z`"""
    return stamp[:19] + "Z" if len(stamp) >= 19 else stamp
