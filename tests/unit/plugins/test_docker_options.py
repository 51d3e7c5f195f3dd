"""The docker-options plugin: the allow-list, the pointers to the commands that own
an option, host-only options, and the Docker SDK options they become."""

from __future__ import annotations

import json
from typing import Any

import pytest

from appliance.host import Appliance
from appliance.registry import Registry
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


def test_phases(run, appliance: Appliance) -> None:
    assert run("apps:create", "hello").code == 0
    refused = run("docker-options:add", "hello", "build,deploy", "--add-host=a:1.2.3.4", "--init")
    assert refused.code != 0 and "--init cannot apply to builds" in refused.err
    assert run("docker-options:add", "hello", "deploy,later", "--init").code == 2
    added = run("docker-options:add", "hello", "build", "--add-host a.test:10.0.0.1",
                "--shm-size=256m")  # fmt: skip
    assert added.code == 0 and "from the next push" in added.out
    from appliance.deploy import Deploy

    job = Deploy(app=App("hello"), out=appliance.out, id=1, release=1, user="alice",
                 appliance=appliance)  # fmt: skip
    options = _module().appliance_build_options(deploy=job)
    assert options == {"extra_hosts": {"a.test": "10.0.0.1"}, "shm_size": "256m"}
    assert _module().appliance_container_options(App("hello"), "web", "deploy") == {}


