"""Every hook a plugin can implement: the plugin contract.

Three kinds, each named in its docstring:

* **event**: something happened; every implementation runs. Where the hook is part
  of the deploy pipeline a failure aborts the deploy; otherwise ("isolated") a
  failure is reported with the plugin's name and the others still run.
* **decision**: `firstresult`; the first implementation that returns something
  other than None wins. Built-in defaults are `trylast` so an outside plugin wins.
* **collect**: every implementation returns a value; the caller gets the list.

Hooks are called with keyword arguments only. Arguments are a few stable objects
(`app`, `deploy`, `out`); new arguments may be added, none is ever renamed. Every
hook reaches the running appliance (`appliance.host.Appliance`: its hooks, plugins,
output and user): a hook about a deploy as `deploy.appliance`, every other hook as
its `appliance` argument, which an implementation takes only if it needs it.

Each docstring is the hook's whole documentation, in Markdown: it starts with the
kind (`Event (pipeline):`, `Event (isolated):`, `Decision:`, `Collect:`), says when
the hook fires, what to return, and which built-in plugins implement it.
`python scripts/plugin-docs.py` copies them into the hook reference of
docs/plugins.md; tests/unit/test_plugin_docs.py fails until it has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.markers import hookimpl, hookspec

if TYPE_CHECKING:
    from pathlib import Path

    from appliance.background import Daemon
    from appliance.deploy import Deploy
    from appliance.host import Appliance
    from appliance.output import Output
    from appliance.runtime import Container, Target
    from appliance.state import App

__all__ = ["hookimpl", "hookspec"]


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
    removes its vhost.
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
    `checks`, `config`, `docker-options`, `domains`, `git`, `network`, `proxy-nginx`,
    `releases`, `resource`, `scheduler-docker`, `storage`.
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

    Built-in: `proxy-nginx` (trylast) returns `http://DOMAIN/` (with the port when it is
    not 80) for every domain from `appliance_app_domains`.
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


@hookspec
def appliance_pre_build(deploy: Deploy) -> None:
    """Event (pipeline): the source is at `deploy.source_dir`, about to be built.

    Raising aborts the deploy; what is running stays untouched.

    Fires only for a deploy with a source: `deploy.procfile` and `deploy.app_json` are
    read from it, nothing is built yet. Inspect or change the source (generate files,
    refuse forbidden content).

    Built-in: `cron` refuses invalid app.json `cron` entries before anything is built.
    """


@hookspec
def appliance_builder_detect(deploy: Deploy) -> dict[str, Any] | None:
    """Collect: can this builder build `deploy.source_dir`?

    Return `{"builder": NAME, "priority": N, "reason": "found Dockerfile"}` if so,
    None otherwise. The builder plugin picks the app's pinned builder (`builder:set`)
    if it has one, else the detected builder with the lowest priority (built-in:
    dockerfile 10, buildpack 20, auto 90), and sets `deploy.builder` to its name.

    Fires after `appliance_pre_build`, unless an earlier deploy built the same inputs and
    `appliance_image_exists` says its image is still there. The core prints
    `-----> Using the NAME builder (REASON)` and remembers the choice for
    `builder:report`; when nothing detects, the deploy fails with "no builder can build
    APP".

    A build is reused for a later push when the source tree, the config and every
    settings table whose name starts with `builder` (the app's and the host's) are the
    same; keep per-build records elsewhere (builder-auto keeps its own under
    `apps/APP/builder-auto/`), or every build would miss the reuse.

    Built-in: `builder-dockerfile` (a Dockerfile at the configured path),
    `builder-buildpack` (`BUILDPACK_URL`, buildpacks set with `buildpacks:add`, a
    `.buildpacks` file or app.json's `buildpacks`), `builder-auto` (a detected language);
    all trylast.
    """


@hookspec(firstresult=True)
def appliance_build_source(deploy: Deploy) -> str | None:
    """Decision (pipeline): turn the source at `deploy.source_dir` into an image and
    return its reference (set `deploy.builder` and `deploy.procfile` as found).

    Built-in: builder, which reuses the image of an earlier build with the same
    inputs, else picks the app's pinned builder or the detected one
    (`appliance_builder_detect`) and fires `appliance_build` within a build slot.
    Raise `UserError` when nothing can build the source.
    """


@hookspec(firstresult=True)
def appliance_build(deploy: Deploy) -> str | None:
    """Decision (pipeline): build `deploy.source_dir` into an image.

    Build only when `deploy.builder` is this builder's name, else return None.
    Return the image reference (tag it `deploy.image_tag`). Stream build output
    through `deploy.out`. Raise `UserError` when the build fails.

    The build holds one of the host's build slots (`builder:set-global build-slots N`, 1
    by default; other deploys wait and say so). If nothing builds, the deploy fails with
    "builder NAME is not installed or did not build". When the build fails, put the
    builder's own last line in the `UserError`.

    Honour the host's build limits (`appliance.builds`): `timeout()` and `memory()`,
    `CPU_SHARES` and `blkio_weight()` for build containers, `sdk_build(...)` for a
    Dockerfile built by the classic builder with all of them, `limit_buildkit(out)`
    before a BuildKit build, and `appliance.dockerfile_runs.rewrite(text,
    prefix=PRIORITY)` so each shell-form `RUN` lowers its CPU and IO priority (`hide`
    takes the prefix out of the build output again).

    Built-in (trylast): `builder-dockerfile` builds with BuildKit where a docker CLI has
    it (the host's CA bundle reaches every `RUN` as a build secret), else with the SDK's
    classic builder; `builder-buildpack` runs Heroku buildpacks in a container of the
    stack image (local buildpacks only from directories listed with the local-only
    `buildpacks:set-global local-dirs`, git URLs only on public addresses or hosts listed
    with `private-hosts`); `builder-auto` builds a Dockerfile it generates for the
    detected language.
    """


@hookspec
def appliance_post_build(deploy: Deploy) -> None:
    """Event (pipeline): `deploy.image` was built.

    Fires right after the build, or after the image of an earlier identical build is
    reused. Scan, sign or push the image. Raising aborts the deploy.

    Built-in: `checks` turns a legacy Dokku `CHECKS` file in the source into app.json
    healthchecks (`deploy.app_json`).
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
    process. Raise to fail the deploy (the new containers are then removed). A proxy is
    required: when no implementation returns True the deploy fails with "no proxy
    handles APP". Also fired outside any deploy, after `appliance_proxy_prepare`, when
    `scheduler-docker` restores the live release's containers on new ports.

    Built-in: `proxy-nginx` (trylast) writes the vhost rendered by
    `appliance_proxy_prepare`, runs `nginx -t` and reloads gracefully.
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
    attaches the new containers to the `attach-post-deploy` network.
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
def appliance_image_exists(image: str, appliance: Appliance) -> bool | None:
    """Decision: is `image` present on this host? Used to reuse the image of a source
    tree that was built before.

    Fires when a push carries a source tree that an earlier deploy of the app built with
    the same config and builder settings. Return True if the image is there (the build is
    skipped), False or None otherwise.

    Built-in: `scheduler-docker` (trylast).
    """


@hookspec(firstresult=True)
def appliance_image_prepare(image: str, appliance: Appliance) -> dict[str, Any] | None:
    """Decision: make `image` available (pull it if it is missing) for `git:from-image`
    and return `{"procfile": TEXT | None, "app_json": TEXT | None}` read from its
    working directory.

    Fires for `git:from-image APP IMAGE`, before the deploy, with the image reference
    the user gave. Return None if not handled; raise `UserError` if the image cannot be
    had.

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


@hookspec
def appliance_build_options(deploy: Deploy) -> dict[str, Any]:
    """Collect: extra Docker options for building `deploy`, which every built-in
    builder applies: `{"extra_hosts": {HOST: IP}, "shm_size": "128m"}` (nothing else).

    Fires when a built-in builder is about to build (Dockerfile through BuildKit or the
    classic builder, generated Dockerfile, buildpacks). Return either key, or `{}`: the
    build's `--add-host` entries and the size of its `/dev/shm`. Nothing else is
    accepted, so a plugin cannot hand a build more of the host than these. Extra hosts of
    several plugins add up; a host or a size two plugins set differently fails the build
    with both plugins named. They are no input of the build key: changing them alone does
    not force a rebuild.

    Built-in: `docker-options` (`docker-options:add APP build --add-host H:IP`).
    """
    return {}


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
