"""git: `git push appliance@host:APP main` over SSH, and `git clone` of an app's source."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from appliance import hostenv, validate
from appliance.hookspecs import hookimpl
from appliance.output import Output
from appliance.state import App

from . import repo

GIT_COMMANDS = {"git-receive-pack": "receive-pack", "git-upload-pack": "upload-pack"}


def app_from_path(path: str) -> str:
    """`'hello'`, `/hello`, `~/hello.git/` all name the app `hello`."""
    name = path.strip().removeprefix("~/").strip("/").removesuffix(".git")
    return validate.app_name(name)


@hookimpl
def appliance_ssh_command(argv: list[str], user: str, out: Output) -> int | None:
    if not argv or argv[0] not in GIT_COMMANDS:
        return None
    if len(argv) != 2:
        from appliance.errors import UserError

        raise UserError(f"usage: {argv[0]} APP")
    app = App(app_from_path(argv[1]))
    if not app.exists():
        if argv[0] != "git-receive-pack":
            from appliance.errors import NotFound

            raise NotFound(f"app {app.name!r} does not exist")
        from appliance import lifecycle
        from appliance.hooks import Hooks
        from appliance.plugins import Registry

        # stdout carries git's protocol here: messages go to stderr.
        err = Output(stream=sys.stderr)
        lifecycle.create_app(app.name, Hooks(Registry(), err), err, user)
        err.section(f"Created app {app.name}")
    path = repo.ensure(app)
    git = hostenv.which("git")
    os.execve(git, [git, GIT_COMMANDS[argv[0]], str(path)], hostenv.host_env(git=True))
    return 0


@hookimpl
def appliance_app_created(app: App, out: Output) -> None:
    repo.ensure(app)


@hookimpl(trylast=True)
def appliance_source_checkout(app: App, rev: str, dest: Path) -> bool | None:
    """The tree of `rev` from the app's bare repository, for ps:rebuild."""
    if not (repo.repo_path(app) / "HEAD").is_file():
        return None
    repo.extract(repo.repo_path(app), rev, dest)
    return True


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    return {
        "Git repository": str(repo.repo_path(app)),
        "Git deploy branch": " or ".join(repo.deploy_branches(app)),
    }
