"""Process types and scaling: workers run beside web, nginx balances across web."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .conftest import Host, make_repo


def containers(app: str) -> dict[str, int]:
    listed = subprocess.run(
        ["docker", "ps", "--filter", f"label=appliance.app={app}",
         "--format", '{{.Label "appliance.process"}} {{.Label "appliance.deploy"}}'],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    rows = [line.split() for line in listed if line.strip()]
    newest = max(int(deploy) for _, deploy in rows)
    counts: dict[str, int] = {}
    for process, deploy in rows:
        if int(deploy) == newest:
            counts[process] = counts.get(process, 0) + 1
    return counts


def test_scale_web_and_workers(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "workers")
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("checks:set", app, "wait-to-retire", "0").returncode == 0
    pushed = host.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    assert containers(app) == {"web": 1, "worker": 1}  # app.json formation
    shown = json.loads(host.ssh("ps:scale", app, "--format", "json").stdout)
    assert shown == {"web": 1, "worker": 1}

    scaled = host.ssh("ps:scale", app, "web=3", "worker=2")
    assert scaled.returncode == 0, scaled.stderr
    assert containers(app) == {"web": 3, "worker": 2}
    seen = {host.get(app)[1].strip() for _ in range(30)}
    assert seen == {"dyno=web.1", "dyno=web.2", "dyno=web.3"}
    logs = host.ssh("logs", app, "--ps", "worker", "-n", "50").stdout
    assert "worker worker.1 is working" in logs and "worker worker.2 is working" in logs

    every = json.loads(host.ssh("ps:report", "--format", "json").stdout)
    mine = [r for r in every[app] if r["current"]]
    assert sorted(r["process"] for r in mine) == ["web", "web", "web", "worker", "worker"]
    assert all(r["status"] == "running" and r["restarts"] == 0 for r in mine)
    table = host.ssh("ps:report").stdout
    assert app in table and "RESTARTS" in table

    assert host.ssh("ps:scale", app, "web=1", "worker=0").returncode == 0
    assert containers(app) == {"web": 1}
    assert host.ssh("ps:scale", app, "web=x").returncode == 1
    assert host.ssh("ps:scale", app, "Bad_Type=1").returncode == 1


def test_one_off_processes(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "workers")
    assert host.push(repo, app).returncode == 0
    assert host.ssh("config:set", app, "'GREETING=hi there'").returncode == 0
    ran = host.ssh("run", app, "python3", "-c", "'import os; print(os.environ[\"GREETING\"])'")
    assert (ran.returncode, ran.stdout) == (0, "hi there\n"), ran.stderr
    failed = host.ssh("run", app, "'echo failing >&2; exit 7'")
    assert failed.returncode == 7 and "failing" in failed.stdout + failed.stderr
    started = host.ssh("run:detached", app, "'echo detached; sleep 1'")
    assert started.returncode == 0 and f"Started {app}.run." in started.stdout
    assert host.ssh("run", app).returncode == 2


def test_stop_start_and_restart_policy(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "workers")
    assert host.push(repo, app).returncode == 0
    assert host.get(app)[0] == 200
    assert host.ssh("ps:stop", app).returncode == 0
    assert host.get(app)[0] == 502
    set_policy = host.ssh("scheduler-docker:set", app, "restart-policy", "on-failure:3")
    assert set_policy.returncode == 0, set_policy.stderr
    assert host.ssh("scheduler-docker:set", app, "restart-policy", "sometimes").returncode == 1
    started = host.ssh("ps:start", app)
    assert started.returncode == 0, started.stderr
    assert host.get(app)[0] == 200
    current = [r for r in json.loads(host.ssh("ps:report", app, "--format", "json").stdout)
               if r["current"]]  # fmt: skip
    policy = subprocess.run(
        ["docker", "inspect", "--format", "{{json .HostConfig.RestartPolicy}}", current[0]["name"]],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert json.loads(policy) == {"Name": "on-failure", "MaximumRetryCount": 3}
