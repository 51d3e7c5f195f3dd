"""A plugin's Python dependencies (`dependencies` in plugin.toml), pip-installed into
`<state root>/plugin-deps/<name>/`: outside the appliance's virtualenv, which
install.sh replaces on every upgrade, and put on sys.path only when the plugin loads.

pip runs as `sys.executable -m pip install --target DIR -- REQUIREMENT...`: an argv
list (never a shell), requirements checked by `appliance.manifest.requirement` (no
URL, path or option), the environment from `appliance.hostenv`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from appliance.api import Plugin, UserError, deps_root, hostenv

PIP_TIMEOUT = 900


def pip_argv(target: Path, requirements: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-input", "--no-warn-script-location", "--prefer-binary",
        "--target", str(target), "--", *requirements,
    ]  # fmt: skip


def stage(plugin: Plugin) -> Path | None:
    """Install the plugin's dependencies beside the live ones (a folder of its own,
    swapped in by `commit`) and point `plugin.deps_dir` at it. None: it has none.
    A failure removes what pip left and says so in one line."""
    if not plugin.dependencies:
        return None
    deps_root().mkdir(parents=True, exist_ok=True)
    staged = deps_root() / f".{plugin.name}.new.{time.time_ns()}"
    try:
        result = subprocess.run(
            pip_argv(staged, plugin.dependencies),
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            env=hostenv.host_env(),
            timeout=PIP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        discard(staged)
        raise UserError(
            f"plugin {plugin.name}: pip did not install its dependencies within "
            f"{PIP_TIMEOUT} s; the plugin was not installed"
        ) from None
    if result.returncode != 0:
        discard(staged)
        lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise UserError(
            f"plugin {plugin.name}: pip could not install its dependencies "
            f"({reason}); the plugin was not installed"
        )
    plugin.deps_dir = staged
    return staged


def commit(name: str, staged: Path | None) -> None:
    """Make `staged` the plugin's dependencies (None: it has none any more). What this
    process imported from `staged` (the check's load) is forgotten, so the plugin's
    next load in this process (its `appliance_plugin_installed`) imports it again
    from the final folder."""
    if staged is not None:
        _forget(staged)
    final = deps_root() / name
    old = deps_root() / f".{name}.old.{time.time_ns()}"
    if final.exists():
        final.rename(old)
    if staged is not None:
        staged.rename(final)
    discard(old)


def discard(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


def remove(name: str) -> None:
    """Remove the plugin's dependencies (plugin:uninstall)."""
    commit(name, None)


def _forget(folder: Path) -> None:
    inside = str(folder) + "/"
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(inside):
            del sys.modules[name]
    sys.path[:] = [p for p in sys.path if p != str(folder)]
