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
    from pathlib import Path

    from appliance.daemon import Daemon
    from appliance.deploy import Container, Deploy, Target
    from appliance.manifest import Plugin
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


@hookspec
def appliance_builder_detect(deploy: Deploy) -> dict[str, Any] | None:
    """Collect: can this builder build `deploy.source_dir`?

    Return `{"builder": NAME, "priority": N, "reason": "found Dockerfile"}` if so,
    None otherwise. The core picks the app's pinned builder (`builder:set`) if it
    has one, else the detected builder with the lowest priority (built-in:
    dockerfile 10, buildpack 20, auto 90), and sets `deploy.builder` to its name.
    """


@hookspec(firstresult=True)
def appliance_build(deploy: Deploy) -> str | None:
    """Decision (pipeline): build `deploy.source_dir` into an image.

    Build only when `deploy.builder` is this builder's name, else return None.
    Return the image reference (tag it `deploy.image_tag`). Stream build output
    through `deploy.out`. Raise `UserError` when the build fails.
    """


@hookspec
def appliance_post_build(deploy: Deploy) -> None:
    """Event (pipeline): `deploy.image` was built."""


@hookspec
def appliance_container_env(deploy: Deploy) -> dict[str, str]:
    """Collect: the config vars of a deploy that has none given (a push, a config change).

    The merged result becomes `deploy.config`, is saved in the release, and reaches
    every container's environment. Built-in: config. A rollback passes the old
    release's config instead of asking.
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


@hookspec
def appliance_proxy_prepare(deploy: Deploy) -> None:
    """Event (pipeline): `deploy.targets` are known; prepare the switch (render
    configs, load what the switch needs) so `appliance_proxy_update`, which runs
    after the checks pass, has as little left to do as possible. Built-in: proxy-nginx.
    """


@hookspec
def appliance_deploy_checks(deploy: Deploy) -> None:
    """Event (pipeline): the new containers (`deploy.containers`) run; check them.

    Raise `UserError` saying what was expected and what came back to refuse the
    deploy: the new containers are removed and the old release keeps serving.
    Built-in: checks.
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
def appliance_deploy_started(deploy: Deploy) -> None:
    """Event (isolated): a deploy begins, under the app's lock: `deploy.id`,
    `deploy.release`, `deploy.summary` and `deploy.user` are set; nothing is built or
    started yet. Everything the deploy prints from here on goes through `deploy.out`
    (`deploy.out.sinks` can keep a copy). Built-in: releases keeps each deploy's output.
    """


@hookspec
def appliance_app_domains(app: App) -> list[str]:
    """Collect: the host names `app` answers to (validated domain names)."""
    return []


@hookspec(firstresult=True)
def appliance_run_oneoff(deploy: Deploy, command: str, commit: bool) -> dict[str, Any] | None:
    """Decision: run `command` in a one-off container of `deploy.image` with its config.

    Output streams through `deploy.out`. Returns `{"exit_code": int, "image": str | None}`;
    with `commit` the container's filesystem becomes a new image, returned as `image`.
    Built-in: scheduler-docker.
    """


@hookspec(firstresult=True)
def appliance_app_containers(app: App) -> list[Container] | None:
    """Decision: the app's running containers of its current deploy. Built-in: scheduler-docker."""


@hookspec(firstresult=True)
def appliance_container_exec(app: App, container: Container, command: list[str]) -> Any:
    """Decision: run `command` inside `container`; return `[exit_code, output]`."""


@hookspec(firstresult=True)
def appliance_container_logs(app: App, container: Container, lines: int) -> str | None:
    """Decision: the last `lines` lines of `container`'s output."""


@hookspec(firstresult=True)
def appliance_container_state(app: App, container: Container) -> dict[str, Any] | None:
    """Decision: `{"running": bool, "restarts": int, "exit_code": int | None,
    "uptime": seconds}` for `container`."""


