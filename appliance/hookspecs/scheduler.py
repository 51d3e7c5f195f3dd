"""Hooks that choose an app's scheduler and reach its processes outside a deploy:
`logs`, `run`, `enter`, `ps:stop`, `ps:report`, `run:list`.

The commands parse the arguments and check the app; the scheduler that runs the
app (`appliance_app_scheduler`) does the work. Each of these hooks is a decision: a
scheduler returns None for an app that another scheduler runs, so a replacement
takes over whole. Output goes through `appliance.out`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.markers import hookspec

if TYPE_CHECKING:
    from appliance.host import Appliance
    from appliance.releases import Release
    from appliance.state import App


@hookspec(firstresult=True)
def appliance_app_scheduler(app: App, appliance: Appliance) -> str | None:
    """Decision: the name of the scheduler that runs `app`, such as `docker-local`.

    Every scheduler hook that acts on an app asks it first, and returns None unless
    the answer is one of its own names (`appliance_scheduler_names`); fire it as
    `appliance.hook.appliance_app_scheduler(app=app)`.

    Return a name to override the choice (an outside plugin that pins apps to a
    scheduler by some rule of its own), else None.

    Built-in: `scheduler` (trylast): the app's `scheduler:set`, else the host's
    `scheduler:set-global`, else `docker-local`.
    """


@hookspec
def appliance_scheduler_names(appliance: Appliance) -> list[str]:
    """Collect: the scheduler names this plugin answers to (`["docker-local"]`).

    `scheduler:set` and `scheduler:set-global` refuse a name no installed plugin
    gives, and `scheduler:report` lists them. A name is lowercase letters, digits and
    dashes.

    Built-in: `scheduler-docker` answers `docker-local`.
    """
    return []


@hookspec(firstresult=True)
def appliance_scheduler_stop(app: App, appliance: Appliance) -> bool | None:
    """Decision: stop every process of `app` until its next deploy (`ps:stop APP`).

    Fires under the app's command lock. Say what you stop (`appliance.out.section`),
    stop the processes (the proxy then answers 502), and remember the app is stopped
    so nothing you run in the background starts it again; a deploy that goes live
    (`ps:start` deploys the current release through `api.restart`) ends that. Return
    True once done, None if `app` is not yours.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_scheduler_report(
    apps: list[App], appliance: Appliance
) -> dict[str, list[dict[str, Any]]] | None:
    """Decision: the processes of `apps` for `ps:report [APP] [--format json]`.

    The `ps` plugin fires it once per scheduler, with the apps that scheduler runs
    (all of them yours, or none: then return None). Return `{app name: [row, ...]}`
    with a list (maybe empty) for each app, one row per process, one-offs left out:
    `name`, `process`, `release` (number), `deploy` (id), `current` (of the live
    deploy), `live` (the live deploy's id, 0 for none), `retiring_until` (epoch
    seconds or None), `status` (`running`, `exited`...), `health` (`healthy`,
    `unhealthy`, `starting` or `-`), `uptime` (seconds), `restarts`, `image`. The rows
    are shown as they are in JSON, and as a table otherwise.

    Built-in: `scheduler-docker` (trylast), in one engine query for every app.
    """


@hookspec(firstresult=True)
def appliance_scheduler_logs(
    app: App,
    lines: int,
    follow: bool,
    process: str | None,
    quiet: bool,
    appliance: Appliance,
) -> bool | None:
    """Decision: print the output of `app`'s processes (`logs APP`) to `appliance.out`.

    * `lines`: the last lines to show, interleaved by time across processes (0: all).
    * `follow`: keep printing new lines (`-t`) until the processes end or the reader
      goes away (`appliance.out.reader_gone()`).
    * `process`: only this process type (validated); `run` shows one-off processes.
    * `quiet`: the bare lines, without the `TIME TYPE.N |` prefix.

    Return True once done (warn when the app has nothing running), None if `app` is
    not yours.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_scheduler_run(
    app: App, release: Release, argv: list[str], mode: str, appliance: Appliance
) -> int | None:
    """Decision: run a one-off process of `release` (the current one) with its
    config, wait for it, and return its exit status (`run APP COMMAND...`).

    `argv` holds at least one word: one word is a shell line (`/bin/sh -c WORD`),
    several an argv. `mode` says how the caller is connected:

    * `tty`: a terminal on both ends (`ssh -t`): give the process a terminal, put the
      caller's in raw mode, pass window-size changes on;
    * `piped`: the caller's stdin is a pipe or a file: the process reads it, then
      EOF; its stdout and stderr reach the caller's apart;
    * `attached`: no input: the process's output streams to `appliance.out.stream`.

    Remove the process once it has ended, however the session ended. Return None if
    `app` is not yours.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_scheduler_run_detached(
    app: App, release: Release, argv: list[str], appliance: Appliance
) -> str | None:
    """Decision: start a one-off process of `release` in the background
    (`run:detached APP COMMAND...`) and return its name.

    `argv` as for `appliance_scheduler_run`. The process is removed when it ends; its
    output is what `logs APP --ps run` shows. Return None if `app` is not yours.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_scheduler_oneoffs(app: App, appliance: Appliance) -> list[dict[str, Any]] | None:
    """Decision: `app`'s one-off processes still running, for `run:list APP`.

    Return one `{"name": str, "command": str, "uptime": seconds}` per process (an
    empty list for none; `command` as the user typed it), or None if `app` is not
    yours.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_scheduler_enter(
    app: App, container: str | None, command: list[str], tty: bool, appliance: Appliance
) -> int | None:
    """Decision: run `command` (an argv) in a running process of `app`'s live deploy
    and return its exit status (`enter APP [TYPE.N] [-- COMMAND...]`).

    `container` is `TYPE.N` (`web.1`) as the user gave it, or None for the first web
    process, else the first one; raise `NotFound` naming the running ones when there
    is no such process. With `tty` the caller has a terminal: give the command one
    and pass the caller's bytes and window size on; without, stream its output to
    `appliance.out.stream`. Return None if `app` is not yours.

    Built-in: `scheduler-docker` (trylast).
    """
