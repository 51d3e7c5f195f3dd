"""Running checks against containers, through the container hooks of whichever
scheduler started them: `appliance_container_exec`, `_state` and `_logs`.

Every type of check runs at deploy (startup, then readiness, then liveness): a
release whose liveness check fails now would be restarted later, so it is refused
before traffic moves. Per container, checks run one after the other; a failing
check (not marked `warn`) raises `CheckFailed` with what was expected, what came
back and the container's last log lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from appliance.api import INDENT, App, Container, Deploy, Output, UserError

from . import probes, settings, spec
from .probes import Outcome

LOG_LINES = 20


class HookRelay(Protocol):
    """What the runner needs of `appliance.hook`: the container hooks."""

    def __getattr__(self, name: str) -> Any: ...


class CheckFailed(UserError):
    """A check did not pass: the first line says which, the rest what and why."""


@dataclass
class Runner:
    app: App
    hook: HookRelay
    out: Output
    host: str | None = None  # the Host header of HTTP checks: the app's first domain
    sleep: Callable[[float], None] = field(default=time.sleep)

    # --- what to check -----------------------------------------------------

    def run_process(
        self, process: str, containers: list[Container], declared: list[spec.Check] | None
    ) -> None:
        """Run `declared` (or the default checks) against each container of `process`."""
        self.out.section(f"Running checks for {process}")
        checks = declared
        if not checks:
            uptime = settings.number(self.app, "uptime")
            checks = spec.default_checks(process, uptime)
            self.out.info(
                f"No healthchecks for {process} in app.json: "
                f"{spec.describe_default(uptime, process)}"
            )
        for container in containers:
            for check in checks:
                self.run_check(container, check)

    def run_check(self, container: Container, check: spec.Check) -> None:
        label = f'{container.name}: {check.type} "{check.name}" ({check.describe()})'
        self._initial_delay(container, check)
        attempts = 1 if check.strategy == "uptime" else check.attempts
        for attempt in range(1, attempts + 1):
            outcome = self.attempt(container, check)
            counter = f" (attempt {attempt}/{attempts})" if attempts > 1 else ""
            if outcome.ok:
                self.out.info(f"{label}: passed{counter}")
                return
            self.out.info(f"{label}: failed{counter}: {outcome.got}")
            if outcome.fatal or attempt == attempts:
                break
            stopped = self._stopped(container)
            if stopped:
                outcome = Outcome(False, f"{outcome.got}; then {stopped}", fatal=True)
                break
            self.sleep(check.wait)
        error = self.failure(container, check, outcome, attempt)
        if check.warn:
            self.out.warn(f"{str(error).splitlines()[0]} (a warning only: the check sets warn)")
            return
        raise error

    def attempt(self, container: Container, check: spec.Check) -> Outcome:
        if check.strategy == "command":
            return self._command(container, check)
        if check.strategy == "uptime":
            return self._uptime(container, check)
        address, port = container.address, check.port or container.port
        if not address:
            return Outcome(False, f"{container.name} has no network address", fatal=True)
        if not port:
            return Outcome(
                False, f"{container.name} has no port: set port in the check", fatal=True
            )
        if check.strategy == "tcp":
            return probes.tcp_connect(address, port, timeout=check.timeout)
        return probes.http_get(
            address,
            port,
            check.path,
            content=check.content,
            headers=self._headers(check),
            timeout=check.timeout,
            scheme=check.scheme,
        )

    # --- strategies ----------------------------------------------------------

    def _headers(self, check: spec.Check) -> dict[str, str]:
        headers = {"Host": self.host} if self.host else {}
        for name, value in check.headers:
            if name.lower() == "host":
                headers.pop("Host", None)
            headers[name] = value
        return headers

    def _command(self, container: Container, check: spec.Check) -> Outcome:
        def run() -> Any:
            return self.hook.appliance_container_exec(
                app=self.app,
                container=container,
                command=list(check.command),
            )

        try:
            result = _within(check.timeout, run)
        except TimeoutError:
            return Outcome(False, f"the command did not finish within {check.timeout:g} s")
        except UserError as exc:
            return Outcome(False, f"the command could not run: {exc}")
        if result is None:
            return Outcome(False, "no plugin runs commands in this container", fatal=True)
        code, output = int(result[0]), str(result[1] or "").strip()
        if code != 0:
            return Outcome(False, f"exit code {code}, output {probes.excerpt(output)}")
        if check.content and check.content not in output:
            return Outcome(False, f"exit code 0, output without it: {probes.excerpt(output)}")
        return Outcome(True, f"exit code 0, output {probes.excerpt(output)}")

    def _uptime(self, container: Container, check: spec.Check) -> Outcome:
        """Wait until the container has been up `check.uptime` seconds, then it must still
        run and never have restarted. A crash during the wait fails at once."""
        give_up = time.monotonic() + check.uptime + 30
        while True:
            try:
                state = self.state(container)
            except UserError as exc:
                return Outcome(False, f"its state is unknown: {exc}", fatal=True)
            if state is None:
                return Outcome(False, "no plugin reports this container's state", fatal=True)
            trouble = _trouble(state)
            if trouble:
                return Outcome(False, trouble, fatal=True)
            uptime = float(state.get("uptime") or 0)
            if uptime >= check.uptime:
                return Outcome(True, f"up {uptime:.0f} s without a restart")
            if time.monotonic() > give_up:
                return Outcome(False, f"up only {uptime:.0f} s", fatal=True)
            self.sleep(min(1.0, check.uptime - uptime))

    # --- container facts -------------------------------------------------------

    def state(self, container: Container) -> dict[str, Any] | None:
        found = self.hook.appliance_container_state(app=self.app, container=container)
        return dict(found) if found is not None else None

    def logs(self, container: Container) -> str:
        try:
            text = self.hook.appliance_container_logs(
                app=self.app, container=container, lines=LOG_LINES
            )
        except UserError as exc:
            return f"(no log: {exc})"
        if text is None:
            return "(no plugin shows this container's log)"
        return str(text).rstrip() or "(the log is empty)"

    def _stopped(self, container: Container) -> str | None:
        """Why retrying is pointless: the container stopped or restarted; else None."""
        try:
            state = self.state(container)
        except UserError:
            return None  # no state now: keep trying, the next attempt will say more
        return _trouble(state) if state else None

    def _initial_delay(self, container: Container, check: spec.Check) -> None:
        """`initialDelay` counts from the container's start, not from now."""
        if not check.initial_delay:
            return
        try:
            state = self.state(container)
        except UserError:
            state = None
        remaining = check.initial_delay - float((state or {}).get("uptime") or 0)
        if remaining > 0:
            self.out.info(f'{container.name}: waiting {remaining:.0f} s before "{check.name}"')
            self.sleep(remaining)

    # --- the message -------------------------------------------------------------

    def failure(
        self, container: Container, check: spec.Check, outcome: Outcome, attempts: int
    ) -> CheckFailed:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        lines = [
            f'check "{check.name}" of {check.process} failed on {container.name}{tries}',
            f"Check:    {check.type} {self._where(container, check)}",
            f"Expected: {check.expected()}",
            f"Got:      {outcome.got}",
            f"Last {LOG_LINES} log lines of {container.name}:",
            *(f"  {line}" for line in self.logs(container).splitlines()),
        ]
        return CheckFailed(f"\n{INDENT}".join(lines))

    def _where(self, container: Container, check: spec.Check) -> str:
        port = check.port or container.port
        if check.strategy == "http":
            headers = self._headers(check).items()
            host = next((v for k, v in headers if k.lower() == "host"), None)
            url = f"{check.scheme}://{container.address}:{port}{check.path}"
            return f"GET {url}" + (f" (Host: {host})" if host else "") + self._limits(check)
        if check.strategy == "tcp":
            return f"TCP connect to {container.address}:{port}" + self._limits(check)
        return check.describe() + (self._limits(check) if check.strategy == "command" else "")

    @staticmethod
    def _limits(check: spec.Check) -> str:
        return f", timeout {check.timeout:g} s, {check.attempts} attempts {check.wait:g} s apart"


