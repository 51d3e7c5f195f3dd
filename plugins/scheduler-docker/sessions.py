"""Processes a user works with directly: `run` on a terminal or from a pipe, `enter`
into a running container, and the one-off containers still running (`run:list`).
The commands are the `scheduler` plugin's; these are their Docker side."""

from __future__ import annotations

import shlex
from typing import Any

from appliance.api import App, NotFound, Output

from . import containers as c
from . import terminal


def run_tty(hook: Any, app: str, image: str, env: dict[str, str], argv: list[str]) -> int:
    """`ssh -t HOST run APP CMD`: the one-off container gets a pty, attached to the
    caller's terminal; its exit status is returned."""
    from . import oneoff

    engine = c.client(timeout=86400)
    container = oneoff._one_off(engine, hook, app, image, env, argv, tty=True, stdin_open=True)
    try:
        api = engine.api
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        sock = api.attach_socket(container.id, params=params)
        oneoff.start_one_off(container, hook, app)
        with terminal.on_resize(lambda rows, cols: api.resize(container.id, rows, cols)):
            terminal.pump(terminal.raw_socket(sock))
        return int(container.wait().get("StatusCode", 1))
    finally:
        container.remove(force=True)


def run_piped(
    hook: Any, app: str, image: str, env: dict[str, str], argv: list[str], reader_gone: Any
) -> int:
    """`ssh HOST run APP CMD < file`: the caller's stdin reaches the one-off process
    (which reads EOF where it ends); stdout and stderr come back apart."""
    from . import oneoff

    engine = c.client(timeout=86400)
    # docker-py sets StdinOnce with stdin_open: the process reads EOF where ours ends.
    container = oneoff._one_off(engine, hook, app, image, env, argv, stdin_open=True)
    try:
        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        sock = engine.api.attach_socket(container.id, params=params)
        oneoff.start_one_off(container, hook, app)
        terminal.pump_piped(terminal.raw_socket(sock), reader_gone)
        return int(container.wait().get("StatusCode", 1))
    finally:
        container.remove(force=True)


def _pick(engine: Any, app: App, ref: str | None) -> Any:
    """The running container `ref` (`web.1`) of the app's current deploy; by default
    the first web container, else the first one."""
    current = app.settings.get("core", "deploy")
    found = [
        k
        for k in c.app_containers(engine, app.name)
        if c.deploy_of(k) == current and k.status == "running"
    ]
    found.sort(
        key=lambda k: (
            k.labels.get(c.LABEL_PROCESS) != "web",
            k.labels.get(c.LABEL_PROCESS, ""),
            int(k.labels.get(c.LABEL_INDEX, "0") or 0),
        )
    )
    if ref is None:
        if not found:
            raise NotFound(f"{app.name} has no running containers")
        return found[0]
    process, _, index = ref.partition(".")
    for k in found:
        if k.labels.get(c.LABEL_PROCESS) == process and k.labels.get(c.LABEL_INDEX) == index:
            return k
    running = ", ".join(
        f"{k.labels.get(c.LABEL_PROCESS)}.{k.labels.get(c.LABEL_INDEX)}" for k in found
    )
    raise NotFound(f"{app.name} has no running {ref} (running: {running or 'none'})")


def enter(app: App, ref: str | None, command: list[str], tty: bool, out: Output) -> int:
    """Exec `command` in the running container `ref` (`web.1`) of the current deploy;
    a pty when the caller has a terminal (`tty`); the exit status comes back."""
    engine = c.client(timeout=86400)
    container = _pick(engine, app, ref)
    api = engine.api
    if tty:
        exec_id = api.exec_create(container.id, command, stdin=True, tty=True)["Id"]
        sock = api.exec_start(exec_id, tty=True, socket=True)
        with terminal.on_resize(lambda rows, cols: api.exec_resize(exec_id, rows, cols)):
            terminal.pump(terminal.raw_socket(sock))
    else:
        exec_id = api.exec_create(container.id, command, stdin=False, tty=False)["Id"]
        for chunk in api.exec_start(exec_id, stream=True):
            out.stream.write(chunk.decode(errors="replace"))
            out.stream.flush()
    return _exit_code(api, exec_id)


def _exit_code(api: Any, exec_id: str) -> int:
    """The exec's exit status; the engine may record it a moment after the stream ends."""
    import time

    deadline = time.monotonic() + 5
    while True:
        found = api.exec_inspect(exec_id)
        if not found.get("Running") or time.monotonic() > deadline:
            code = found.get("ExitCode")
            return 1 if code is None else int(code)
        time.sleep(0.05)


def oneoffs(app: App) -> list[dict[str, Any]]:
    """The app's one-off containers still running: name, command, uptime."""
    running = [k for k in c.app_containers(c.client(), app.name, "run") if k.status == "running"]
    return [
        {"name": k.name, "command": _shown_command(k), "uptime": round(c.uptime(k))}
        for k in sorted(running, key=lambda k: k.name)
    ]


def _shown_command(container: Any) -> str:
    argv = list(container.attrs.get("Config", {}).get("Cmd") or [])
    if argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3:
        return str(argv[2])
    return shlex.join(argv)
