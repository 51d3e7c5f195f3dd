"""Each app's bare repository and the pre-receive hook that deploys from it."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from appliance import api
from appliance.api import App, UserError, hostenv

ZERO = "0" * 40


def repo_path(app: App) -> Path:
    return app.path / "repo.git"


def hook_script(app: App) -> str:
    from appliance.api import self_command

    argv = [*self_command(), "git:hook", "pre-receive", app.name]
    lines = [
        "#!/bin/sh",
        "# Written by appliance: deploys the pushed deploy branch.",
        f"export APPLIANCE_ROOT={shlex.quote(str(api.root()))}",
    ]
    if argv[0] == sys.executable:  # running from a checkout, not an install
        package_parent = Path(api.__file__).resolve().parent.parent
        lines.append(f"export PYTHONPATH={shlex.quote(str(package_parent))}")
    return "\n".join([*lines, f"exec {shlex.join(argv)}", ""])


def ensure(app: App) -> Path:
    """Create the bare repository if missing and (re)write its hook, so an upgrade
    of the appliance always pushes through the current code."""
    repo = repo_path(app)
    if not (repo / "HEAD").is_file():
        subprocess.run(
            ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(repo)],
            check=True,
            env=hostenv.host_env(),
        )
    hook = repo / "hooks" / "pre-receive"
    script = hook_script(app)
    if not hook.is_file() or hook.read_text() != script:
        api.atomic_write(hook, script, mode=0o755)
    return repo


def deploy_branches(app: App) -> list[str]:
    configured = app.settings.get("git", "deploy_branch")
    return [configured] if configured else ["main", "master"]


def extract(repo: Path, rev: str, into: Path) -> None:
    """Write the tree of `rev` into `into` (works inside a pre-receive quarantine)."""
    archive = subprocess.Popen(
        ["git", "--git-dir", str(repo), "archive", "--format=tar", rev],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=hostenv.host_env(git=True),  # the objects of a push are in its quarantine
    )
    untar = subprocess.run(
        ["tar", "-x", "--no-same-owner", "-C", str(into)],
        stdin=archive.stdout,
        capture_output=True,
        check=False,
        env=hostenv.host_env(),
    )
    assert archive.stdout is not None and archive.stderr is not None
    archive.stdout.close()
    stderr = archive.stderr.read().decode(errors="replace")
    if archive.wait() != 0 or untar.returncode != 0:
        reason = stderr.strip() or untar.stderr.decode(errors="replace").strip()
        raise UserError(f"cannot read revision {rev[:12]}: {reason}")


def tree_of(repo: Path, rev: str) -> str:
    result = subprocess.run(
        ["git", "--git-dir", str(repo), "rev-parse", f"{rev}^{{tree}}"],
        capture_output=True,
        text=True,
        check=False,
        env=hostenv.host_env(git=True),
    )
    if result.returncode != 0:
        raise UserError(f"cannot read revision {rev[:12]}: {result.stderr.strip()}")
    return result.stdout.strip()
