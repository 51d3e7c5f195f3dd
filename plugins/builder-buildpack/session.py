"""The buildpack API's steps, run in a build container (`container.py`): `bin/detect`
and `bin/compile` of each buildpack, `bin/release`, the process types, then the
commit of the container as the app's image."""

from __future__ import annotations

import contextlib
import threading

from appliance.api import UserError, validate

from . import release, sources
from .container import BUILT_BY, CACHE, ENV_DIR, LABELS, LAUNCHER, WORK, BuildContainer
from .sources import Buildpack


class Session(BuildContainer):
    """One build: the buildpacks' steps in order, in one build container."""

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
