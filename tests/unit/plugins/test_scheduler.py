"""The scheduler plugin and the scheduler hooks: a `test_hook_<name>` for each hook of
appliance/hookspecs/scheduler.py.

Each hook is driven as its command fires it, against the outside plugin
`tests/fixtures/plugins/fake-scheduler` (the scheduler `fake`), with Docker not
importable: the built-in `scheduler-docker` must answer None for an app it does not
run, so `fake` takes over whole.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from appliance.boot import open_appliance
from appliance.releases import current
from appliance.state import App

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plugins"


@pytest.fixture
def fake(run: Any, monkeypatch: pytest.MonkeyPatch) -> App:
    """App `demo` deployed on `fake` (fake-proxy routes it); `import docker` fails."""
    for name in [m for m in sys.modules if m == "docker" or m.startswith("docker.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "docker", None)
    for plugin in ("fake-scheduler", "fake-proxy"):
        assert run("plugin:install", str(FIXTURES / plugin)).code == 0
    assert run("plugin:disable", "proxy-nginx").code == 0
    assert run("apps:create", "demo").code == 0
    assert run("scheduler:set", "demo", "fake").code == 0
    assert run("proxy:set", "demo", "fake").code == 0
    assert run("checks:skip", "demo").code == 0
    deployed = run("git:from-image", "demo", "registry.test/demo:1")
    assert deployed.code == 0, deployed.err
    return App("demo")


def state(app: App) -> dict[str, Any]:
    return json.loads((app.path / "fake-scheduler.json").read_text())


def docker_answer(hook: str, **kwargs: Any) -> Any:
    """What scheduler-docker answers when `hook` is fired."""
    caller = getattr(open_appliance().hook, hook)
    return dict(caller.by_plugin(**kwargs))["scheduler-docker"]


def lost(app: App) -> None:
    """`app` is set to a scheduler no installed plugin is."""
    app.settings.set("scheduler", "selected", "gone")


def test_hook_appliance_app_scheduler(run: Any, root: Path) -> None:
    assert run("apps:create", "demo").code == 0
    hook = open_appliance().hook

    def chosen() -> str:
        return str(hook.appliance_app_scheduler(app=App("demo")))

    assert chosen() == "docker-local"
    assert run("plugin:install", str(FIXTURES / "fake-scheduler")).code == 0
    hook = open_appliance().hook
    assert run("scheduler:set-global", "fake").code == 0
    assert chosen() == "fake"
    assert run("scheduler:set", "demo", "docker-local").code == 0
    assert chosen() == "docker-local"
    report = json.loads(run("scheduler:report", "demo", "--format", "json").out)
    assert report == {
        "scheduler": "docker-local",
        "selected": "docker-local",
        "global": "fake",
        "installed": ["docker-local", "fake"],
    }
    assert "Host's default:       fake" in run("scheduler:report", "demo").out
    # An outside plugin's answer comes before the built-in default's (trylast).
    pinner = root / "plugins" / "pinner"
    pinner.mkdir(parents=True)
    (pinner / "plugin.toml").write_text('name = "pinner"\nhooks = ["appliance_app_scheduler"]\n')
    (pinner / "__init__.py").write_text(
        textwrap.dedent("""
            from appliance.api import hookimpl

            @hookimpl
            def appliance_app_scheduler(app):
                return "fake" if app.name == "demo" else None
        """)
    )
    hook = open_appliance().hook
    assert chosen() == "fake"


def test_hook_appliance_scheduler_names(run: Any) -> None:
    assert run("apps:create", "demo").code == 0
    refused = run("scheduler:set", "demo", "fake")
    assert refused.code == 1 and "(installed: docker-local; see plugin:list)" in refused.err
    assert run("scheduler:set", "demo", "No_Such").code == 1
    assert run("plugin:install", str(FIXTURES / "fake-scheduler")).code == 0
    assert open_appliance().hook.appliance_scheduler_names() == [["fake"], ["docker-local"]]
    assert run("scheduler:set", "demo", "fake").code == 0
    assert run("scheduler:set-global", "nope").code == 1


def test_hook_appliance_scheduler_stop(run: Any, fake: App) -> None:
    stopped = run("ps:stop", "demo")
    assert stopped.code == 0 and "Stopping demo: 1 process(es)" in stopped.out
    assert state(fake)["stopped"] is True
    assert docker_answer("appliance_scheduler_stop", app=fake) is None
    lost(fake)
    assert "no installed plugin is the scheduler of demo" in run("ps:stop", "demo").err


def test_hook_appliance_scheduler_report(run: Any, fake: App) -> None:
    rows = json.loads(run("ps:report", "demo", "--format", "json").out)
    assert [(r["name"], r["status"], r["current"]) for r in rows] == [
        ("demo.web.1.1", "running", True)
    ]
    every = json.loads(run("ps:report", "--format", "json").out)
    assert list(every) == ["demo"]
    assert docker_answer("appliance_scheduler_report", apps=[fake]) is None
    lost(fake)
    assert "no installed plugin is the scheduler 'gone' of demo" in run("ps:report", "demo").err
    warned = run("ps:report", "--format", "json")
    assert warned.code == 0 and json.loads(warned.out) == {"demo": []}
    assert "no installed plugin is the scheduler 'gone' of demo" in warned.err


def test_hook_appliance_scheduler_logs(run: Any, fake: App) -> None:
    assert run("logs", "demo", "-n", "5").out == "web.1 | web web.1 says hello\n"
    assert "demo has no running containers" in run("logs", "demo", "--ps", "worker").err
    assert run("logs", "demo", "--ps", "Bad_Type").code == 1
    answer = docker_answer(
        "appliance_scheduler_logs", app=fake, lines=1, follow=False, process=None, quiet=False
    )
    assert answer is None
    lost(fake)
    assert "no installed plugin is the scheduler 'gone' of demo" in run("logs", "demo").err


def test_hook_appliance_scheduler_run(run: Any, fake: App, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("run", "demo", "echo", "hi").out == "hi\n"
    assert run("run", "demo", "exit 3").code == 3
    assert run("run", "demo").code == 2  # no command
    assert run("run", "demo", "--", "echo", "--").out == "--\n"
    assert [r.get("mode") for r in state(fake)["runs"]] == ["attached"] * 3
    release = current(fake)
    answer = docker_answer(
        "appliance_scheduler_run", app=fake, release=release, argv=["true"], mode="tty"
    )
    assert answer is None
    lost(fake)
    assert run("run", "demo", "true").code == 1


def test_the_caller_decides_the_run_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.registry import Registry

    registry = Registry()
    caller = registry.import_module(registry.get("scheduler"), "caller")

    class Stream:
        def __init__(self, tty: bool, fd: int = 0) -> None:
            self.tty, self.fd = tty, fd

        def isatty(self) -> bool:
            return self.tty

        def fileno(self) -> int:
            return self.fd

    for stdin, stdout, mode in [
        (True, True, "tty"),
        (False, True, "piped"),
        (True, False, "attached"),
    ]:
        monkeypatch.setattr(sys, "stdin", Stream(stdin))
        monkeypatch.setattr(sys, "stdout", Stream(stdout, 1))
        assert caller.run_mode() == mode


def test_hook_appliance_scheduler_run_detached(run: Any, fake: App) -> None:
    started = run("run:detached", "demo", "sleep", "9")
    assert started.code == 0
    assert "Started demo.run.1 (see: appliance logs demo --ps run)" in started.out
    answer = docker_answer(
        "appliance_scheduler_run_detached", app=fake, release=current(fake), argv=["true"]
    )
    assert answer is None
    lost(fake)
    assert run("run:detached", "demo", "true").code == 1


def test_hook_appliance_scheduler_oneoffs(run: Any, fake: App) -> None:
    assert run("run:list", "demo").out == "demo has no one-off processes running\n"
    run("run:detached", "demo", "sleep 9")
    run("run:detached", "demo", "sleep 8")
    table = run("run:list", "demo").out
    assert table.splitlines()[0].split() == ["NAME", "COMMAND", "UP"]
    assert "demo.run.2  sleep 8  0m05s" in table
    listed = json.loads(run("run:list", "demo", "--format", "json").out)
    assert [r["name"] for r in listed] == ["demo.run.1", "demo.run.2"]
    assert docker_answer("appliance_scheduler_oneoffs", app=fake) is None
    lost(fake)
    assert run("run:list", "demo").code == 1


def test_hook_appliance_scheduler_enter(run: Any, fake: App) -> None:
    default_shell = run("enter", "demo").out
    assert default_shell.startswith("web.1: ['/bin/sh', '-c', 'if command -v bash")
    assert run("enter", "demo", "web.1", "--", "ls").out == "web.1: ['/bin/sh', '-c', 'ls']\n"
    assert run("enter", "demo", "--", "ls", "-l").out == "web.1: ['ls', '-l']\n"
    missing = run("enter", "demo", "web.9")
    assert missing.code == 1 and "demo has no running web.9" in missing.err
    assert run("enter").code == 2
    answer = docker_answer(
        "appliance_scheduler_enter", app=fake, container=None, command=["sh"], tty=False
    )
    assert answer is None
    lost(fake)
    assert run("enter", "demo").code == 1


def test_scheduler_docker_leaves_other_schedulers_apps_alone(fake: App) -> None:
    """Every scheduler-docker hook that acts on an app answers None for `fake`'s."""
    from appliance.runtime import Container

    box = Container("c1", "demo.web.1.1", "web", 1, "127.0.0.1", 40001)
    for hook, kwargs in [
        ("appliance_app_containers", {"app": fake}),
        ("appliance_container_exec", {"app": fake, "container": box, "command": ["true"]}),
        ("appliance_container_logs", {"app": fake, "container": box, "lines": 5}),
        ("appliance_container_state", {"app": fake, "container": box}),
        ("appliance_image_exists", {"image": "registry.test/demo:1", "app": fake}),
        ("appliance_image_prepare", {"image": "registry.test/demo:1", "app": fake}),
    ]:
        assert docker_answer(hook, **kwargs) is None, hook
    assert docker_answer("appliance_app_report", app=fake) == {}
