"""The network plugin's decisions: which network a container is created on, which it
joins after create, and the names it answers to there. The Docker side is covered
by tests/e2e/test_storage_resources.py."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.registry import Registry
from appliance.state import App


def _module(name: str | None = None) -> Any:
    registry = Registry()
    return registry.import_module(registry.get("network"), name)


class _Network:
    def __init__(self, name: str, labels: dict[str, str] | None, id: str) -> None:
        self.name, self.id, self.attrs = name, id, {"Labels": labels}


class _Networks:
    """What dockerd answers: the `name` filter matches part of a name, the label filter
    only the key (the value is the caller's to check)."""

    def __init__(self, found: list[_Network]) -> None:
        self.found = found

    def list(self, names: list[str], filters: dict[str, str] | None = None) -> list[_Network]:
        label = (filters or {}).get("label")
        return [n for n in self.found if any(x in n.name for x in names)
                and (label is None or label in (n.attrs["Labels"] or {}))]  # fmt: skip

    def create(self, name: str, driver: str, labels: dict[str, str]) -> None:
        self.found.append(_Network(name, labels, f"new{len(self.found)}"))


class _Engine:
    def __init__(self, *found: _Network) -> None:
        self.networks = _Networks(list(found))


OURS = [_Network("front", {"appliance.network": "1"}, "aaa1"),
        _Network("back", {"appliance.network": "1"}, "bbb2"),
        _Network("shared", {"appliance.network": "1"}, "ccc3")]  # fmt: skip


def test_phases_of_joining(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_module("engine"), "client", lambda: _Engine(*OURS))
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


def test_only_networks_made_by_network_create(monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.errors import NotFound

    engine = _module("engine")
    docker = _Engine(
        _Network("front", {"appliance.network": "1"}, "aaa1"),
        _Network("front-other", {"appliance.network": "1"}, "ddd4"),
        _Network("tenant", {"com.example": "x"}, "eee5"),
        _Network("fake", {"appliance.network": "0"}, "fff6"),
        _Network("host", None, "ggg7"),
    )
    assert engine.get(docker, "front").id == "aaa1"
    for name in ("tenant", "fake", "host", "fron", "aaa1", "ddd", "missing"):
        with pytest.raises(NotFound, match="was not created by network:create"):
            engine.get(docker, name)


def test_network_set_refuses_a_network_it_did_not_make(
    run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_module("engine"), "client", lambda: _Engine(
        _Network("tenant", {"other": "1"}, "abc"), *OURS))  # fmt: skip
    assert run("apps:create", "hello").code == 0
    for phase in ("initial-network", "attach-post-create", "attach-post-deploy"):
        result = run("network:set", "hello", phase, "tenant")
        assert result.code != 0 and "was not created by network:create" in result.err
        assert len(result.err.strip().splitlines()) == 1
    assert App("hello").settings.table("network") == {}
    assert run("network:set", "hello", "attach-post-deploy", "shared").code == 0
    assert App("hello").settings.table("network") == {"post_deploy": "shared"}


def test_a_kept_network_no_longer_ours_is_refused_at_create(
    run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appliance.errors import UserError

    docker = _Engine(_Network("front", {"other": "1"}, "abc"))  # replaced outside the appliance
    monkeypatch.setattr(_module("engine"), "client", lambda: docker)
    assert run("apps:create", "hello").code == 0
    app = App("hello")
    app.settings.set("network", "initial", "front")
    with pytest.raises(UserError, match="'front' was not created by network:create"):
        _module().appliance_container_options(app, "web", "deploy")
    app.settings.update("network", {"initial": "host"})  # app.toml edited by hand
    with pytest.raises(UserError, match="invalid network name 'host'"):
        _module().appliance_container_options(app, "web", "deploy")


def test_create_refuses_any_taken_name_and_labels_its_own() -> None:
    from appliance.errors import Conflict

    engine = _module("engine")
    docker = _Engine(_Network("tenant", None, "abc123"))
    with pytest.raises(Conflict, match="'tenant' already exists"):
        engine.create(docker, "tenant")
    engine.create(docker, "ten")  # a part of a name, or an id prefix, is another name
    engine.create(docker, "abc")
    assert engine.get(docker, "ten").attrs["Labels"] == {"appliance.network": "1"}
    assert engine.get(docker, "abc").name == "abc"
