"""The buildpack build's container, as a mechanism: made from the stack image with the
app's cache bind-mounted, fed the source, buildpacks, ENV_DIR and launcher in one
archive, commands run in it as root (streamed or captured) against the build
timeout, and cleaned up so the cache stays the appliance user's. What runs in it,
the buildpack API's steps, is `session.py`; the order of a build, `build.py`.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from appliance_plugins.builder import builds, dockerfile_runs

from appliance.api import Deploy, UserError, cabundle, validate

from . import sources
from .sources import Buildpack

WORK = "/tmp/appliance-build"
ENV_DIR = f"{WORK}/env"
CACHE = "/cache"
LAUNCHER = "/usr/local/bin/appliance-launch"

# argv: sh -c RUNNER runner N EXPORT_1 .. EXPORT_N COMMAND ARGS...: lowers its own CPU
# and IO priority (which the command inherits), sources the export files of the
# buildpacks that ran before, then runs the command. The script is fixed; everything
# else is an argument.
RUNNER = dockerfile_runs.PRIORITY + (
    'n=$1; shift; while [ "$n" -gt 0 ]; do if [ -f "$1" ]; then . "$1"; fi; '
    'shift; n=$((n - 1)); done; exec "$@"'
)
FINISH = f'rm -rf {WORK}; chown -R "$1" {CACHE}; if [ -n "$2" ]; then chown -R "$2" /app; fi'
LAUNCH_SCRIPT = """#!/bin/sh
# Written by the appliance's buildpack builder. What a Heroku dyno does at start:
# config vars are in the environment; .profile.d/*.sh and .profile are sourced;
# then the command runs (the scheduler's `/bin/sh -c COMMAND`, or the image's CMD).
if [ -d /app/.profile.d ]; then
  for appliance_profile in /app/.profile.d/*.sh; do
    if [ -r "$appliance_profile" ]; then . "$appliance_profile"; fi
  done
  unset appliance_profile
fi
if [ -r /app/.profile ]; then . /app/.profile; fi
if [ "$#" -eq 0 ]; then set -- /bin/bash; fi
exec "$@"
"""

LABELS = {"app": "appliance.app", "deploy": "appliance.deploy", "process": "appliance.process"}
BUILT_BY = "appliance.builder"


CA_TARGET, CA_ENV = cabundle.CA_TARGET, cabundle.CA_ENV


class BuildContainer:
    """One build container: its making, its inputs, commands run in it, its cleanup."""

    def __init__(
        self,
        engine: Any,
        deploy: Deploy,
        packs: list[Buildpack],
        stack: str,
        stack_config: dict[str, Any],
        work: Path,
        cache: Path,
        timeout: int,
    ) -> None:
        self.engine, self.deploy, self.packs = engine, deploy, packs
        self.stack, self.stack_config = stack, stack_config
        self.work, self.cache, self.timeout = work, cache, timeout
        self.out = deploy.out
        self.container: Any = None
        self.exports: list[str] = []
        self.timed_out = False
        self.env = {
            "STACK": sources.stack_name(stack),
            "SOURCE_VERSION": deploy.rev or "",
            "HOME": "/app",
            **builds.proxy_env(),
        }
        trust = bool(deploy.app.settings.get("builder-buildpack", "trust_host_ca", True))
        self.ca_bundle = builds.host_ca_bundle() if trust else None
        if self.ca_bundle:
            self.env.update({name: CA_TARGET for name in CA_ENV})

    # --- the container -------------------------------------------------------------

    def _create(self) -> None:
        import docker.errors

        deploy = self.deploy
        stale = self.engine.containers.list(
            all=True,
            filters={"label": [f"{LABELS['app']}={deploy.app.name}", f"{LABELS['process']}=build"]},
        )
        for container in stale:  # left by a build that was killed outright
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        options: dict[str, Any] = {
            "entrypoint": ["sleep"],
            "command": ["infinity"],
            "name": f"{deploy.app.name}.build.{deploy.id}",
            "labels": {
                LABELS["app"]: deploy.app.name,
                LABELS["deploy"]: str(deploy.id),
                LABELS["process"]: "build",
            },
            "working_dir": "/app",
            "mounts": [self._cache_mount(), *self._ca_mounts()],
            "cpu_shares": builds.CPU_SHARES,
            "init": True,
        }
        if builds.memory():
            options["mem_limit"] = builds.memory()
        if builds.blkio_weight():
            options["blkio_weight"] = builds.blkio_weight()
        options.update(builds.extra_options(deploy))  # extra_hosts, shm_size
        try:
            self.container = self.engine.containers.create(self.stack, **options)
        except docker.errors.APIError as exc:
            raise UserError(f"cannot start the build container: {exc.explanation or exc}") from None

    def _ca_mounts(self) -> list[Any]:
        """The host's CA bundle over the stack's, read-only, for the build only: bind
        mounts are not part of the committed image."""
        import docker.types

        if not self.ca_bundle:
            return []
        return [docker.types.Mount(target=CA_TARGET, source=self.ca_bundle, type="bind",
                                   read_only=True)]  # fmt: skip

    def _cache_mount(self) -> Any:
        """A bind mount in HostConfig.Mounts: unlike `volumes=`, it declares no VOLUME
        that the commit would carry into the image."""
        import docker.types

        return docker.types.Mount(target=CACHE, source=str(self.cache), type="bind")

    def _expire(self) -> None:
        self.timed_out = True
        with contextlib.suppress(Exception):
            self.container.kill()

    def _check_time(self) -> None:
        if self.timed_out:
            raise UserError(
                f"the build took longer than {self.timeout} s and was stopped "
                "(builder:set-global build-timeout SECONDS)"
            )

    def _put_inputs(self) -> None:
        """The source, the buildpacks, ENV_DIR and the launcher, in one archive."""
        with tempfile.TemporaryFile(dir=self.work) as spool:
            with tarfile.open(fileobj=spool, mode="w") as tar:
                _add_dir(tar, "app", 0o755)
                for entry in sorted(os.listdir(self.deploy.source_dir or ".")):
                    tar.add(self.deploy.source_dir / entry, f"app/{entry}", filter=_as_root)
                _add_dir(tar, WORK.lstrip("/"), 0o700)
                tar.add(self.work / "buildpacks", f"{WORK.lstrip('/')}/buildpacks", filter=_as_root)
                _add_dir(tar, ENV_DIR.lstrip("/"), 0o700)
                for key, value in sorted(self.deploy.config.items()):
                    if not validate.CONFIG_KEY.match(key):
                        raise UserError(f"config var {key!r} cannot be a file in ENV_DIR")
                    _add_file(tar, f"{ENV_DIR.lstrip('/')}/{key}", value.encode(), 0o600)
                _add_file(tar, LAUNCHER.lstrip("/"), LAUNCH_SCRIPT.encode(), 0o755)
            spool.seek(0)
            self.container.put_archive("/", spool)

    # --- commands in it ------------------------------------------------------------

    def _exec(self, argv: list[str], *, stream: bool = False) -> tuple[int, str, str]:
        """Run argv as root in /app; stream merged output to the pusher, or capture it."""
        import docker.errors

        api = self.engine.api
        try:
            exec_id = api.exec_create(
                self.container.id, argv, environment=self.env, workdir="/app", user="0:0"
            )["Id"]
            stdout = stderr = b""
            if stream:
                pending = b""
                for chunk in api.exec_start(exec_id, stream=True):
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        self.out.raw(line.decode(errors="replace").rstrip("\r"))
                if pending:
                    self.out.raw(pending.decode(errors="replace").rstrip("\r"))
            else:
                stdout, stderr = api.exec_start(exec_id, demux=True)
            code = self._exit_code(exec_id)
        except docker.errors.APIError as exc:
            self._check_time()
            raise UserError(f"the build container failed: {exc.explanation or exc}") from None
        self._check_time()
        return (
            code,
            (stdout or b"").decode(errors="replace"),
            (stderr or b"").decode(errors="replace"),
        )

    def _exit_code(self, exec_id: str) -> int:
        for _ in range(100):
            info = self.engine.api.exec_inspect(exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            time.sleep(0.05)
        return -1

    def _runner(self, exports: list[str], argv: list[str]) -> list[str]:
        return ["/bin/sh", "-c", RUNNER, "runner", str(len(exports)), *exports, *argv]

    def _finish(self, chown_app: bool) -> None:
        """Remove the buildpacks and ENV_DIR (config values) before the commit; give
        /cache back to the appliance user, /app to the stack image's user."""
        user = str(self.stack_config.get("User") or "")
        owner = user if chown_app and user not in ("", "root", "0", "0:0") else ""
        code, _, stderr = self._exec(
            ["/bin/sh", "-c", FINISH, "finish", f"{os.getuid()}:{os.getgid()}", owner]
        )
        if code != 0:
            raise UserError(f"cleaning up the build failed: {stderr.strip()[-200:]}")

    def _finish_after_failure(self) -> None:
        """Whatever failed, the cache must stay the appliance user's."""
        owner = f"{os.getuid()}:{os.getgid()}"
        try:
            if not self.timed_out:
                # in the build container while it runs; if it died, in a new one below
                with contextlib.suppress(UserError):
                    self._exec(["/bin/sh", "-c", FINISH, "finish", owner, ""])
                    return
            self.engine.containers.run(
                self.stack,
                entrypoint=["chown"],
                command=["-R", owner, CACHE],
                user="0:0",
                mounts=[self._cache_mount()],
                remove=True,
            )
        except Exception as exc:  # reported: the build's own error matters more
            self.out.warn(f"could not hand the build cache back to the appliance user: {exc}")

    def _put_file(self, directory: str, name: str, data: bytes, mode: int) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            _add_file(tar, name, data, mode)
        self.container.put_archive(directory, buffer.getvalue())


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
        return None  # no devices or fifos into the build
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _add_dir(tar: tarfile.TarFile, name: str, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    info.mtime = int(time.time())
    tar.addfile(_as_root(info))  # type: ignore[arg-type]


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(time.time())
    tar.addfile(_as_root(info), io.BytesIO(data))  # type: ignore[arg-type]
