"""The daemon's side of the Docker scheduler: keep every app's live release running.

A thread follows Docker's events for the appliance's containers; each change, each
reconnect (the engine came back) and every RECONCILE_EVERY seconds, `reconcile`
compares each app's current deploy with what runs: a missing container is created
again exactly as the deploy made it (`container_base` + `create_container`, phase
"restore", on the same loopback port), one Docker left stopped is started (with a
back-off when it keeps stopping), and when the web containers' ports changed the
proxy is re-pointed through the proxy hooks. Apps whose lock is held (a deploy runs)
, apps stopped with ps:stop and apps another scheduler runs are left alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from appliance import api
from appliance.api import App, Conflict, Deploy, Output, Target, UserError, releases

from . import containers as c
from . import formation
from .claim import handles
from .container_spec import container_base, container_name, remember_ports
from .options import start_container

RECONCILE_EVERY = 30
JOB = "restore"
RETIRE_EVERY = 3
RETIRE_JOB = "retire"
ALIVE = ("running", "restarting", "paused", "removing")
RETRY_FIRST = 10.0
RETRY_MAX = 600.0


@dataclass
class Attempts:
    count: int = 0
    next_at: float = 0.0


class Restorer:
    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self.attempts: dict[str, Attempts] = {}
        self.engine_started: set[str] = set()
        self.started: set[str] = set()
        """Apps the engine started a container of: the next retire looks at them even
        without a record (a container of an old deploy with no deadline is retired)."""

    def log(self, message: str) -> None:
        self.daemon.log(message, "scheduler-docker")

    # --- Docker events ------------------------------------------------------------

    def follow_events(self) -> None:
        """Follow the engine's events; while it is unreachable, try again each second.
        Every (re)connection runs a reconcile: the engine may have restarted."""
        down = False
        while not self.daemon.stopping.is_set():
            try:
                engine = c.client(timeout=86400)
            except UserError as exc:
                if not down:
                    self.log(f"{exc}: waiting for it")
                    down = True
                self.daemon.wait(1)
                continue
            if down:
                self.log("the Docker engine is back")
            down = False
            self.daemon.kick(JOB)
            self.daemon.kick(RETIRE_JOB)
            try:
                stream = engine.events(
                    decode=True, filters={"label": c.LABEL_APP, "type": "container"}
                )
                for event in stream:
                    self.on_event(event)
            except Exception as exc:  # the stream breaks when the engine goes away
                self.log(f"the Docker event stream broke: {type(exc).__name__}: {exc}")
            self.daemon.wait(1)

    def on_event(self, event: dict[str, Any]) -> None:
        attributes = event.get("Actor", {}).get("Attributes", {})
        if attributes.get(c.LABEL_PROCESS) == "run":
            return
        if event.get("Action") == "start":
            # The engine may have started a container of an old release (its restart
            # policy, the engine coming back): past its deadline, it is retired now;
            # with a mount that fails verification, it is stopped (guard.py).
            self.started.add(str(attributes.get(c.LABEL_APP, "")))
            self.engine_started.add(str(event.get("id", "")))
            self.daemon.kick(RETIRE_JOB)
            self.daemon.kick(JOB)
        if event.get("Action") in ("die", "destroy", "oom", "stop", "kill"):
            # Give Docker's restart policy its moment before looking.
            self.daemon.kick(JOB, delay=2)

    # --- retiring ---------------------------------------------------------------------

    def retire(self) -> None:
        """Retire, in every app with a retire record, what is past its deadline
        (retiring.py): a retire process that died or woke while the engine was down
        leaves it to this. Only a file check per app until something is due."""
        from . import retiring

        engine = None
        started, self.started = self.started, set()
        for name in api.app_names():
            app = App(name)
            if name not in started:
                if not (app.path / retiring.RECORD).is_file():
                    continue
                deadline = retiring.next_deadline(app)
                if deadline is not None and deadline > time.time():
                    continue
            engine = engine or c.client()
            try:
                retiring.retire_due(app, engine, log=self.log)
            except UserError as exc:
                self.log(f"{name}: cannot retire: {exc}")

    # --- reconciling ----------------------------------------------------------------

    def reconcile(self) -> None:
        import docker.errors

        engine = c.client()
        try:
            found = engine.containers.list(
                all=True, filters={"label": [c.LABEL_APP]}, ignore_removed=True
            )
        except docker.errors.NotFound:  # removed while being listed: look again soon
            self.daemon.kick(JOB, delay=1)
            return
        from .guard import guard

        started, self.engine_started = self.engine_started, set()
        guard(found, started, self.log, self.daemon.appliance.hook)
        by_app: dict[str, list[Any]] = {}
        for container in found:
            by_app.setdefault(container.labels.get(c.LABEL_APP, ""), []).append(container)
        for name in api.app_names():
            try:
                self.reconcile_app(engine, App(name), by_app.get(name, []))
            except UserError as exc:
                self.log(f"{name}: {exc}")
            except docker.errors.NotFound:
                self.daemon.kick(JOB, delay=1)  # a container went away meanwhile

    def reconcile_app(self, engine: Any, app: App, seen: list[Any]) -> None:
        deploy_id = app.settings.get("core", "deploy")
        if not deploy_id or app.settings.get("scheduler-docker", "stopped"):
            return
        if not handles(app, self.daemon.appliance):
            return  # another scheduler runs it
        if not self.needs_work(app, int(deploy_id), seen):
            return
        try:
            with app.lock(timeout=0, what="restore (daemon)", announce=False):
                app.settings.reload()
                if app.settings.get("core", "deploy") != deploy_id or app.settings.get(
                    "scheduler-docker", "stopped"
                ):
                    return
                self.restore(engine, app)
        except Conflict:
            return  # a deploy (or ps:stop, destroy) is running: it decides

    def expected(self, job: Deploy) -> list[tuple[str, int]]:
        return [(p, i) for p, count in formation.plan(job) for i in range(1, count + 1)]

    def needs_work(self, app: App, deploy_id: int, seen: list[Any]) -> bool:
        """A quick look without the lock: is any container of the live deploy missing
        or stopped, or a web port not the one on record?"""
        live = {
            k.name: k
            for k in seen
            if c.deploy_of(k) == deploy_id and k.labels.get(c.LABEL_PROCESS) != "run"
        }
        release = releases.current(app)
        if release is None:
            return False
        job = self.deploy_of(app, release, Output())
        recorded = recorded_ports(app, deploy_id)
        for process, index in self.expected(job):
            container = live.get(container_name(job, process, index))
            if container is None or container.status not in ALIVE:
                return True
            if process == "web" and published_port(container) != recorded.get(f"{process}.{index}"):
                return True
        return False

    def deploy_of(self, app: App, release: releases.Release, out: Output) -> Deploy:
        """The live deploy as a Deploy, to make its containers the way it made them."""
        deploy_id = int(app.settings.get("core", "deploy"))
        return Deploy(
            app=app,
            out=out,
            id=deploy_id,
            release=release.number,
            user="daemon",
            appliance=self.daemon.appliance.with_output(out),
            new_release=False,
            image=str(app.settings.get("core", "image") or release.image),
            summary="restore",
            config=dict(release.config),
            env=dict(release.config),
            procfile=dict(release.procfile),
            app_json=dict(release.app_json),
            previous_release=release.number,
            previous_deploy=deploy_id,
        )

    def restore(self, engine: Any, app: App) -> None:
        release = releases.current(app)
        if release is None:
            return
        job = self.deploy_of(app, release, Output())
        live = {k.name: k for k in c.app_containers(engine, app.name) if c.deploy_of(k) == job.id}
        recorded = recorded_ports(app, job.id)
        ports: dict[str, int] = {}
        recreated_web = False
        for process, index in self.expected(job):
            name = container_name(job, process, index)
            key = f"{process}.{index}"
            container = live.get(name)
            if container is not None and container.status in ALIVE:
                self.attempts.pop(name, None)
            elif self.may_try(name):
                container = self.bring_back(engine, job, process, index, container, recorded)
                recreated_web = recreated_web or (process == "web" and container is not None)
            if process == "web" and container is not None:
                port = published_port(container)
                if port:
                    ports[key] = port
        if ports and ports != recorded:
            # With no record (an app deployed before ports were recorded) nginx already
            # points at the containers found, unless one had to be created again.
            self.repoint(job, ports, tell_proxy=bool(recorded) or recreated_web)

    def may_try(self, name: str) -> bool:
        attempt = self.attempts.setdefault(name, Attempts())
        now = time.monotonic()
        if now < attempt.next_at:
            return False
        attempt.count += 1
        attempt.next_at = now + min(RETRY_FIRST * 2 ** (attempt.count - 1), RETRY_MAX)
        return True

    def bring_back(
        self,
        engine: Any,
        job: Deploy,
        process: str,
        index: int,
        container: Any,
        recorded: dict[str, int],
    ) -> Any:
        import docker.errors

        name = container_name(job, process, index)
        if container is not None and container.status in ("exited", "created"):
            code = container.attrs.get("State", {}).get("ExitCode")
            try:
                start_container(container, job.appliance.hook, job.app, "restore")
                self.log(f"{job.app.name}: started {name} (it had stopped, exit status {code})")
                return container
            except UserError as exc:  # a mount refused: made again, verified at create
                self.log(f"{job.app.name}: {exc}; creating it again")
            except docker.errors.APIError as exc:
                container.reload()
                if container.status in ALIVE:  # Docker's restart policy was quicker
                    return container
                self.log(f"{job.app.name}: cannot start {name}, creating it again: {exc}")
        if container is not None:
            c.remove([container], stop_timeout=0)
        port = recorded.get(f"{process}.{index}") if process == "web" else None
        if process == "web" and port is None:
            port = c.free_port()
        created = self.create(engine, job, process, index, port)
        if created is None and process == "web":
            created = self.create(engine, job, process, index, c.free_port())
        if created is not None:
            self.log(f"{job.app.name}: created {name} again (it was missing)")
        return created

    def create(self, engine: Any, job: Deploy, process: str, index: int, port: int | None) -> Any:
        """Create and start one container as the deploy did; None if its port is taken."""
        import docker.errors

        from .options import create_container

        container = create_container(
            engine,
            job.appliance.hook,
            job.app,
            str(job.image),
            process=process,
            phase="restore",
            index=index,
            **container_base(job, process, index, port),
        )
        try:
            start_container(container, job.appliance.hook, job.app, "restore")
        except UserError:
            container.remove(force=True)
            raise
        except docker.errors.APIError as exc:
            container.remove(force=True)
            taken = ("port is already allocated", "address already in use")
            if port and any(text in str(exc) for text in taken):
                return None
            raise UserError(f"cannot start {container.name}: {exc}") from None
        container.reload()
        return container

    def repoint(self, job: Deploy, ports: dict[str, int], tell_proxy: bool) -> None:
        """The web containers answer on other ports than nginx knows: tell the proxy,
        through the same hooks a deploy uses (the proxy validates before reloading)."""
        if tell_proxy:
            order = sorted(ports, key=lambda k: int(k.rpartition(".")[2]))
            job.targets = [Target("127.0.0.1", ports[k]) for k in order]
            job.appliance.hook.appliance_proxy_prepare(deploy=job)
            if not job.appliance.hook.appliance_proxy_update(deploy=job):
                raise UserError(f"no proxy handles {job.app.name}")
            self.log(f"{job.app.name}: traffic re-pointed to {', '.join(map(str, job.targets))}")
        remember_ports(job, ports)


def recorded_ports(app: App, deploy_id: int) -> dict[str, int]:
    ports = app.settings.table("scheduler-docker").get("ports", {})
    found = ports.get(str(deploy_id), {}) if isinstance(ports, dict) else {}
    return {str(k): int(v) for k, v in found.items()}


def published_port(container: Any) -> int | None:
    bindings = container.attrs.get("HostConfig", {}).get("PortBindings") or {}
    for binding in bindings.get(f"{c.CONTAINER_PORT}/tcp") or []:
        if binding.get("HostPort"):
            return int(binding["HostPort"])
    return None


def start(daemon: Any) -> None:
    restorer = Restorer(daemon)
    daemon.thread(restorer.follow_events, "docker-events")
    daemon.every(RECONCILE_EVERY, restorer.reconcile, JOB)
    daemon.every(RETIRE_EVERY, restorer.retire, RETIRE_JOB)
