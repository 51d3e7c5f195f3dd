"""Writing vhosts safely: every change is checked with `nginx -t` and undone if it
fails, so one app's bad config never reaches the running nginx or another app."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from appliance import api
from appliance.api import App, UserError, hostenv

from .tokens import FILTERS

PLUGIN_DIR = Path(__file__).resolve().parent
GLOBAL_FILE = "0-appliance-global.conf"


def vhost_dir() -> Path:
    return api.root() / "nginx"


def vhost_path(app: App) -> Path:
    return vhost_dir() / f"{app.name}.conf"


def setting(key: str, default: str) -> str:
    return str(api.global_settings().get("proxy-nginx", key, default))


RELOAD_HELPER = "/usr/local/lib/appliance/nginx-reload"


def nginx(*args: str) -> subprocess.CompletedProcess[str]:
    return _as_root([setting("nginx", shutil.which("nginx") or "/usr/sbin/nginx"), *args])


def _as_root(argv: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() != 0:
        argv = ["sudo", "-n", *argv]
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=False, env=hostenv.host_env()
        )
    except FileNotFoundError:
        raise UserError(f"{argv[0]} is not installed") from None


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [
        ln
        for ln in (result.stderr + result.stdout).splitlines()
        if "emerg" in ln or "error" in ln or "failed" in ln
    ]
    return (lines or (result.stderr + result.stdout).strip().splitlines() or ["no output"])[0]


def port() -> str:
    return setting("port", "80")


def render(app: App, targets: list[str], domains: list[str]) -> str:
    return api.render(
        "nginx/app.conf.j2",
        overrides_for=app.name,
        plugin_dir=PLUGIN_DIR,
        filters=FILTERS,
        app=app.name,
        root=str(api.root()),
        targets=targets,
        domains=domains,
        port=port(),
        log_dir=setting("log_dir", "/var/log/nginx"),
        client_max_body_size=app.settings.get("proxy-nginx", "client_max_body_size", "100m"),
        read_timeout=app.settings.get("proxy-nginx", "read_timeout", "60s"),
    )


def _write(files: dict[Path, str | None]) -> None:
    for path, text in files.items():
        if text is None:
            path.unlink(missing_ok=True)
        else:
            api.atomic_write(path, text)


def apply(files: dict[Path, str | None]) -> None:
    """Write (or with None, remove) vhost files, test, reload; restore all on failure.

    With the reload helper install.sh puts in place, test and reload are one sudo
    call and the old workers stop accepting as soon as the new ones run."""
    with api.lock_file(api.root() / "nginx.lock", "nginx", timeout=120):
        backups = {path: path.read_text() if path.is_file() else None for path in files}
        _write(files)
        helper = setting("reload_helper", RELOAD_HELPER)
        before = workers()
        if helper and os.path.isfile(helper):
            result = _as_root([helper])
            invalid = result.returncode == 2
        else:
            result = nginx("-t", "-q")
            invalid = result.returncode != 0
            if not invalid:
                result = nginx("-s", "reload")
        if invalid:
            _write(backups)
            raise UserError(
                f"nginx rejected the new config, kept the old one: {_error_line(result)}"
            )
        if result.returncode != 0:
            raise UserError(f"nginx reload failed (is nginx running?): {_error_line(result)}")
        if not wait_for_new_workers(before):
            print(
                " !     nginx reloaded, but its old workers were still accepting after 10 s",
                file=sys.stderr,
            )


def workers() -> dict[int, str] | None:
    """nginx's worker processes and their titles, or None if the master is unknown."""
    try:
        master = int(Path(setting("pid_file", "/run/nginx.pid")).read_text().strip())
    except (OSError, ValueError):
        return None
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) != master or fields[0] == "Z":
                continue  # not nginx's, or a worker that has exited (a zombie)
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                found[int(entry.name)] = f.read().replace(b"\0", b" ").decode().strip()
        except (OSError, ValueError, IndexError):
            continue
    return found


def wait_for_new_workers(before: dict[int, str] | None, timeout: float = 10) -> bool:
    """A reload returns before it takes effect: wait until new workers run and the
    old ones have stopped accepting (their title says "shutting down"), so that
    "deployed" means every new request reaches the new release."""
    if before is None:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = workers() or {}
        started = [pid for pid in now if pid not in before]
        old_accepting = [
            pid for pid, title in now.items() if pid in before and "shutting down" not in title
        ]
        if started and not old_accepting:
            return True
        time.sleep(0.005)
    return False


def global_file() -> tuple[Path, str | None]:
    path = vhost_dir() / GLOBAL_FILE
    text = api.render("nginx/global.conf.j2", plugin_dir=PLUGIN_DIR, filters=FILTERS)
    return path, (None if path.is_file() and path.read_text() == text else text)


def domains_of(app: App, hook: Any) -> list[str]:
    """The host names of `app`, from every plugin's `appliance_app_domains`
    (`hook` is the running appliance's `appliance.hook`)."""
    return [d for group in hook.appliance_app_domains(app=app) for d in group]
