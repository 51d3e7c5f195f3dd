"""Retire deadlines as state (scheduler-docker's retiring.py), against a stand-in engine
that lists and removes containers by label: what is past its deadline retires, only
the recorded app's old deploys, never the current one, and the record goes when done."""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import pytest

from appliance.registry import Registry
from appliance.state import App


def module(name: str) -> ModuleType:
    registry = Registry()
    return registry.import_module(registry.get("scheduler-docker"), name)


class FakeContainer:
    def __init__(self, engine: FakeEngine, name: str, labels: dict[str, str]) -> None:
        self.engine, self.name, self.labels, self.status = engine, name, labels, "running"

    def stop(self, timeout: int) -> None:
        self.status = "exited"

    def remove(self, force: bool = False) -> None:
        self.engine.found.remove(self)
        self.engine.removed.append(self.name)


class FakeEngine:
    def __init__(self) -> None:
        self.found: list[FakeContainer] = []
        self.removed: list[str] = []
        self.containers = self

    def add(self, app: str, deploy: int, app_id: str | None) -> None:
        labels = {"appliance.app": app, "appliance.deploy": str(deploy), "appliance.process": "web"}
        if app_id:
            labels["appliance.app-id"] = app_id
        self.found.append(FakeContainer(self, f"{app}.web.1-d{deploy}", labels))

    def list(
        self, all: bool, filters: dict[str, Any], ignore_removed: bool = False
    ) -> list[FakeContainer]:
        wanted = dict(label.split("=", 1) for label in filters["label"])
        return [k for k in self.found if all and wanted.items() <= k.labels.items()]


@pytest.fixture
def app(run) -> App:
    assert run("apps:create", "hello").code == 0
    return App("hello")


def test_every_app_gets_an_id_and_an_old_one_gets_one_once(run, app: App) -> None:
    first = app.settings.get("core", "id")
    assert first and len(first) == 16
    assert run("apps:create", "other").code == 0
    assert App("other").identity() != first
    app.settings.unset("core", "id")  # created before ids existed
    given = App("hello").identity()
    assert given and App("hello").identity() == given == App("hello").settings.get("core", "id")


def test_only_what_is_past_its_deadline_retires(app: App) -> None:
    retiring = module("retiring")
    engine = FakeEngine()
    app_id = app.identity()
    for deploy in (1, 2, 3):
        engine.add("hello", deploy, app_id)
    app.settings.set("core", "deploy", 3)
    retiring.schedule(app, 2, 0, 5)  # deploy 1 retires now
    retiring.schedule(app, 3, 60, 5)  # deploy 2 in a minute
    assert retiring.retire_due(app, engine) == 1
    assert engine.removed == ["hello.web.1-d1"]
    pending = retiring.window(app)
    assert [e.before for e in pending] == [3]
    assert retiring.retiring_until(pending, 2) == pytest.approx(time.time() + 60, abs=5)
    assert retiring.retire_due(app, engine) == 0
    retiring.schedule(app, 3, 0, 5)  # the window is over: deploy 2 goes, never 3
    assert retiring.retire_due(app, engine) == 1
    assert [k.name for k in engine.found] == ["hello.web.1-d3"]
    assert not (app.path / retiring.RECORD).exists()


def test_a_recreated_app_is_not_touched_by_the_old_record(run, app: App) -> None:
    retiring = module("retiring")
    engine = FakeEngine()
    old_id = app.identity()
    engine.add("hello", 1, old_id)  # survived its app's destroy (the engine was down)
    app.settings.set("core", "deploy", 2)
    retiring.schedule(app, 2, 0, 5)
    app.settings.set("core", "id", "0123456789abcdef")  # the app as created again
    engine.add("hello", 1, "0123456789abcdef")
    engine.add("hello", 2, "0123456789abcdef")
    assert retiring.retire_due(app, engine) == 1  # its own old deploy, as an orphan
    assert engine.removed == ["hello.web.1-d1"]
    assert [k.labels["appliance.app-id"] for k in engine.found] == [
        old_id,
        "0123456789abcdef",
    ]
    assert not (app.path / retiring.RECORD).exists()  # the old app's record is gone


def test_an_old_deploy_without_a_record_waits_while_a_deploy_holds_the_lock(app: App) -> None:
    retiring = module("retiring")
    engine = FakeEngine()
    engine.add("hello", 1, None)  # made before ids: no id label
    engine.add("hello", 2, app.identity())
    app.settings.set("core", "deploy", 2)
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl,sys,time; f=open(sys.argv[1],'a'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)",
         str(app.path / "lock")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert retiring.retire_due(app, engine) == 0
    finally:
        holder.kill()
        holder.wait()
    assert retiring.retire_due(app, engine) == 1
    assert engine.removed == ["hello.web.1-d1"]


def test_an_entry_made_moot_by_a_later_one_is_dropped(app: App) -> None:
    retiring = module("retiring")
    engine = FakeEngine()
    engine.add("hello", 1, app.identity())
    engine.add("hello", 2, app.identity())
    app.settings.set("core", "deploy", 2)
    retiring.schedule(app, 1, 60, 5)  # nothing older than deploy 1, in a minute
    retiring.schedule(app, 2, 0, 5)  # deploy 1 now: covers all the first one does
    assert [e.before for e in retiring.window(app)] == [2]
    assert retiring.retire_due(app, engine) == 1
    assert not (app.path / retiring.RECORD).exists()


def test_overdue_is_a_cheap_look(app: App) -> None:
    retiring = module("retiring")
    engine = FakeEngine()
    for deploy in (1, 2):
        engine.add("hello", deploy, app.identity())
    app.settings.set("core", "deploy", 2)
    retiring.schedule(app, 2, 60, 5)
    assert not retiring.overdue(app, engine.found, time.time())
    assert retiring.overdue(app, engine.found, time.time() + 61)
