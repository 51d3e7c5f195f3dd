"""The host object: `boot.open_appliance`, `Appliance` and the hook relay
(`appliance.hook`), whose hook specs say what a failure does."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from appliance import hookspecs
from appliance.boot import open_appliance
from appliance.errors import PluginError, UserError
from appliance.host import Appliance
from appliance.output import Output
from appliance.registry import Registry
from appliance.state import App
from tests.unit.test_hooks import RECORDER, add_plugin, calls

# Two reporters and a pair of app_created listeners. FAKE_FAIL=<plugin> makes that
# plugin's hooks raise; FAKE_USER_ERROR=<plugin> makes them raise a UserError.
REPORTER = (
    RECORDER
    + """
from appliance.errors import UserError


def trouble():
    if os.environ.get("FAKE_FAIL") == PLUGIN:
        raise RuntimeError(f"{PLUGIN} exploded")
    if os.environ.get("FAKE_USER_ERROR") == PLUGIN:
        raise UserError(f"{PLUGIN} says no")


@hookimpl
def appliance_app_report(app, appliance):
    trouble()
    appliance.out.info(f"{PLUGIN} reporting for {appliance.user}")
    return {"plugin": PLUGIN, "app": app.name, "user": appliance.user}


@hookimpl
def appliance_app_created(app, out, appliance):
    record("appliance_app_created", app=app.name, user=appliance.user)
    trouble()
"""
)


@pytest.fixture
def reporters(root: Path, run) -> App:  # type: ignore[no-untyped-def]
    """The app hello, with the reporters `first` and `second` installed."""
    assert run("apps:create", "hello").code == 0
    add_plugin(root, "first", REPORTER)
    add_plugin(root, "second", REPORTER)
    return App("hello")


def mine(results: list[Any]) -> list[Any]:
    """The results of the test plugins, leaving out the built-in reporters'."""
    return [r for r in results if "first" in str(r) or "second" in str(r)]


# --- boot.open_appliance --------------------------------------------------------