def _trouble(state: dict[str, Any]) -> str | None:
    if not state.get("running"):
        code = state.get("exit_code")
        return "the container stopped" + (f" with exit code {code}" if code is not None else "")
    restarts = int(state.get("restarts") or 0)
    if restarts:
        return f"the container restarted {restarts} time{'s' if restarts > 1 else ''}"
    return None


def _within(timeout: float, work: Callable[[], Any]) -> Any:
    """Run `work` in a thread and give up on it after `timeout` seconds (the hooks
    have no timeout of their own; an abandoned call ends with its command)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, name="checks-exec", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box.get("value")


def first_domain(hook: HookRelay, app: App) -> str | None:
    for domains in hook.appliance_app_domains(app=app) or []:
        for domain in domains or []:
            return str(domain)
    return None


def group(containers: list[Container]) -> dict[str, list[Container]]:
    found: dict[str, list[Container]] = {}
    for container in containers:
        found.setdefault(container.process or "web", []).append(container)
    return found


def check_deploy(deploy: Deploy) -> None:
    """The deploy hook: check each new container of a process type whose checks are
    enabled, with app.json's checks for that type or the default ones."""
    if not deploy.containers:
        return
    app, hook = deploy.app, deploy.appliance.hook
    declared = spec.declared(deploy.app_json)
    runner = Runner(app, hook, deploy.out, host=first_domain(hook, app))
    for process, containers in group(deploy.containers).items():
        status = settings.status(app, process)
        if status != "enabled":
            deploy.out.section(
                f"Checks {status} for {process}: not run (checks:enable {app.name} {process})"
            )
            continue
        runner.run_process(process, containers, declared.get(process))
