"""Hooks of the daemon: background work plugins register."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.markers import hookspec

if TYPE_CHECKING:
    from appliance.background import Daemon
    from appliance.host import Appliance


@hookspec(isolated=True)
def appliance_daemon_start(daemon: Daemon, appliance: Appliance) -> None:
    """Event (isolated): `appliance daemon` is starting; register the plugin's
    background work on `daemon` and return at once.

    Fires once, on the plugins that declare it only: the daemon never loads the others,
    to stay small. `daemon` offers:

    * `daemon.every(seconds, fn, name, align=False)`: `fn()` every `seconds` (the first
      run at once; with `align=True` at each multiple of `seconds` of the clock, so
      `every(60, tick, "cron", align=True)` ticks at the start of each minute);
    * `daemon.thread(fn, name)`: a long-lived `fn()` in its own thread, such as an event
      stream follower; if it returns or raises it runs again after a back-off of 1 s
      doubling up to 60 s;
    * `daemon.watch(path, fn, recursive=False)`: `fn(paths)` with the paths changed under
      `path`, once they have been quiet for half a second; a path that does not exist yet
      is watched once it appears;
    * `daemon.kick(name, delay=0)` runs a periodic job now; `daemon.wait(seconds)` sleeps
      and returns True when the daemon is stopping; `daemon.log(message)`.

    Each callback runs isolated: an exception is logged with the plugin's name and the
    daemon goes on. Callbacks run in threads; they reach the appliance as
    `daemon.appliance` (or the `appliance` argument), and give a job its own output with
    `appliance.with_output(out)`. Import heavy modules inside the callbacks. Nothing
    may depend on the daemon running: deploys and commands must work while it is down.

    Built-in: `scheduler-docker` follows Docker events and restores the live release's
    containers; `proxy-nginx` re-renders vhosts when template overrides change; `cron`
    runs app.json `cron` entries.
    """
