"""git: `git push appliance@host:APP main` over SSH, and `git clone` of an app's source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.api import App, Output, hookimpl

from . import repo


@hookimpl
def appliance_app_created(app: App, out: Output) -> None:
    repo.ensure(app)


@hookimpl(trylast=True)
def appliance_source_checkout(app: App, rev: str, dest: Path) -> bool | None:
    """The tree of `rev` from the app's bare repository, for ps:rebuild."""
    if not (repo.repo_path(app) / "HEAD").is_file():
        return None
    repo.extract(repo.repo_path(app), rev, dest)
    return True


@hookimpl
def appliance_app_report(app: App) -> dict[str, Any]:
    return {
        "Git repository": str(repo.repo_path(app)),
        "Git deploy branch": " or ".join(repo.deploy_branches(app)),
    }
