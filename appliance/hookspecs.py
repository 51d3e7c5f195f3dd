"""Every hook a plugin can implement: the plugin contract.

Three kinds, each named in its docstring:

* **event**: something happened; every implementation runs. Where the hook is part
  of the deploy pipeline a failure aborts the deploy; otherwise ("isolated") a
  failure is reported with the plugin's name and the others still run.
* **decision**: `firstresult`; the first implementation that returns something
  other than None wins. Built-in defaults are `trylast` so an outside plugin wins.
* **collect**: every implementation returns a value; the caller gets the list.

Hooks are called with keyword arguments only. Arguments are a few stable objects
(`app`, `deploy`, `out`); new arguments may be added, none is ever renamed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.markers import hookimpl, hookspec

if TYPE_CHECKING:
    from appliance.deploy import Deploy, Target
    from appliance.output import Output
    from appliance.state import App

__all__ = ["hookimpl", "hookspec"]


@hookspec
def appliance_app_created(app: App, out: Output) -> None:
    """Event (isolated): `app` was just created (by apps:create or a first push).

    Set up what the plugin keeps per app (a git repository, default settings).
    """


@hookspec
def appliance_app_destroy(app: App, out: Output) -> None:
    """Event (isolated): `app` is being destroyed; its state directory is removed next.

    Remove what the plugin made for the app outside its state directory
    (containers, images, nginx files).
    """


@hookspec
def appliance_app_report(app: App) -> dict[str, Any]:
    """Collect: facts about `app` for apps:report, as a flat `{label: value}` dict."""
    return {}


@hookspec
def appliance_app_urls(app: App) -> list[str]:
    """Collect: the URLs where `app` answers, best first."""
    return []


@hookspec(firstresult=True)
def appliance_ssh_command(argv: list[str], user: str, out: Output) -> int | None:
    """Decision: handle an SSH command that is not an appliance command.

    `argv` is `SSH_ORIGINAL_COMMAND` split with shlex (for instance
    `["git-receive-pack", "hello"]`); `user` is the SSH key's name. Return the
    exit code if the plugin handled the command, None otherwise. A command no
    plugin handles is refused.
    """


@hookspec
def appliance_pre_build(deploy: Deploy) -> None:
    """Event (pipeline): the source is at `deploy.source_dir`, about to be built.

    Raising aborts the deploy; what is running stays untouched.
    """


@hookspec(firstresult=True)
def appliance_build(deploy: Deploy) -> str | None:
    """Decision (pipeline): build `deploy.source_dir` into an image.

    Return the image reference (tag it `deploy.image_tag`) if this builder
    applies to the source, None to let the next builder try. Stream build output
    through `deploy.out`. Raise `UserError` when the build fails.
    """


@hookspec
def appliance_post_build(deploy: Deploy) -> None:
    """Event (pipeline): `deploy.image` was built."""


@hookspec
def appliance_container_env(deploy: Deploy) -> dict[str, str]:
    """Collect: environment variables for the app's containers (config vars).

    Later plugins win on clashes; `PORT` is set by the scheduler.
    """
    return {}


@hookspec
def appliance_pre_deploy(deploy: Deploy) -> None:
    """Event (pipeline): the image is built and about to be started. Raising aborts."""


@hookspec(firstresult=True)
def appliance_scheduler_start(deploy: Deploy) -> list[Target] | None:
    """Decision (pipeline): start the release's containers beside the running ones.

    Return the targets that should receive web traffic once they are healthy
    (an empty list for an app without a web process), or None if this scheduler
    does not handle the app. Raise if the containers do not come up.
    """


@hookspec(firstresult=True)
def appliance_scheduler_abort(deploy: Deploy) -> bool | None:
    """Decision: a deploy failed after `appliance_scheduler_start`; remove what it started.

    Return True once handled. The previous release must keep running.
    """


@hookspec(firstresult=True)
def appliance_proxy_update(deploy: Deploy) -> bool | None:
    """Decision (pipeline): route the app's traffic to `deploy.targets`.

    Must validate the new configuration before it takes effect and leave the
    old one in place when it is invalid. Return True once traffic is switched.
    """


@hookspec(firstresult=True)
def appliance_scheduler_retire(deploy: Deploy) -> bool | None:
    """Decision: traffic now flows to `deploy`; drain and stop older releases.

    Return True once handled (the draining itself may continue in the background).
    """


@hookspec
def appliance_post_deploy(deploy: Deploy) -> None:
    """Event (isolated): the release is live. Notifications, cleanup, cron."""


@hookspec
def appliance_deploy_failed(deploy: Deploy, error: str) -> None:
    """Event (isolated): a deploy failed with `error`; the old release still serves."""


@hookspec
def appliance_app_domains(app: App) -> list[str]:
    """Collect: the host names `app` answers to (validated domain names)."""
    return []
