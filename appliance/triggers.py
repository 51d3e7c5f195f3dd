"""Hooks implemented by executables: `plugins/<name>/triggers/<hook-name>`.

The protocol, for plugin authors who write shell or any other language:

* argv: the app's name when the hook concerns an app, nothing otherwise;
* environment: an allow-list (`appliance.hostenv`: a fixed PATH, the appliance
  user's HOME, the locale, DOCKER_HOST when the host sets it, the host-wide proxy
  settings), never the caller's environment; and `APPLIANCE_HOOK`, `APPLIANCE_ROOT`,
  `APPLIANCE_PLUGIN`, and where
  they apply `APPLIANCE_APP`, `APPLIANCE_RELEASE`, `APPLIANCE_IMAGE`,
  `APPLIANCE_REV`, `APPLIANCE_SOURCE_DIR`, `APPLIANCE_USER`;
* stdin: every argument of the hook as one JSON object;
* stdout: for decision and collect hooks, the return value (JSON, or plain text
  taken as a string; nothing means None); for event hooks it is shown to the user
  (during a push, as `remote:` lines);
* exit status: non-zero fails the hook, with the last line of stderr as the reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from appliance import hostenv, state
from appliance.errors import PluginError

RETURNS_VALUE = {
    "appliance_app_report",
    "appliance_app_urls",
    "appliance_app_domains",
    "appliance_ssh_command",
    "appliance_build_source",
    "appliance_build",
    "appliance_builder_detect",
    "appliance_formation",
    "appliance_container_env",
    "appliance_scheduler_start",
    "appliance_scheduler_abort",
    "appliance_proxy_update",
    "appliance_scheduler_retire",
    "appliance_run_oneoff",
    "appliance_app_containers",
    "appliance_container_exec",
    "appliance_container_logs",
    "appliance_container_state",
    "appliance_image_exists",
    "appliance_image_prepare",
    "appliance_container_options",
    "appliance_build_options",
    "appliance_source_checkout",
    "appliance_app_proxy",
    "appliance_proxy_names",
    "appliance_proxy_report",
    "appliance_proxy_config",
    "appliance_proxy_validate",
    "appliance_proxy_logs",
    "appliance_app_scheduler",
    "appliance_scheduler_names",
    "appliance_scheduler_stop",
    "appliance_scheduler_report",
    "appliance_scheduler_logs",
    "appliance_scheduler_run",
    "appliance_scheduler_run_detached",
    "appliance_scheduler_oneoffs",
    "appliance_scheduler_enter",
}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def run(plugin: str, hook: str, exe: Path, kwargs: dict[str, Any]) -> Any:
    env = hostenv.host_env(
        APPLIANCE_HOOK=hook, APPLIANCE_ROOT=str(state.root()), APPLIANCE_PLUGIN=plugin
    )
    argv = [str(exe)]
    app = kwargs.get("app") or getattr(kwargs.get("deploy"), "app", None)
    if app is not None:
        argv.append(app.name)
        env["APPLIANCE_APP"] = app.name
    deploy = kwargs.get("deploy")
    if deploy is not None:
        for key, value in (
            ("RELEASE", deploy.release),
            ("IMAGE", deploy.image),
            ("REV", deploy.rev),
            ("SOURCE_DIR", deploy.source_dir),
            ("USER", deploy.user),
        ):
            if value is not None:
                env[f"APPLIANCE_{key}"] = str(value)
    # The host object means nothing to another process: a trigger gets the data.
    given = {k: v for k, v in kwargs.items() if k not in ("out", "appliance")}
    payload = json.dumps({k: _jsonable(v) for k, v in given.items()})
    returns = hook in RETURNS_VALUE
    out = kwargs.get("out") or getattr(deploy, "out", None)
    code, stdout, last_error = _execute(argv, env, payload, relay=None if returns else out)
    if code is None:
        raise PluginError(f"plugin {plugin}: {hook} did not finish within {timeout():g} s")
    if code != 0:
        reason = last_error or f"exit status {code}"
        raise PluginError(f"plugin {plugin}: {hook} failed: {reason}")
    if not returns:
        return None
    text = stdout.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    return _convert(plugin, hook, value)


def timeout() -> float:
    return float(state.global_settings().get("core", "trigger_timeout", 900))


def _execute(
    argv: list[str], env: dict[str, str], payload: str, relay: Any
) -> tuple[int | None, str, str]:
    """Run a trigger: stderr (and, for events, stdout) reach the user line by line as
    they come. Returns (exit code or None on timeout, stdout, last stderr line)."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    captured: list[str] = []
    last_error = [""]

    def pump_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if relay is not None:
                relay.raw(line.rstrip("\n"))
            else:
                captured.append(line)

    def pump_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            sys.stderr.write(line)
            sys.stderr.flush()
            if line.strip():
                last_error[0] = line.strip()

    readers = [threading.Thread(target=f, daemon=True) for f in (pump_stdout, pump_stderr)]
    for reader in readers:
        reader.start()
    assert proc.stdin is not None
    try:
        proc.stdin.write(payload)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        code: int | None = proc.wait(timeout=timeout())
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = None
    for reader in readers:
        reader.join(timeout=5)
    return code, "".join(captured), last_error[0]


def _convert(plugin: str, hook: str, value: Any) -> Any:
    """Turn a trigger's JSON into what the hook's callers expect."""
    from appliance.runtime import Container, Target

    def bad(expected: str) -> PluginError:
        return PluginError(f"plugin {plugin}: {hook} must print {expected}, got {value!r:.80}")

    if hook in (
        "appliance_app_report",
        "appliance_proxy_report",
        "appliance_container_env",
        "appliance_container_state",
        "appliance_builder_detect",
    ):
        if not isinstance(value, dict):
            raise bad("a JSON object")
        return value
    if hook in (
        "appliance_app_urls",
        "appliance_app_domains",
        "appliance_proxy_names",
        "appliance_proxy_validate",
    ):
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise bad("a JSON list of strings")
        return values
    if hook == "appliance_scheduler_start":
        if not isinstance(value, list):
            raise bad('a JSON list of "host:port" targets')
        targets = []
        for item in value:
            host, _, port = str(item).rpartition(":")
            if not host or not port.isdigit():
                raise bad('a JSON list of "host:port" targets')
            targets.append(Target(host, int(port)))
        return targets
    if hook == "appliance_app_containers":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise bad("a JSON list of container objects")
        try:
            return [Container(**item) for item in value]
        except TypeError as exc:
            raise bad(f"container objects ({exc})") from None
    return value
