"""The scheduler and the proxy can be replaced whole (issue 11, point 4).

Two outside plugins built only on `appliance.api`, `fake-scheduler` (the scheduler
`fake`: processes are JSON records) and `fake-proxy` (records the targets), are
installed as a user would install them; the app is set to run on `fake`; then the
CLI drives a whole life: deploy an image, scale, logs, ps:report, run, run:detached,
run:list, enter, ps:stop, ps:start, a second deploy and a rollback. Docker cannot be
imported meanwhile and proxy-nginx is disabled: no engine, no nginx anywhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from appliance.state import App

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"


def scheduled(app: str) -> dict[str, Any]:
    return json.loads((App(app).path / "fake-scheduler.json").read_text())


def routed(app: str) -> list[str]:
    return list(json.loads((App(app).path / "fake-proxy.json").read_text())["targets"])


def live(app: str) -> list[str]:
    found = scheduled(app)
    return sorted(
        f"{r['process']}.{r['index']}:{r['status']}" for r in found["deploys"][str(found["live"])]
    )


@pytest.fixture
def no_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import docker` fails from here on: a plugin that reached for the engine fails
    the command it runs in."""
    for name in [m for m in sys.modules if m == "docker" or m.startswith("docker.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "docker", None)


@pytest.fixture
def fake(run: Any, no_docker: None) -> str:
    for plugin in ("fake-scheduler", "fake-proxy"):
        installed = run("plugin:install", str(FIXTURES / plugin))
        assert installed.code == 0, installed.err
    assert run("plugin:disable", "proxy-nginx").code == 0
    assert run("apps:create", "demo").code == 0
    chosen = run("scheduler:set", "demo", "fake")
    assert chosen.code == 0, chosen.err
    assert "demo runs on fake" in chosen.out
    routed_by = run("proxy:set", "demo", "fake")
    assert routed_by.code == 0, routed_by.err
    assert run("checks:skip", "demo").code == 0  # the checks would dial the targets
    return "demo"


def ok(run: Any, *argv: str) -> str:
    result = run(*argv)
    assert result.code == 0, f"{argv}: {result.err}"
    return str(result.out)


def test_a_whole_life_on_a_replacement_scheduler_and_proxy(run: Any, fake: str) -> None:
    before = set(sys.modules)
    deployed = ok(run, "git:from-image", fake, "registry.test/demo:1")
    assert "Application deployed: http://demo.fake.test/" in deployed
    assert live(fake) == ["web.1:running"]  # the image's Procfile: web and worker
    assert routed(fake) == ["127.0.0.1:40001"]
    assert scheduled(fake)["images"] == ["registry.test/demo:1"]

    ok(run, "ps:scale", fake, "web=2", "worker=1")
    assert live(fake) == ["web.1:running", "web.2:running", "worker.1:running"]
    assert routed(fake) == ["127.0.0.1:40001", "127.0.0.1:40002"]
    assert len(scheduled(fake)["deploys"]) == 1  # the old deploy was retired

    assert "web.2 | web web.2 says hello" in ok(run, "logs", fake)
    assert ok(run, "logs", fake, "--ps", "worker", "-q") == "worker worker.1 says hello\n"
    rows = json.loads(ok(run, "ps:report", fake, "--format", "json"))
    assert sorted(r["name"] for r in rows if r["current"]) == [
        "demo.web.1.2", "demo.web.2.2", "demo.worker.1.2",
    ]  # fmt: skip
    table = ok(run, "ps:report")
    assert "demo.worker.1.2" in table and "current" in table and "1m00s" in table

    assert ok(run, "run", fake, "echo", "hi") == "hi\n"
    assert run("run", fake, "exit 3").code == 3
    assert scheduled(fake)["runs"][-2:] == [
        {"argv": ["echo", "hi"], "mode": "attached", "image": "registry.test/demo:1"},
        {"argv": ["exit 3"], "mode": "attached", "image": "registry.test/demo:1"},
    ]
    assert "Started demo.run.1" in ok(run, "run:detached", fake, "sleep 60")
    listed = json.loads(ok(run, "run:list", fake, "--format", "json"))
    assert listed == [{"name": "demo.run.1", "command": "sleep 60", "uptime": 5}]
    assert ok(run, "enter", fake, "web.2", "--", "ls", "-l") == "web.2: ['ls', '-l']\n"
    assert run("enter", fake, "worker.9").code == 1

    assert "Stopping demo: 3 process(es)" in ok(run, "ps:stop", fake)
    assert live(fake) == ["web.1:exited", "web.2:exited", "worker.1:exited"]
    assert scheduled(fake)["stopped"] is True
    ok(run, "ps:start", fake)
    assert live(fake) == ["web.1:running", "web.2:running", "worker.1:running"]
    assert scheduled(fake)["stopped"] is False

    ok(run, "git:from-image", fake, "registry.test/demo:2")
    assert {r["image"] for r in scheduled(fake)["deploys"][str(scheduled(fake)["live"])]} == {
        "registry.test/demo:2"
    }
    ok(run, "releases:rollback", fake, "v1")
    found = scheduled(fake)
    assert {r["image"] for r in found["deploys"][str(found["live"])]} == {"registry.test/demo:1"}
    assert routed(fake) == ["127.0.0.1:40001", "127.0.0.1:40002"]
    assert "Fake processes" in ok(run, "apps:report", fake)
    loaded = set(sys.modules) - before
    assert not {m for m in loaded if m.split(".")[0] == "docker"}
    assert not {m for m in loaded if m.startswith("appliance_plugins.proxy_nginx")}


def test_a_running_app_keeps_its_scheduler_unless_forced(run: Any, fake: str) -> None:
    ok(run, "git:from-image", fake, "registry.test/demo:1")
    refused = run("scheduler:set", fake, "docker-local")
    assert refused.code == 1
    assert "demo run(s) on fake: stop it first (ps:stop demo)" in refused.err
    assert json.loads(ok(run, "scheduler:report", fake, "--format", "json"))["scheduler"] == "fake"
    assert run("scheduler:set-global", "fake").code == 0  # demo has a choice of its own
    assert run("scheduler:set", fake).code == 0  # back to the host's default: fake still
    assert run("scheduler:set-global").code == 1  # would move demo to docker-local

    ok(run, "ps:stop", fake)
    moved = run("scheduler:set", fake, "docker-local")  # stopped: nothing is left behind
    assert moved.code == 0 and "demo runs on docker-local" in moved.out


def test_forcing_a_switch_says_what_is_left_running(run: Any, fake: str) -> None:
    ok(run, "git:from-image", fake, "registry.test/demo:1")
    forced = run("scheduler:set", fake, "docker-local", "--force")
    assert forced.code == 0, forced.err
    assert "what fake runs for it keeps running, unmanaged" in forced.err
    report = json.loads(ok(run, "scheduler:report", "--format", "json"))
    assert report == {"apps": {"demo": "docker-local"}, "installed": ["docker-local", "fake"]}
