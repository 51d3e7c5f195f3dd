"""git over SSH: `git-receive-pack 'APP'` and `git-upload-pack 'APP'`.

They are ordinary commands, so the core has already checked that the key may use
(or, for a push, create) the app before anything here runs. git runs as a child, not
in place of this process, so the push's outcome reaches the audit log.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from appliance.api import App, Context, NotFound, Output, UserError, access, hostenv

from . import repo


def receive_pack(ctx: Context) -> int:
    return _serve(ctx, "receive-pack")


def upload_pack(ctx: Context) -> int:
    return _serve(ctx, "upload-pack")


def _serve(ctx: Context, verb: str) -> int:
    if len(ctx.args) != 1:
        raise UserError(f"usage: git-{verb} APP")
    app = App(access.app_from_repo_path(ctx.args[0]))
    if not app.exists():
        if verb != "receive-pack":
            raise NotFound(f"app {app.name!r} does not exist")
        from appliance import api

        # stdout carries git's protocol here: messages go to stderr.
        err = Output(stream=sys.stderr)
        api.create_app(ctx.appliance.with_output(err), app.name)
        err.section(f"Created app {app.name}")
    path = repo.ensure(app)
    git_exe = hostenv.which("git")
    git = subprocess.Popen([git_exe, verb, str(path)], env=hostenv.host_env(git=True))
    # The pusher's hang-up reaches git (and the pre-receive hook watches the
    # connection itself); this process only waits to record the outcome.
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    return git.wait()
