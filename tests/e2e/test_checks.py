"""Checks on a real host: a release whose app.json healthcheck fails is refused while
the old one serves on; checks:run probes the live containers; checks:skip lets the
same release through; a CHECKS file and the default uptime + TCP check work too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .conftest import FIXTURES, Host, commit, make_repo


def use_fixture(repo: Path, fixture: str) -> None:
    for name in ("app.json", "message.txt"):
        shutil.copy(FIXTURES / "apps" / fixture / name, repo / name)
    commit(repo, fixture)


def test_failing_healthcheck_refuses_the_deploy(host: Host, tmp_path: Path) -> None:
    app = host.new_app("checks")
    repo = make_repo(tmp_path, "checks-good")

    good = host.push(repo, app)
    assert good.returncode == 0, good.stderr
    assert "-----> Running checks for web" in good.stderr
    assert f"{app}.web." in good.stderr and 'startup "health" (GET /health): passed' in good.stderr
    status, body = host.get(app)
    assert (status, body.splitlines()[0]) == (200, "checks v1")

    use_fixture(repo, "checks-bad")
    bad = host.push(repo, app)
    assert bad.returncode != 0
    assert 'check "health" of web failed on' in bad.stderr
    assert "after 2 attempts" in bad.stderr
    assert 'Expected: status 2xx or 3xx and a body containing "status: never"' in bad.stderr
    assert 'Got:      status 200, body without it: "status: ok\\nchecks v2\\n"' in bad.stderr
    assert "Last 20 log lines of" in bad.stderr and '"GET /health HTTP/1.1" 200' in bad.stderr
    assert "pre-receive hook declined" in bad.stderr
    assert host.get(app)[1].startswith("checks v1\n")  # the old release serves on

    live = host.ssh("checks:run", app)
    assert live.returncode == 0, live.stderr
    assert "-----> Running checks for web" in live.stdout
    assert "Checks passed for" in live.stdout

    report = json.loads(host.ssh("checks:report", app, "--format", "json").stdout)
    assert report["processes"]["web"]["summary"] == "app.json (1 check)"
    assert report["processes"]["web"]["status"] == "enabled"

    skipped = host.ssh("checks:skip", app)
    assert skipped.returncode == 0, skipped.stderr
    through = host.push(repo, app)
    assert through.returncode == 0, through.stderr
    assert "Checks skipped for web" in through.stderr
    assert "Running checks" not in through.stderr
    assert host.get(app)[1].startswith("checks v2\n")

    failing = host.ssh("checks:run", app)  # the bad release is live now: its check fails
    assert failing.returncode == 1
    assert 'check "health" of web failed' in failing.stderr


def test_checks_file_and_the_default_check(host: Host, tmp_path: Path) -> None:
    app = host.new_app("checks")
    repo = make_repo(tmp_path, "dockerfile-hello")
    (repo / "app.json").unlink()  # no declared checks: the default applies
    commit(repo, "no app.json")
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("checks:set", app, "uptime", "1").returncode == 0

    default = host.push(repo, app)
    assert default.returncode == 0, default.stderr
    assert "No healthchecks for web in app.json: default (uptime 1 s + TCP)" in default.stderr
    assert 'startup "uptime" (uptime 1 s): passed' in default.stderr
    assert 'startup "listening" (TCP connect): passed' in default.stderr

    (repo / "CHECKS").write_text("WAIT=1\nATTEMPTS=2\nTIMEOUT=2\n/ hello v2\n")
    (repo / "message.txt").write_text("hello v1 again\n")
    commit(repo, "CHECKS that fail")
    refused = host.push(repo, app)
    assert refused.returncode != 0
    assert "Using CHECKS as app.json healthchecks for web (1 check)" in refused.stderr
    assert 'check "CHECKS /" of web failed' in refused.stderr
    assert 'a body containing "hello v2"' in refused.stderr
    assert host.get(app)[1].startswith("hello v1\n")

    (repo / "message.txt").write_text("hello v2\n")
    commit(repo, "CHECKS that pass")
    passed = host.push(repo, app)
    assert passed.returncode == 0, passed.stderr
    assert 'startup "CHECKS /" (GET /): passed' in passed.stderr
    assert host.get(app)[1].startswith("hello v2\n")
    report = json.loads(host.ssh("checks:report", app, "--format", "json").stdout)
    assert report["processes"]["web"]["summary"] == "CHECKS file (1 check)"