def test_open_appliance_reads_the_roots_plugins_with_the_hook_specs(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_plugin(root, "first", REPORTER)
    appliance = open_appliance()
    assert isinstance(appliance, Appliance) and isinstance(appliance.out, Output)
    assert appliance.registry.specs is hookspecs
    assert {"apps", "git", "first"} <= set(appliance.registry.plugins)
    assert appliance.user.startswith("local:")  # no key: the unix user on the host
    monkeypatch.setenv("APPLIANCE_USER", "alice")
    assert open_appliance().user == "alice"
    out = Output()
    given = open_appliance(out, user="bob")
    assert (given.out, given.user) == (out, "bob")
    assert repr(given) == "Appliance(user='bob')"


def test_a_registry_without_specs_routes_commands_but_fires_no_hook(root: Path) -> None:
    bare = Registry()
    assert bare.command("apps:create") is not None
    with pytest.raises(PluginError, match="built without hook specifications"):
        bare.pm  # noqa: B018
    with pytest.raises(PluginError, match="built without hook specifications"):
        Appliance(bare, Output(), "alice").hook.appliance_app_urls(app=App("hello"))


# --- the relay -------------------------------------------------------------------


def test_an_unknown_hook_name_raises_attribute_error_at_once(appliance: Appliance) -> None:
    with pytest.raises(AttributeError, match="no hook named 'appliance_no_such_hook'"):
        appliance.hook.appliance_no_such_hook  # noqa: B018 - raises before any call
    with pytest.raises(AttributeError):
        appliance.hook.call  # noqa: B018 - the old Hooks API is gone
    assert not hasattr(appliance.hook, "appliance_app_urlz")
    assert hasattr(appliance.hook, "appliance_app_urls")


def test_the_appliance_argument_is_filled_in(reporters: App) -> None:
    appliance = open_appliance(Output(), user="alice")
    reports = appliance.hook.appliance_app_report(app=reporters)
    assert sorted(map(str, mine(reports))) == sorted(
        str({"plugin": name, "app": "hello", "user": "alice"}) for name in ("first", "second")
    )
    other = open_appliance(Output(), user="bob")
    given = appliance.hook.appliance_app_report(app=reporters, appliance=other)
    assert {r["user"] for r in mine(given)} == {"bob"}  # one given is kept


def test_a_failing_hook_raises_plugin_error_naming_the_plugin(
    reporters: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    appliance = open_appliance(Output())
    monkeypatch.setenv("FAKE_FAIL", "second")
    with pytest.raises(
        PluginError, match="plugin second: appliance_app_report failed: RuntimeError: second ex"
    ):
        appliance.hook.appliance_app_report(app=reporters)
    monkeypatch.setenv("FAKE_FAIL", "")
    monkeypatch.setenv("FAKE_USER_ERROR", "first")
    with pytest.raises(UserError) as raised:  # the user's message, as it is
        appliance.hook.appliance_app_report(app=reporters)
    assert str(raised.value) == "first says no" and not isinstance(raised.value, PluginError)


def test_an_isolated_event_turns_a_failure_into_a_warning_naming_the_plugin(
    reporters: App, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from appliance.markers import ISOLATED_ATTR

    assert getattr(hookspecs.appliance_app_created, ISOLATED_ATTR) is True
    appliance = open_appliance(Output(), user="alice")
    capsys.readouterr()
    monkeypatch.setenv("FAKE_FAIL", "first")
    assert appliance.hook.appliance_app_created(app=reporters, out=appliance.out) is None
    assert "plugin first: appliance_app_created failed: first exploded" in capsys.readouterr().err
    assert sorted(c["plugin"] for c in calls(root, "appliance_app_created")) == [
        "first",
        "second",
    ]  # the failure stopped nothing
    assert {c["user"] for c in calls(root)} == {"alice"}
    monkeypatch.setenv("FAKE_FAIL", "")
    monkeypatch.setenv("FAKE_USER_ERROR", "second")
    appliance.hook.appliance_app_created(app=reporters, out=appliance.out)
    assert "plugin second: appliance_app_created failed: second says no" in (
        capsys.readouterr().err
    )


def test_by_plugin_pairs_each_result_with_its_plugin(
    reporters: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    appliance = open_appliance(Output(), user="alice")
    paired = appliance.hook.appliance_app_report.by_plugin(app=reporters)
    assert all(isinstance(name, str) and name in appliance.registry.plugins for name, _ in paired)
    assert {name: result["plugin"] for name, result in mine(paired)} == {
        "first": "first",
        "second": "second",
    }
    assert "apps" in dict(paired)  # the built-in reporter too
    plain = appliance.hook.appliance_app_report(app=reporters)
    assert [result for _, result in paired] == plain  # the same results, in the same order
    monkeypatch.setenv("FAKE_FAIL", "first")
    with pytest.raises(PluginError, match="plugin first: appliance_app_report failed"):
        appliance.hook.appliance_app_report.by_plugin(app=reporters)



def test_by_plugin_on_an_isolated_event_warns_and_leaves_the_failing_plugin_out(
    reporters: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    appliance = open_appliance(Output(), user="alice")
    capsys.readouterr()
    monkeypatch.setenv("FAKE_FAIL", "first")
    paired = appliance.hook.appliance_app_created.by_plugin(app=reporters, out=appliance.out)
    assert "first" not in dict(paired) and "second" in dict(paired)
    assert "plugin first: appliance_app_created failed: first exploded" in capsys.readouterr().err

# --- the appliance ---------------------------------------------------------------


def test_with_output_is_the_same_appliance_printing_elsewhere(
    reporters: App, capsys: pytest.CaptureFixture[str]
) -> None:
    appliance = open_appliance(Output(), user="alice")
    appliance.hook.appliance_app_report(app=reporters)  # loads the plugins
    capsys.readouterr()
    log = io.StringIO()
    logged = appliance.with_output(Output(stream=log))
    assert logged is not appliance and logged.out.stream is log
    assert logged.registry is appliance.registry and logged.user == "alice"
    reports = logged.hook.appliance_app_report(app=reporters)
    assert {r["user"] for r in mine(reports)} == {"alice"}
    assert "first reporting for alice" in log.getvalue()  # hooks get the new appliance
    assert "reporting" not in capsys.readouterr().out
    assert appliance.out.stream is not log  # the original prints where it did


def test_reload_plugins_sees_a_plugin_added_since(appliance: Appliance, root: Path) -> None:
    assert "first" not in appliance.registry.plugins
    add_plugin(root, "first", REPORTER)
    appliance.reload_plugins()
    assert "first" in appliance.registry.plugins
    assert appliance.registry.specs is hookspecs


def test_verify_plugin_loads_one_plugin_on_its_own(appliance: Appliance, root: Path) -> None:
    add_plugin(root, "first", REPORTER)
    add_plugin(root, "broken", "raise RuntimeError('cannot import')\n", ["appliance_app_report"])
    add_plugin(
        root,
        "typo",
        RECORDER + "\n@hookimpl\ndef appliance_app_reprot(app):\n    return {}\n",
        hooks=["appliance_app_report"],
    )
    appliance.reload_plugins()
    appliance.verify_plugin(appliance.registry.get("first"))
    with pytest.raises(PluginError, match="plugin broken failed to load: RuntimeError"):
        appliance.verify_plugin(appliance.registry.get("broken"))
    with pytest.raises(PluginError, match=r"plugin typo failed to load: .*'appliance_app_reprot'"):
        appliance.verify_plugin(appliance.registry.get("typo"))
    # Verifying loads nothing into the running appliance.
    assert not {"first", "typo"} & {name for name, _ in appliance.registry.pm.list_name_plugin()}


def test_a_commands_context_reaches_the_appliance(appliance: Appliance) -> None:
    from appliance.command import Context

    command = appliance.registry.command("apps:list")
    assert command is not None
    ctx = Context(command, [], appliance)
    assert (ctx.out, ctx.user, ctx.registry) == (
        appliance.out,
        appliance.user,
        appliance.registry,
    )
    assert ctx.access.user == appliance.user
