"""Deploy phases: app.json predeploy (committed into the image), the Procfile
release process, postdeploy scripts; a failing release phase refuses the deploy."""

from __future__ import annotations

from pathlib import Path

from .conftest import Host, commit, make_repo


def test_phases_run_in_order_and_a_failing_release_refuses(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "phases")
    first = host.push(repo, app)
    assert first.returncode == 0, first.stderr
    out = first.stderr
    order = [
        "Running predeploy", "predeploy ran", "Running release phase",
        "release phase ran with greeting=none", f"Starting {app}.web",
        "Switching traffic", "Running postdeploy", "postdeploy ran", "first deploy only",
    ]  # fmt: skip
    positions = [out.index(marker) for marker in order]
    assert positions == sorted(positions), out
    assert host.get(app)[1] == "predeploy=committed greeting=-\n"

    commit(repo, "second deploy")
    second = host.push(repo, app)
    assert second.returncode == 0 and "first deploy only" not in second.stderr

    configured = host.ssh("config:set", app, "GREETING=hi")
    assert configured.returncode == 0, configured.stderr
    assert "release phase ran with greeting=hi" in configured.stdout
    assert "Running predeploy" not in configured.stdout  # only after a build
    assert host.get(app)[1] == "predeploy=committed greeting=hi\n"

    refused = host.ssh("config:set", app, "FAIL_RELEASE=1")
    assert refused.returncode == 1
    assert "release phase failed with exit status 1" in refused.stderr
    assert host.get(app)[1] == "predeploy=committed greeting=hi\n"
    assert "no config var FAIL_RELEASE" in host.ssh("config:get", app, "FAIL_RELEASE").stderr
