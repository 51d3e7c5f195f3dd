"""Hooks implemented by executables: `plugins/<name>/triggers/<hook-name>`.

The protocol, for plugin authors who write shell or any other language:

* argv: the app's name when the hook concerns an app, nothing otherwise;
* environment: `APPLIANCE_HOOK`, `APPLIANCE_ROOT`, `APPLIANCE_PLUGIN`, and where
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
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from appliance import state
from appliance.errors import PluginError

RETURNS_VALUE = {
    "appliance_app_report",
    "appliance_app_urls",
    "appliance_app_domains",
    "appliance_ssh_command",
    "appliance_build",
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
    env = dict(os.environ)
    env.update(APPLIANCE_HOOK=hook, APPLIANCE_ROOT=str(state.root()), APPLIANCE_PLUGIN=plugin)
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
    payload = json.dumps({k: _jsonable(v) for k, v in kwargs.items() if k != "out"})
    returns = hook in RETURNS_VALUE
    proc = subprocess.run(
        argv,
        input=payload,
        text=True,
        env=env,
        capture_output=True,
        check=False,
    )
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        raise PluginError(f"plugin {plugin}: {hook} failed: {reason}")
    if not returns:
        out = kwargs.get("out") or getattr(deploy, "out", None)
        if proc.stdout and out is not None:
            out.raw(proc.stdout.rstrip("\n"))
        elif proc.stdout:
            sys.stderr.write(proc.stdout)
        return None
    text = proc.stdout.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