@pytest.mark.parametrize(
    "option", ["--device /dev/fuse", "--oom-score-adj=-500"],
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


ADDABLE = ("AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, IPC_LOCK, KILL, MKNOD, "
           "NET_BIND_SERVICE, NET_RAW, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT")  # fmt: skip


@pytest.mark.parametrize("remote", [True, False])
@pytest.mark.parametrize(
    "option, message",
    [
        ("--cap-add CAP_CAP_SYS_ADMIN", "CAP_SYS_ADMIN is not a Linux capability"),
        ("--cap-add=CAP_CAP_DAC_READ_SEARCH", "CAP_DAC_READ_SEARCH is not a Linux capability"),
        ("--cap-add SYS_ADMIN", "--cap-add SYS_ADMIN is not allowed"),
        ("--cap-add=sys_admin", "--cap-add SYS_ADMIN is not allowed"),
        ("--cap-add cap_sys_module", "--cap-add SYS_MODULE is not allowed"),
        ("--cap-add=Cap_Sys_Ptrace", "--cap-add SYS_PTRACE is not allowed"),
        ("--cap-add=DAC_READ_SEARCH", "--cap-add DAC_READ_SEARCH is not allowed"),
        ("--cap-add=NET_ADMIN", "--cap-add NET_ADMIN is not allowed"),
        ("--cap-add=ALL", "--cap-add ALL is not allowed"),
        ("--cap-add=all", "--cap-add ALL is not allowed"),
        ("--cap-add=\u017fys_admin", "invalid --cap-add"),  # long s: upper() gives S
        ("--cap-add=SYS_\u0391DMIN", "invalid --cap-add"),  # Greek capital alpha
        ("--cap-add=CHOWN;SYS_ADMIN", "invalid --cap-add"),
        ("--cap-add=NOT_A_CAP", "NOT_A_CAP is not a Linux capability"),
        ("--cap-drop=CAP_CAP_CHOWN", "CAP_CHOWN is not a Linux capability"),
        ("--security-opt apparmor=docker-default", "only no-new-privileges"),
        ("--security-opt=apparmor=unconfined", "only no-new-privileges"),
        ("--security-opt seccomp=unconfined", "only no-new-privileges"),
        ("--security-opt=seccomp=/etc/x.json", "only no-new-privileges"),
        ("--security-opt label=type:spc_t", "only no-new-privileges"),
        ("--security-opt label:disable", "only no-new-privileges"),
        ("--security-opt no-new-privileges:false", "only no-new-privileges"),
        ("--log-driver syslog", "--log-driver 'syslog' is not allowed"),
        ("--log-driver=gelf", "--log-driver 'gelf' is not allowed"),
        ("--log-driver fluentd", "is not allowed"),
        ("--log-driver=splunk", "is not allowed"),
        ("--log-driver=awslogs", "is not allowed"),
        ("--log-opt syslog-address=tcp://10.0.0.1:514", "'syslog-address' is not allowed"),
        ("--log-opt gelf-address=udp://1.2.3.4:1", "'gelf-address' is not allowed"),
        ("--log-opt splunk-url=https://x", "'splunk-url' is not allowed"),
        ("--log-opt fluentd-address=1.2.3.4:24224", "is not allowed"),
        ("--log-opt max-size=2g", "a size from 1k to 1g"),
        ("--log-opt max-size=1", "a size from 1k to 1g"),
        ("--log-opt max-file=0", "1 to 100"),
        ("--log-opt max-file=101", "1 to 100"),
        ("--log-opt mode=lossy", "blocking or non-blocking"),
        ("--log-opt tag={{.Name}}", "invalid --log-opt tag"),
        ("--log-opt max-size", "use KEY=VALUE"),
    ],
)  # fmt: skip
def test_closed_allow_lists(
    run, monkeypatch: pytest.MonkeyPatch, remote: bool, option: str, message: str
) -> None:
    """Refused over SSH and on the host alike, whatever the spelling."""
    assert run("apps:create", "hello").code == 0
    if remote:
        monkeypatch.setenv("APPLIANCE_USER", "alice")
    result = run("docker-options:add", "hello", "deploy", option)
    assert result.code == 1 and message in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1
    assert App("hello").settings.table("docker-options") == {}


def test_refused_capability_lists_what_is_allowed(run) -> None:
    assert run("apps:create", "hello").code == 0
    result = run("docker-options:add", "hello", "deploy", "--cap-add", "CAP_SYS_ADMIN")
    assert result.code == 1 and f"--cap-add takes only {ADDABLE}" in result.err, result.err


def test_allowed_values_are_kept_normalised(run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("apps:create", "hello").code == 0
    monkeypatch.setenv("APPLIANCE_USER", "alice")
    added = run(
        "docker-options:add", "hello", "deploy", "--cap-drop=all", "--cap-add=cap_chown",
        "--cap-add", "Net_Bind_Service", "--cap-add=CAP_IPC_LOCK", "--cap-drop", "cap_sys_admin",
        "--security-opt=no-new-privileges=true", "--log-driver", "local",
        "--log-opt", "max-size=10m", "--log-opt=max-file=3", "--log-opt", "compress=true",
        "--log-opt=mode=non-blocking", "--log-opt", "max-buffer-size=4m", "--log-opt=tag=web",
    )  # fmt: skip
    assert added.code == 0, added.err
    shown = json.loads(run("docker-options:report", "hello", "--format", "json").out)
    assert shown["deploy"] == [
        "--cap-drop=ALL", "--cap-add=CHOWN", "--cap-add=NET_BIND_SERVICE", "--cap-add=IPC_LOCK",
        "--cap-drop=SYS_ADMIN", "--security-opt=no-new-privileges", "--log-driver=local",
        "--log-opt=max-size=10m", "--log-opt=max-file=3", "--log-opt=compress=true",
        "--log-opt=mode=non-blocking", "--log-opt=max-buffer-size=4m", "--log-opt=tag=web",
    ]  # fmt: skip
    options = _module().appliance_container_options(App("hello"), "web", "deploy")
    assert options["cap_add"] == ["CHOWN", "NET_BIND_SERVICE", "IPC_LOCK"]
    assert options["cap_drop"] == ["ALL", "SYS_ADMIN"]
    assert options["security_opt"] == ["no-new-privileges"]
    assert options["log_config"] == {"type": "local", "config": {
        "max-size": "10m", "max-file": "3", "compress": "true", "mode": "non-blocking",
        "max-buffer-size": "4m", "tag": "web"}}  # fmt: skip
    removed = run("docker-options:remove", "hello", "deploy", "--cap-add=chown")
    assert removed.code == 0, removed.err


def test_a_stored_option_no_longer_allowed_stops_the_container(run) -> None:
    """An app.toml edited by hand (or written by an older version) is checked again
    when a container is made, not trusted."""
    assert run("apps:create", "hello").code == 0
    App("hello").settings.set("docker-options", "deploy", ["--cap-add=CAP_CAP_SYS_ADMIN"])
    from appliance.errors import UserError

    with pytest.raises(UserError, match=r"stored deploy docker option '--cap-add=CAP_CAP_SYS_ADMIN'"
                       r" of hello is refused .* docker-options:clear hello deploy"):
        _module().appliance_container_options(App("hello"), "web", "deploy")
