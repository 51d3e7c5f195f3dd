"""The ps plugin's formation: ps:scale, else app.json's formation, else one web."""

from __future__ import annotations

from pathlib import Path

from appliance.boot import open_appliance
from appliance.deploy import Deploy
from appliance.output import Output
from appliance.state import App


def deploy_of(app: App, procfile: dict[str, str], app_json: dict | None = None) -> Deploy:
    appliance = open_appliance(Output())
    return Deploy(
        app=app, out=appliance.out, id=1, release=1, user="alice", appliance=appliance,
        procfile=procfile, app_json=app_json or {},
    )  # fmt: skip


def test_hook_appliance_formation(root: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    app = App("hello")
    app.path.mkdir(parents=True)
    job = deploy_of(app, {"web": "serve", "worker": "work", "release": "migrate"})
    fire = job.appliance.hook.appliance_formation
    assert fire(deploy=job) == {"web": 1}, "one web by default; other types start at 0"
    job.app_json = {"formation": {"worker": {"quantity": 2}}}
    assert fire(deploy=job) == {"web": 1, "worker": 2}
    app.settings.set("ps", "scale", {"web": 3, "clock": 1})
    assert fire(deploy=job) == {"web": 3}, "ps:scale wins; a type the release lacks is left out"
    assert "clock is scaled to 1, but the release has no clock" in capsys.readouterr().err


def test_formation_of_an_image_without_procfile_runs_its_web(root: Path) -> None:
    app = App("hello")
    app.path.mkdir(parents=True)
    job = deploy_of(app, {})
    assert job.appliance.hook.appliance_formation(deploy=job) == {"web": 1}