@hookspec(firstresult=True)
def appliance_image_exists(image: str) -> bool | None:
    """Decision: is `image` present on this host? Used to reuse the image of a source
    tree that was built before. Built-in: scheduler-docker."""


@hookspec(firstresult=True)
def appliance_image_prepare(image: str) -> dict[str, Any] | None:
    """Decision: make `image` available (pull it if it is missing) for `git:from-image`
    and return `{"procfile": TEXT | None, "app_json": TEXT | None}` read from its
    working directory. Built-in: scheduler-docker."""


@hookspec(firstresult=True)
def appliance_source_checkout(app: App, rev: str, dest: Path) -> bool | None:
    """Decision: write the source tree of revision `rev` of `app` (as recorded in a
    release) into the empty directory `dest`, for `ps:rebuild`. Return True once done,
    None if this plugin does not keep the app's source. Built-in: git."""


@hookspec
def appliance_container_options(app: App, process: str, phase: str) -> dict[str, Any]:
    """Collect: Docker options for a container of `app` about to be created.

    `process` is the process type (`run` for one-off containers); `phase` is
    `deploy` (a deploy starts its containers), `restore` (a container of the live
    release is created again, its deploy long over) or `run` (a one-off: `run`,
    `run:detached`, the release and predeploy phases). Return keyword arguments
    of the Docker SDK's `containers.create` (`volumes`, `mem_limit`, `nano_cpus`,
    `network`, `extra_hosts`...); the scheduler merges every plugin's options
    (lists add up, dicts merge, a scalar two plugins set differently is an error)
    and refuses the options it owns (name, image, command, environment, labels,
    ports, restart policy). Built-in: storage, resource, network, docker-options.
    """
    return {}


@hookspec
def appliance_container_created(app: App, container: Container, phase: str) -> None:
    """Event (pipeline): the scheduler created `container` and is about to start it.

    `phase` is as for `appliance_container_options`. For engine-level setup that
    create options cannot express (joining a second network). Raising removes the
    container and fails what was starting it. Built-in: network.
    """


@hookspec
def appliance_build_options(deploy: Deploy) -> dict[str, Any]:
    """Collect: extra Docker options for building `deploy`, which every built-in
    builder applies: `{"extra_hosts": {HOST: IP}, "shm_size": "128m"}` (nothing else).

    Extra hosts of several plugins add up; a host or shm size two plugins set
    differently is an error. Built-in: docker-options (its `build` phase).
    """
    return {}


@hookspec
def appliance_daemon_start(daemon: Daemon) -> None:
    """Event (isolated): `appliance daemon` is starting; register the plugin's
    background work on `daemon` and return at once.

    `daemon.every(seconds, fn, name, align=False)` runs `fn()` periodically,
    `daemon.thread(fn, name)` runs a long-lived `fn()` (started again with back-off
    if it ends), `daemon.watch(path, fn, recursive=False)` calls `fn(paths)` when
    files under `path` change, `daemon.kick(name)` runs a periodic job now,
    `daemon.wait(seconds)` sleeps and says whether the daemon is stopping. A failing
    callback is logged with the plugin's name. Nothing may depend on the daemon
    running. Built-in: scheduler-docker, proxy-nginx, cron.
    """


@hookspec
def appliance_plugin_installed(plugin: Plugin, out: Output) -> None:
    """Event (isolated): `plugin` was just installed or upgraded by plugin:install, its
    Python dependencies in place (Dokku's `install` trigger).

    Every enabled plugin that implements the hook hears of it, the new plugin
    included: compare `plugin.name` with your own name to set yourself up (create a
    folder, a default setting). Runs as the appliance user; keep it idempotent.
    """


@hookspec
def appliance_plugin_uninstalled(plugin: Plugin, out: Output) -> None:
    """Event (isolated): `plugin` is about to be removed by plugin:uninstall (its
    files and dependencies go next), so it can still clean up after itself.

    Every enabled plugin that implements the hook hears of it, the leaving plugin
    included: compare `plugin.name` with your own name.
    """
