"""The docker-options plugin: the allow-list, the pointers to the commands that own
an option, host-only options, and the Docker SDK options they become."""

from __future__ import annotations

import json
from typing import Any

import pytest

from appliance.plugins import Registry
from appliance.state import App


def _module(name: str | None = None) -> Any:
    registry = Registry()
    return registry.import_module(registry.get("docker-options"), name)


def test_add_report_remove(run) -> None:
    assert run("apps:create", "hello").code == 0
    added = run(
        "docker-options:add", "hello", "deploy,run", "--add-host db.internal:10.0.0.5",
        "--shm-size=128m", "--ulimit", "nofile=1024:2048", "--init",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert run("docker-options:add", "hello", "run", "--tmpfs=/scratch:size=64m").code == 0
    shown = json.loads(run("docker-options:report", "hello", "--format", "json").out)
    common = ["--add-host=db.internal:10.0.0.5", "--shm-size=128m",
              "--ulimit=nofile=1024:2048", "--init"]  # fmt: skip
    assert shown == {"build": [], "deploy": common, "run": [*common, "--tmpfs=/scratch:size=64m"]}
    plugin = _module()
    deploy = plugin.appliance_container_options(App("hello"), "web", "restore")
    assert deploy == {
        "extra_hosts": {"db.internal": "10.0.0.5"},
        "shm_size": "128m",
        "ulimits": [{"name": "nofile", "soft": 1024, "hard": 2048}],
        "init": True,
    }
    oneoff = plugin.appliance_container_options(App("hello"), "run", "run")
    assert oneoff["tmpfs"] == {"/scratch": "size=64m"}

    assert run("docker-options:remove", "hello", "deploy", "--init").code == 0
    assert "init" not in plugin.appliance_container_options(App("hello"), "web", "deploy")
    assert run("docker-options:remove", "hello", "deploy", "--init").code != 0
    assert run("docker-options:clear", "hello").code == 0
    assert plugin.appliance_container_options(App("hello"), "web", "deploy") == {}


@pytest.mark.parametrize(
    "option, message",
    [
        ("-v /etc:/etc", "use storage:mount"),
        ("--volume=/x:/y", "use storage:mount"),
        ("--memory 1g", "use resource:limit"),
        ("--cpus=2", "use resource:limit"),
        ("--network host", "use network:set"),
        ("-p 80:80", "ports are the proxy's"),
        ("-e A=1", "use config:set"),
        ("--name x", "the scheduler names"),
        ("--restart always", "ps:set APP restart-policy"),
        ("--privileged", "never allowed"),
        ("--pid=host", "unsupported docker option --pid"),
        ("--add-host nohost", "use HOST:IP"),
        ("--add-host db:999.1.1.1", "is not an IP address"),
        ("--shm-size lots", "invalid --shm-size"),
        ("--ulimit nofile", "invalid --ulimit"),
        ("--tmpfs /x/../etc", "invalid --tmpfs"),
        ("--sysctl vm.swappiness=1", "invalid --sysctl"),
        ("--user 'root;rm'", "invalid --user"),
        ("--init=yes", "--init takes no value"),
        ("--dns", "--dns needs a value"),
        ("plain", "is not an option"),
    ],
)
def test_refused_options(run, option: str, message: str) -> None:
    assert run("apps:create", "hello").code == 0
    result = run("docker-options:add", "hello", "deploy", option)
    assert result.code != 0 and message in result.err, result.err
    assert App("hello").settings.table("docker-options") == {}


def test_phases(run) -> None:
    assert run("apps:create", "hello").code == 0
    refused = run("docker-options:add", "hello", "build,deploy", "--add-host=a:1.2.3.4", "--init")
    assert refused.code != 0 and "--init cannot apply to builds" in refused.err
    assert run("docker-options:add", "hello", "deploy,later", "--init").code == 2
    added = run("docker-options:add", "hello", "build", "--add-host a.test:10.0.0.1",
                "--shm-size=256m")  # fmt: skip
    assert added.code == 0 and "from the next push" in added.out
    from appliance.deploy import Deploy
    from appliance.output import Output

    job = Deploy(app=App("hello"), out=Output(), id=1, release=1, user="alice")
    options = _module().appliance_build_options(deploy=job)
    assert options == {"extra_hosts": {"a.test": "10.0.0.1"}, "shm_size": "256m"}
    assert _module().appliance_container_options(App("hello"), "web", "deploy") == {}


@pytest.mark.parametrize(
    "option", ["--device /dev/fuse", "--cap-add SYS_ADMIN", "--cap-add=ALL",
               "--security-opt seccomp=unconfined", "--oom-score-adj=-500"],
)  # fmt: skip
def test_host_reaching_options_only_from_the_host(
    run, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    assert run("apps:create", "hello").code == 0
    monkeypatch.setenv("APPLIANCE_USER", "alice")  # as over SSH
    remote = run("docker-options:add", "hello", "deploy", option)
    assert remote.code != 0 and "reaches into the host" in remote.err
    monkeypatch.delenv("APPLIANCE_USER")  # on the host: local:<user>
    assert run("docker-options:add", "hello", "deploy", option).code == 0


def test_harmless_capabilities_over_ssh(run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("apps:create", "hello").code == 0
    monkeypatch.setenv("APPLIANCE_USER", "alice")
    assert run("docker-options:add", "hello", "deploy", "--cap-add NET_BIND_SERVICE",
               "--cap-drop=ALL", "--security-opt", "no-new-privileges").code == 0  # fmt: skip
    options = _module().appliance_container_options(App("hello"), "web", "deploy")
    assert options == {"cap_add": ["NET_BIND_SERVICE"], "cap_drop": ["ALL"],
                       "security_opt": ["no-new-privileges"]}  # fmt: skip
