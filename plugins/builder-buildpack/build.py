"""A buildpack build: a container of the stack image, /app as BUILD_DIR, committed.

1. The buildpacks are fetched onto the host (fetch.py).
2. A build container of the stack image starts (`sleep infinity`) with the app's cache
   directory bind-mounted at /cache; the source goes to /app, the buildpacks and the
   ENV_DIR (one file per config var) to /tmp/appliance-build, the launcher to
   /usr/local/bin/appliance-launch, all in one `put_archive`.
3. For each buildpack, with the `export` files of the buildpacks before it sourced:
   `bin/detect /app` (a buildpack that detects nothing is skipped), then
   `bin/compile /app /cache ENV_DIR`, its output streamed to the pusher line by line.
   Each runs at nice 10 and best-effort IO priority 7, in a container with low CPU
   shares (and a low IO weight where the kernel has one) and `build-memory`.
4. `bin/release /app` of each buildpack that ran: `default_process_types` (the app's
   Procfile wins) and `config_vars` (image ENV defaults; config vars win at run time).
5. /tmp/appliance-build (config values included) is removed, /cache is given back to
   the appliance user, and the container is committed with ENTRYPOINT the launcher,
   which sources `/app/.profile.d/*.sh` and `/app/.profile`, then execs the command.

Building in /app itself means paths a buildpack bakes in are right at run time.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from appliance.api import Deploy, Output, UserError, builds, dockerfile_runs, validate

from . import fetch, release, sources
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


def run(deploy: Deploy, urls: list[str]) -> str:
    """Build `deploy.source_dir` with `urls`; return the image (`deploy.image_tag`)."""
    import docker

    app, out = deploy.app, deploy.out
    packs = [sources.parse_url(url) for url in urls]
    stack, _ = sources.stack(app)
    out.section(f"Building {app.name} with buildpacks on {stack}")
    timeout = builds.timeout()
    engine = docker.from_env(timeout=timeout + 60)
    try:
        stack_config = _stack_image(engine, stack, out)
        with tempfile.TemporaryDirectory(prefix=f"appliance-buildpacks-{app.name}-") as tmp:
            work = Path(tmp)
            for number, pack in enumerate(packs):
                fetch.fetch(pack, work / "buildpacks" / str(number), out)
            cache = _cache_dir(deploy, stack)
            session = Session(engine, deploy, packs, stack, stack_config, work, cache, timeout)
            return session.run()
    finally:
        engine.close()


def _stack_image(engine: Any, image: str, out: Output) -> dict[str, Any]:
    import docker.errors

    try:
        found = engine.images.get(image)
    except docker.errors.ImageNotFound:
        out.section(f"Pulling the stack image {image}")
        try:
            for event in engine.api.pull(image, stream=True, decode=True):
                if "error" in event:
                    raise UserError(f"cannot pull the stack image {image}: {event['error']}")
                status = str(event.get("status", ""))
                if status.startswith(("Digest:", "Status:")):
                    out.info(status)
            found = engine.images.get(image)
        except docker.errors.APIError as exc:
            raise UserError(
                f"cannot pull the stack image {image}: {exc.explanation or exc} "
                "(buildpacks:set-stack [APP] IMAGE)"
            ) from None
    return dict(found.attrs.get("Config") or {})


def _cache_dir(deploy: Deploy, stack: str) -> Path:
    """The app's build cache; emptied when the stack changes (its binaries would not fit)."""
    app = deploy.app
    cache = app.path / "cache"
    previous = app.settings.get(sources.TABLE, "cache_stack")
    if previous and previous != stack and cache.exists():
        deploy.out.section(f"The stack changed from {previous}: starting with an empty cache")
        clear_cache(app.path / "cache")
    cache.mkdir(mode=0o700, exist_ok=True)
    if previous != stack:
        app.settings.set(sources.TABLE, "cache_stack", stack)
    return cache


def clear_cache(cache: Path) -> None:
    if not cache.exists():
        return
    try:
        shutil.rmtree(cache)
    except OSError as exc:
        raise UserError(f"cannot empty the build cache {cache}: {exc}") from None


CA_TARGET = "/etc/ssl/certs/ca-certificates.crt"
CA_ENV = (
    "SSL_CERT_FILE",
    "PIP_CERT",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "CURL_CA_BUNDLE",
)


