"""Hooks about apps as a whole: created, destroyed, reported, reached."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.markers import hookspec

if TYPE_CHECKING:
    from appliance.host import Appliance
    from appliance.output import Output
    from appliance.state import App


@hookspec(isolated=True)
def appliance_app_created(app: App, out: Output, appliance: Appliance) -> None:
    """Event (isolated): `app` was just created (by apps:create or a first push).

    Fires once `app.toml` exists and the app's lock is free again.

    * `app`: the new app.
    * `out`: where to print (`out.section`, `out.info`).

    Set up what the plugin keeps per app (a git repository, default settings).
    A failure is a warning; the app stays created.

    Built-in: `git` creates the app's bare repository and its pre-receive hook.
    """


@hookspec(isolated=True)
def appliance_app_destroy(app: App, out: Output, appliance: Appliance) -> None:
    """Event (isolated): `app` is being destroyed; its state directory is removed next.

    Fires during `apps:destroy`, under the app's lock: `app.settings` can still be read.

    * `app`: the app being destroyed.
    * `out`: where to print.

    Remove what the plugin made for the app outside its state directory
    (containers, images, nginx files, external resources). A failure is a warning and
    the app is destroyed anyway, so make cleanup idempotent.

    Built-in: `scheduler-docker` removes the app's containers and images; `proxy-nginx`
    removes its vhost (if it has one).
    """


@hookspec
def appliance_app_report(app: App, appliance: Appliance) -> dict[str, Any]:
    """Collect: facts about `app` for apps:report, as a flat `{label: value}` dict.

    Fires for each app shown by `apps:report [APP] [--format json]`.

    * `app`: the app.

    Return facts such as `{"Greeting": "hello"}`. The dicts are merged, the plugin that
    runs first winning a clash (the built-in `apps` facts, trylast, come first in the
    report and lose every clash); in JSON the labels become lowercase keys with
    underscores (`Deployed image` -> `deployed_image`). A failure fails the command:
    keep reports cheap and robust.

    Built-in: `apps` (trylast: name, creation, deployed release, image, revision),
    `checks`, `config`, `docker-options`, `domains`, `git`, `network`, `proxy`,
    `proxy-nginx`, `releases`, `resource`, `scheduler-docker`, `storage`.
    """
    return {}


@hookspec
def appliance_app_urls(app: App, appliance: Appliance) -> list[str]:
    """Collect: the URLs where `app` answers, best first.

    Fires at the end of every successful deploy, after `appliance_post_deploy`.

    * `app`: the app.

    Return a list of URLs (empty when the app answers nowhere). The lists are
    concatenated in call order; the deploy prints the first URL as
    `-----> Application deployed: URL` (the app's name when there is none). The release
    is live by then: a failure is a warning, not a failed deploy.

    A proxy plugin returns URLs only for the apps it routes (`appliance_app_proxy`).

    Built-in: `proxy-nginx` (trylast) returns `http://DOMAIN/` (with the port when it is
    not 80) for every domain from `appliance_app_domains`.
    """
    return []


@hookspec
def appliance_app_domains(app: App, appliance: Appliance) -> list[str]:
    """Collect: the host names `app` answers to (validated domain names).

    Fires when the proxy renders the app's config, when URLs or reports are shown, and
    when checks pick the `Host` header of HTTP checks (the first domain). Validate each
    name (`appliance.validate.domain`). The lists are concatenated in call order, so your
    domains come before the default.

    Built-in: `domains` (trylast) returns `APP.<global domain>`.
    """
    return []


@hookspec(firstresult=True)
def appliance_ssh_command(
    argv: list[str], user: str, out: Output, appliance: Appliance
) -> int | None:
    """Decision: handle an SSH command that is not an appliance command.

    `argv` is `SSH_ORIGINAL_COMMAND` split with shlex (for instance
    `["git-receive-pack", "hello"]`); `user` is the SSH key's name. Return the
    exit code if the plugin handled the command, None otherwise. A command no
    plugin handles is refused.

    Every key in `authorized_keys` is forced through `appliance ssh --key NAME`, which
    splits the command with `shlex` (never a shell) and routes it; what is not an
    appliance command comes here. `out` prints to stdout, as the SSH client sees it: if
    your command speaks a protocol on stdout, print messages to stderr instead. The
    refusal says "command not allowed". Validate every argument: this is the door to the
    host.

    Only admin keys reach this hook: a plugin's own SSH verbs act on the host. (git's
    verbs, `git-receive-pack APP` and `git-upload-pack APP`, are ordinary app-scoped
    commands of the `git` plugin, so granted keys can push to their apps.)
    """
