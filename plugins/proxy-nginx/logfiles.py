"""nginx:access-logs, nginx:error-logs and proxy:logs: the per-app files the vhost
template names (`log_dir/APP-access.log`, `log_dir/APP-error.log`), the last lines,
optionally followed across logrotate's renames."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from appliance.api import App, NotFound, Output, UserError

from . import nginx

CHUNK = 65536


def path(app: App, kind: str) -> Path:
    return Path(nginx.setting("log_dir", "/var/log/nginx")) / f"{app.name}-{kind}.log"


def show(app: App, kind: str, count: int, tail: bool, out: Output) -> None:
    """Print the last `count` lines (all with 0) of the app's `kind` log (`access`,
    `error`), then with `tail` what is appended, until the reader has gone."""
    file = path(app, kind)
    lines, end = last_lines(file, max(count, 0))
    for line in lines:
        out.raw(line)
    if tail:
        follow(file, end, out.raw, out.reader_gone)


def last_lines(file: Path, count: int) -> tuple[list[str], int]:
    """The last `count` lines (all with 0) and the offset where the file ended."""
    try:
        with open(file, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            data = b""
            position = end
            while position > 0 and (count == 0 or data.count(b"\n") <= count):
                step = min(CHUNK, position)
                position -= step
                f.seek(position)
                data = f.read(step) + data
    except FileNotFoundError:
        raise NotFound(f"no nginx log {file} yet: it appears with the first request") from None
    except PermissionError:
        raise UserError(
            f"cannot read {file}: the appliance user needs to be in its group (adm)"
        ) from None
    lines = data.decode(errors="replace").splitlines()
    return (lines[-count:] if count else lines), end


def follow(
    file: Path,
    offset: int,
    emit: Callable[[str], None],
    reader_gone: Callable[[], bool],
    interval: float = 0.5,
) -> None:
    """Print what is appended from `offset` on, until the reader has gone; when
    logrotate moves the file away, go on with the new one from its start."""
    inode = file.stat().st_ino
    pending = b""
    while not reader_gone():
        try:
            stat = file.stat()
        except FileNotFoundError:
            time.sleep(interval)
            continue
        if stat.st_ino != inode or stat.st_size < offset:
            inode, offset = stat.st_ino, 0
        if stat.st_size > offset:
            with open(file, "rb") as f:
                f.seek(offset)
                data = f.read()
            offset += len(data)
            *complete, pending = (pending + data).split(b"\n")
            for line in complete:
                emit(line.decode(errors="replace"))
        time.sleep(interval)

