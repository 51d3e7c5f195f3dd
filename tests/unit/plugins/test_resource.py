"""The resource plugin: limit formats, per-type limits over the all-types default,
and the Docker options they become."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from appliance.registry import Registry
from appliance.state import App


def _plugin() -> Any:
    registry = Registry()
    return registry.import_module(registry.get("resource"))


def test_limits_become_docker_options(run) -> None:
    assert run("apps:create", "hello").code == 0
    assert run("resource:limit", "hello", "--memory", "512m", "--cpu", "1").code == 0
    assert run("resource:limit", "hello", "--memory", "1G", "--process-type", "worker").code == 0
    plugin = _plugin()
    web = plugin.appliance_container_options(app=App("hello"), process="web", phase="deploy")
    assert web == {"mem_limit": 512 * 2**20, "memswap_limit": 512 * 2**20, "nano_cpus": 10**9}
    worker = plugin.appliance_container_options(App("hello"), "worker", "deploy")
    assert worker["mem_limit"] == worker["memswap_limit"] == 2**30
    assert worker["nano_cpus"] == 10**9  # from the all-types default
    shown = json.loads(run("resource:report", "hello", "--format", "json").out)
    assert shown == {"all": {"memory": "512m", "cpu": "1"}, "worker": {"memory": "1g"}}

    assert run("resource:limit-clear", "hello", "--process-type", "worker").code == 0
    assert plugin.appliance_container_options(App("hello"), "worker", "run")["mem_limit"] == 2**29
    assert run("resource:limit-clear", "hello").code == 0
    assert plugin.appliance_container_options(App("hello"), "web", "deploy") == {}
    assert "none" in run("resource:report", "hello").out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--memory", "lots"], "invalid memory 'lots'"),
        (["--memory", "1m"], "below the 6m"),
        (["--memory", "1025g"], "above the 1024g"),
        (["--memory", "999999999999g"], "above the 1024g"),
        (["--memory=-5m"], "invalid memory"),
        (["--cpu", "fast"], "invalid cpu 'fast'"),
        (["--cpu", "0"], "must be between 0.01"),
        (["--cpu", str((os.cpu_count() or 1) + 1)], "the host's CPUs"),
        (["--memory", "64m", "--process-type", "Bad_Type"], "invalid process type"),
        ([], "give --memory and/or --cpu"),
    ],
)
def test_bad_limits_are_refused(run, args: list[str], message: str) -> None:
    assert run("apps:create", "hello").code == 0
    result = run("resource:limit", "hello", *args)
    assert result.code != 0 and message in result.err
    assert App("hello").settings.table("resource") == {}
