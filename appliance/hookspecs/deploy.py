"""The deploy pipeline's hooks, in the order a deploy fires them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.markers import hookspec

if TYPE_CHECKING:
    from appliance.deploy import Deploy
    from appliance.runtime import Target


@hookspec(isolated=True)
def appliance_deploy_started(deploy: Deploy) -> None:
    """Event (isolated): a deploy begins, under the app's lock: `deploy.id`,
    `deploy.release`, `deploy.new_release`, `deploy.summary` and `deploy.user` are set;
    nothing is built or started yet (`deploy.image` is None unless an image is deployed
    as is). It fires before `appliance_container_env`.

    Announce the deploy, or keep a copy of its output: everything the deploy prints from
    here on goes through `deploy.out`, and a callable put in
    `deploy.out.sinks[<your plugin>]` receives every line (warnings included, even after
    the pusher has gone). A sink must never raise. A failure here is a warning.

    Built-in: `releases` keeps each deploy's output in `apps/APP/deploy-logs/`
    (`releases:logs`).
    """


@hookspec
def appliance_container_env(deploy: Deploy) -> dict[str, str]:
    """Collect: the config vars of a deploy that has none given (a push, a config change).

    Fires first in such a deploy, before the build, so builders can read `deploy.config`:
    a push, `git:from-image`, `config:set` and `config:unset`, `ps:restart` and
    `ps:rebuild` ask; `releases:rollback`, `ps:scale` and `ps:start` do not, they pass
    the config of the release they deploy. A restart that finds the config changed since
    the current release makes a new release.

    Return `{NAME: value}` (or `{}`). The dicts are merged into `deploy.config`, the
    plugin that runs first winning a clash; the result is saved in the release and copied
    to `deploy.env`, which reaches every container. The scheduler sets `PORT` itself.

    Built-in: `config` returns the app's config vars (`config:set`).
    """
    return {}


@hookspec
def appliance_pre_deploy(deploy: Deploy) -> None:
    """Event (pipeline): the image is built and about to be started. Raising aborts.

    Fires when `deploy.image` is known and `deploy.config`/`deploy.env` are final,
    before any container starts. Last chance to refuse the deploy, or to run a
    release-phase task; you may replace `deploy.image` (with an image derived from it).
    Nothing was started, so `appliance_scheduler_abort` does not fire on a failure here.

    Built-in: `scripts` runs app.json's `scripts.dokku.predeploy` when the deploy has a
    source (its changes committed into a new `deploy.image`) and, for a new release, the
    Procfile's `release` process, both through `appliance_run_oneoff`; `cron` refuses
    invalid app.json `cron` entries (image and archive deploys, rollbacks).
    """


@hookspec(firstresult=True)
def appliance_formation(deploy: Deploy) -> dict[str, int] | None:
    """Decision: how many containers of each process type `deploy` runs:
    `{"web": 2, "worker": 1}`, only types the release can run and counts above 0.

    A scheduler asks this when it starts (or restores) a release's containers.
    Built-in: ps (`ps:scale`, else app.json's `formation`, else one `web`).
    """


@hookspec(firstresult=True)
def appliance_scheduler_start(deploy: Deploy) -> list[Target] | None:
    """Decision (pipeline): start the release's containers beside the running ones.

    Return the targets that should receive web traffic once they are healthy
    (an empty list for an app without a web process), or None if this scheduler
    does not handle the app. Raise if the containers do not come up.

    Run `deploy.image` with `deploy.env` and the commands of `deploy.procfile`; name
    things after `deploy.id`; set `deploy.containers` to what was started, for the
    checks. When every scheduler returns None the deploy fails ("no scheduler handles
    APP"); after a failure `appliance_scheduler_abort` removes what was started.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec
def appliance_proxy_prepare(deploy: Deploy) -> None:
    """Event (pipeline): `deploy.targets` are known; prepare the switch (render
    configs, load what the switch needs) so `appliance_proxy_update`, which runs
    after the checks pass, has as little left to do as possible.

    Fires right after `appliance_scheduler_start`, before the checks; traffic has not
    moved. Keep what you prepared in `deploy.extra[<your plugin>]`. Raising fails the
    deploy and removes the new containers. `scheduler-docker` also fires it, then
    `appliance_proxy_update`, outside any deploy when it restores the live release's
    containers on new ports.

    Act only for an app you route (`appliance_app_proxy` names your proxy).

    Built-in: `proxy-nginx` (trylast) renders the app's vhost.
    """


@hookspec
def appliance_deploy_checks(deploy: Deploy) -> None:
    """Event (pipeline): the new containers (`deploy.containers`) run; check them.

    Raise `UserError` saying what was expected and what came back to refuse the
    deploy: the new containers are removed and the old release keeps serving.

    Fires after `appliance_proxy_prepare`, before traffic moves; `deploy.targets` are
    known too.

    Built-in: `checks` runs app.json's `healthchecks` for each process type (or, without
    any, waits for `uptime` seconds and a TCP connection to web), through
    `appliance_container_exec`, `appliance_container_state` and
    `appliance_container_logs`.
    """


@hookspec(firstresult=True)
def appliance_proxy_update(deploy: Deploy) -> bool | None:
    """Decision (pipeline): route the app's traffic to `deploy.targets`.

    Must validate the new configuration before it takes effect and leave the
    old one in place when it is invalid. Return True once traffic is switched.

    Fires once the checks pass; an empty `deploy.targets` means the app has no web
    process. Raise to fail the deploy (the new containers are then removed). Return None
    for an app you do not route (`appliance_app_proxy` names another proxy, or none). A
    proxy is required: when no implementation returns True the deploy fails with "no
    proxy handles APP" (the app's proxy plugin is missing or disabled). Also fired
    outside any deploy, after `appliance_proxy_prepare`, when `scheduler-docker`
    restores the live release's containers on new ports.

    Built-in: `proxy-nginx` (trylast) writes the vhost rendered by
    `appliance_proxy_prepare`, runs `nginx -t` and reloads gracefully; `proxy` (trylast)
    returns True for an app whose proxy is disabled (`proxy:disable`), which is deployed
    unrouted.
    """


@hookspec(firstresult=True)
def appliance_scheduler_abort(deploy: Deploy) -> bool | None:
    """Decision: a deploy failed after `appliance_scheduler_start`; remove what it started.

    Return True once handled. The previous release must keep running.

    Fires when `appliance_scheduler_start`, `appliance_proxy_prepare`,
    `appliance_deploy_checks` or `appliance_proxy_update` failed or the deploy was
    interrupted meanwhile; and, to clean up after a deploy that was killed outright, at
    the start of the app's next deploy or when `apps:report` or `ps:report` finds the app
    idle: then `deploy.id` is the dead deploy's and `deploy.release` is 0. Remove what
    `deploy.id` started; be idempotent, part of it may never have started. A failure here
    replaces the deploy's original error.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_scheduler_retire(deploy: Deploy) -> bool | None:
    """Decision: traffic now flows to `deploy`; drain and stop older releases.

    Return True once handled (the draining itself may continue in the background).

    Fires once the new release is recorded as the current one
    (`app.settings.get("core", "release") == deploy.release`); the deploy that was live
    before is `deploy.previous_deploy`. The release is live: a failure is a warning ("the
    old containers could not be retired: ..."), not a failed deploy.

    Built-in: `scheduler-docker` (trylast) stops the old containers from a detached
    process after the drain time.
    """


@hookspec(isolated=True)
def appliance_post_deploy(deploy: Deploy) -> None:
    """Event (isolated): the release is live. Notifications, cleanup, cron.

    Fires after `appliance_scheduler_retire`. Output through `deploy.out` reaches the
    pusher. A failure is a warning naming your plugin; the deploy still succeeds.

    Built-in: `scripts` runs app.json's `scripts.dokku.postdeploy` (and Heroku's
    `scripts.postdeploy` after the first deploy); `config` saves the config a rollback
    brought back; `releases` names the deploy's kept output after its release; `network`
    attaches the new containers to the `attach-post-deploy` network; `proxy` fires
    `appliance_proxy_removed` when another proxy routed the app's previous deploy.
    """


@hookspec(isolated=True)
def appliance_deploy_failed(deploy: Deploy, error: str) -> None:
    """Event (isolated): a deploy failed with `error`; the old release still serves.

    Fires when any step of the deploy raised (an interrupted push included), after
    `appliance_scheduler_abort` where that applies, before the error reaches the user.
    `deploy.image` may be None if the build failed; `error` is the one-line error the
    user sees. Notify, clean up build leftovers. A failure here is a warning.

    Only a failure after the switch (recording the release) leaves the new release
    serving instead.

    Built-in: `releases` writes the error at the end of the deploy's kept output.
    """