class Session:
    """One build container and the steps run in it."""

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

    def run(self) -> str:
        self._create()
        timer = threading.Timer(self.timeout, self._expire)
        timer.daemon = True
        built = False
        try:
            self.container.start()
            timer.start()
            self._put_inputs()
            applied = self._compile()
            processes, config_vars = self._release(applied)
            self._process_types(processes)
            self._finish(chown_app=True)
            built = True
            return self._commit(processes, config_vars, applied)
        finally:
            timer.cancel()
            if not built:
                self._finish_after_failure()
            with contextlib.suppress(Exception):
                self.container.remove(force=True)

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

    # --- steps ---------------------------------------------------------------------

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

    def _compile(self) -> list[tuple[int, Buildpack, str]]:
        out, app = self.out, self.deploy.app.name
        exports: list[str] = []
        applied: list[tuple[int, Buildpack, str]] = []
        refused: list[str] = []
        for number, pack in enumerate(self.packs):
            here = f"{WORK}/buildpacks/{number}"
            local = self.work / "buildpacks" / str(number)
            name = pack.url.split("#")[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
            if (local / "bin" / "detect").is_file():
                code, stdout, stderr = self._exec(
                    self._runner(exports, [f"{here}/bin/detect", "/app"])
                )
                if code != 0:
                    why = (stderr.strip().splitlines() or [f"bin/detect exited with {code}"])[-1]
                    out.info(f"{pack.shown}: not for this app ({why[:200]})")
                    refused.append(pack.shown)
                    continue
                name = (stdout.strip().splitlines() or [name])[0].strip()[:100] or name
            out.section(f"{name} app detected")
            code, _, _ = self._exec(
                self._runner(exports, [f"{here}/bin/compile", "/app", CACHE, ENV_DIR]),
                stream=True,
            )
            if code != 0:
                raise UserError(
                    f"buildpack {pack.shown} failed to compile {app}: "
                    f"bin/compile exited with status {code}"
                )
            exports.append(f"{here}/export")
            applied.append((number, pack, name))
        if not applied:
            raise UserError(
                f"no buildpack applies to {app}: bin/detect of {', '.join(refused)} "
                "found nothing to build"
            )
        self.exports = exports
        return applied

    def _release(
        self, applied: list[tuple[int, Buildpack, str]]
    ) -> tuple[dict[str, str], dict[str, str]]:
        processes: dict[str, str] = {}
        config_vars: dict[str, str] = {}
        for number, pack, _ in applied:
            if not (self.work / "buildpacks" / str(number) / "bin" / "release").is_file():
                continue
            here = f"{WORK}/buildpacks/{number}"
            code, stdout, stderr = self._exec(
                self._runner(self.exports, [f"{here}/bin/release", "/app"])
            )
            if code != 0:
                last = (stderr.strip().splitlines() or [""])[-1][:200]
                raise UserError(f"buildpack {pack.shown}: bin/release exited with {code} {last}")
            try:
                found = release.parse(stdout)
            except UserError as exc:
                raise UserError(f"buildpack {pack.shown}: {exc}") from None
            processes.update(found["default_process_types"])
            config_vars.update(found["config_vars"])
        for name in list(processes):
            if not validate.PROCESS_TYPE.match(name):
                self.out.warn(f"bin/release: ignoring the invalid process type {name!r}")
                del processes[name]
        for key in list(config_vars):
            if not validate.CONFIG_KEY.match(key):
                self.out.warn(f"bin/release: ignoring the invalid config var {key!r}")
                del config_vars[key]
        return processes, config_vars

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

    def _process_types(self, processes: dict[str, str]) -> None:
        """The app's Procfile wins; the buildpacks' default types fill in the rest.
        Without a Procfile, one is written into /app so the image says what it runs."""
        deploy, out = self.deploy, self.out
        declared = dict(deploy.procfile)
        defaults = {k: v for k, v in processes.items() if k not in declared}
        out.section("Discovering process types")
        if declared:
            out.info(f"Procfile declares types     -> {', '.join(declared)}")
        if defaults:
            out.info(f"Default types for buildpack -> {', '.join(defaults)}")
        if not declared and not defaults:
            out.info("none: the image's CMD runs")
        deploy.procfile = {**declared, **defaults}
        if not declared and defaults:
            self._put_file("/app", "Procfile", release.procfile_text(defaults).encode(), 0o644)

    def _commit(
        self,
        processes: dict[str, str],
        config_vars: dict[str, str],
        applied: list[tuple[int, Buildpack, str]],
    ) -> str:
        deploy, out = self.deploy, self.out
        self.container.kill()
        web = deploy.procfile.get("web")
        command = ["/bin/sh", "-c", web] if web else (self.stack_config.get("Cmd") or ["/bin/bash"])
        env = {"HOME": "/app", **config_vars}
        repository, _, tag = deploy.image_tag.rpartition(":")
        self.container.commit(
            repository=repository,
            tag=tag,
            message=f"appliance buildpack build of {deploy.app.name}",
            conf={
                "Entrypoint": [LAUNCHER],
                "Cmd": command,
                "WorkingDir": "/app",
                "Env": [f"{k}={v}" for k, v in env.items()],
                # the build container's labels would be inherited: blank them
                "Labels": {**{label: "" for label in LABELS.values()}, BUILT_BY: "buildpack"},
            },
        )
        names = [name for _, _, name in applied]
        deploy.extra["builder-buildpack"] = {
            "buildpacks": [pack.shown for _, pack, _ in applied],
            "detected": names,
            "stack": self.stack,
            "process_types": dict(processes),
        }
        deploy.app.settings.set(
            sources.TABLE,
            "last_build",
            {
                key: deploy.extra["builder-buildpack"][key]
                for key in ("buildpacks", "detected", "stack")
            },
        )
        out.section(f"Built {deploy.image_tag} ({', '.join(names)})")
        return deploy.image_tag

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
