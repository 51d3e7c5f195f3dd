"""The network plugin's decisions: which network a container is created on, which it
joins after create, and the names it answers to there. The Docker side is covered
by tests/e2e/test_storage_resources.py."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.plugins import Registry
from appliance.state import App


def _module(name: str | None = None) -> Any:
    registry = Registry()
    return registry.import_module(registry.get("network"), name)


def test_phases_of_joining(run) -> None:
    assert run("apps:create", "hello").code == 0
    app = App("hello")
    settings, plugin = _module("settings"), _module()
    assert plugin.appliance_container_options(app, "web", "deploy") == {}
    app.settings.update("network", {"initial": "front", "post_create": "back",
                                    "post_deploy": "shared"})  # fmt: skip
    assert plugin.appliance_container_options(app, "web", "deploy") == {"network": "front"}
    assert settings.to_connect(app, "deploy") == ["back"]
    assert settings.to_connect(app, "run") == ["back", "shared"]
    assert settings.to_connect(app, "restore") == ["back", "shared"]
    app.settings.update("network", {"initial": "shared", "post_create": "shared"})
    assert settings.to_connect(app, "run") == []  # already on it from the start
    assert settings.users("shared") == ["hello"] and settings.users("other") == []
    assert settings.aliases("hello", "web", "2") == ["hello.web", "hello.web.2"]
    assert settings.aliases("hello", "run", None) == []
    report = run("apps:report", "hello").out
    assert "shared (initial-network)" in report and "shared (attach-post-deploy)" in report


@pytest.mark.parametrize("name", ["bridge", "host", "Bad", ".x", "a" * 64, "a/b"])
def test_bad_network_names(run, name: str) -> None:
    assert run("apps:create", "hello").code == 0
    result = run("network:set", "hello", "attach-post-deploy", name)
    assert result.code != 0 and "invalid network name" in result.err
    assert run("network:create", name).code != 0


def test_unset_needs_no_docker(run) -> None:
    assert run("apps:create", "hello").code == 0
    App("hello").settings.set("network", "post_deploy", "shared")
    assert run("network:set", "hello", "attach-post-deploy").code == 0
    assert App("hello").settings.table("network") == {}
    assert run("network:set", "hello", "sideways", "x").code == 2
