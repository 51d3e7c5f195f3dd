"""Hooks about a release's containers and images, outside the pipeline's steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.markers import hookspec

if TYPE_CHECKING:
    from pathlib import Path

    from appliance.deploy import Deploy
    from appliance.host import Appliance
    from appliance.runtime import Container
    from appliance.state import App


@hookspec(firstresult=True)
def appliance_run_oneoff(deploy: Deploy, command: str, commit: bool) -> dict[str, Any] | None:
    """Decision: run `command` in a one-off container of `deploy.image` with its config.

    Output streams through `deploy.out`. Returns `{"exit_code": int, "image": str | None}`;
    with `commit` the container's filesystem becomes a new image, returned as `image`.
    Return None if this scheduler does not handle the app.

    `command` is a shell command. The `scripts` plugin fires it (`deploy.appliance.hook`)
    for app.json's predeploy and postdeploy scripts and the Procfile's `release` process;
    `cron` fires it for each cron entry.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_app_containers(app: App, appliance: Appliance) -> list[Container] | None:
    """Decision: the app's running containers of its current deploy.

    Fires when a command needs them, as `checks:run` does. Return the `Container`s (an
    empty list when the app has none), or None if this scheduler does not handle the app.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_container_exec(
    app: App, container: Container, command: list[str], appliance: Appliance
) -> Any:
    """Decision: run `command` inside `container`; return `[exit_code, output]`.

    `container` is one of `appliance_app_containers`' containers; `command` is an argv
    (not a shell string). Return None if not handled. The `checks` plugin fires it for
    healthchecks with a `command`.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_container_logs(
    app: App, container: Container, lines: int, appliance: Appliance
) -> str | None:
    """Decision: the last `lines` lines of `container`'s output.

    Return the text, or None if not handled. The `checks` plugin puts it in the message
    of a failed check.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_container_state(
    app: App, container: Container, appliance: Appliance
) -> dict[str, Any] | None:
    """Decision: `{"running": bool, "restarts": int, "exit_code": int | None,
    "uptime": seconds}` for `container`.

    Return None if not handled. The `checks` plugin uses it for uptime checks, for
    `initialDelay`, and to stop retrying a container that died.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_image_exists(image: str, app: App, appliance: Appliance) -> bool | None:
    """Decision: is `image` present where `app`'s scheduler runs it? Used to reuse the
    image of a source tree that was built before.

    Fires when a push carries a source tree that an earlier deploy of the app built with
    the same config and builder settings. Return True if the image is there (the build is
    skipped), False otherwise, None if `app` is not this scheduler's.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_image_prepare(image: str, app: App, appliance: Appliance) -> dict[str, Any] | None:
    """Decision: make `image` available to `app`'s scheduler (pull it if it is missing)
    for `git:from-image` and return `{"procfile": TEXT | None, "app_json": TEXT | None}`
    read from its working directory.

    Fires for `git:from-image APP IMAGE`, before the deploy, with the image reference
    the user gave. Return None if `app` is not this scheduler's; raise `UserError` if
    the image cannot be had.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_source_checkout(
    app: App, rev: str, dest: Path, appliance: Appliance
) -> bool | None:
    """Decision: write the source tree of revision `rev` of `app` (as recorded in a
    release) into the empty directory `dest`, for `ps:rebuild`. Return True once done,
    None if this plugin does not keep the app's source.

    `ps:rebuild APP` builds the current release's revision (`release.rev`) again, without
    reusing the image of an unchanged tree, and deploys it as a new release. Raise
    `UserError` when the revision cannot be read.

    Built-in: `git` (trylast) extracts `rev` from the app's bare repository.
    """


@hookspec
def appliance_container_options(
    app: App, process: str, phase: str, appliance: Appliance
) -> dict[str, Any]:
    """Collect: Docker options for a container of `app` about to be created.

    `process` is the process type (`run` for one-off containers); `phase` is
    `deploy` (a deploy starts its containers), `restore` (a container of the live
    release is created again, its deploy long over, for instance by the daemon) or
    `run` (a one-off: `run`, `run:detached`, the release and predeploy phases).

    Return keyword arguments of the Docker SDK's `containers.create` (`volumes` as a
    list of `HOST:CONTAINER[:ro]`, `mem_limit`, `memswap_limit`, `nano_cpus`, `network`,
    `extra_hosts`, `cap_add`...), or `{}`. The scheduler merges every plugin's options in
    one place (`plugins/scheduler-docker/options.py`): lists add up, dicts merge, and a
    scalar that two plugins set differently fails with both plugins named. It owns
    `image`, `name`, `hostname`, `labels`, `environment`, `command`, `entrypoint`,
    `ports`, `restart_policy`, `auto_remove`, `detach`, `remove`, `stdout` and `stderr`:
    a plugin returning one of them is refused. A container joining a user-defined
    `network` answers there to `APP.PROCESS` and `APP.PROCESS.N`.

    Built-in: `storage` (mounts), `resource` (memory and CPU limits), `network` (the
    initial network), `docker-options` (the rest, from an allow-list).
    """
    return {}


@hookspec
def appliance_container_created(
    app: App, container: Container, phase: str, appliance: Appliance
) -> None:
    """Event (pipeline): the scheduler created `container` and is about to start it.

    `phase` is as for `appliance_container_options`. For engine-level setup that
    create options cannot express (joining a second network). Raising removes the
    container and fails what was starting it (the deploy, the one-off run).

    Built-in: `network` attaches the `attach-post-create` network, and for a one-off or
    a restored container also the `attach-post-deploy` network.
    """
