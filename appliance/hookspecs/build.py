"""Hooks that turn a pushed source tree into an image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.markers import hookspec

if TYPE_CHECKING:
    from appliance.deploy import Deploy


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

    Honour the host's build limits with the builder plugin's public module `builds`
    (declare `requires = ["builder"]`, then `from appliance_plugins.builder import
    builds, dockerfile_runs`): `timeout()` and `memory()`,
    `CPU_SHARES` and `blkio_weight()` for build containers, `sdk_build(...)` for a
    Dockerfile built by the classic builder with all of them, `limit_buildkit(out)`
    before a BuildKit build, and `dockerfile_runs.rewrite(text,
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
