"""cron: schedules, app.json entries, runs with their logs, the daemon's ticker."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from appliance import cli
from appliance.errors import UserError
from appliance.registry import Registry
from tests.unit.test_hooks import FAKE_PLATFORM, Platform, add_plugin, calls

NEEDS_DOCKER_OR_NGINX = ("builder-dockerfile", "builder-buildpack", "builder-auto",
                         "scheduler-docker", "proxy-nginx", "checks")  # fmt: skip


def cron_module(name: str):  # type: ignore[no-untyped-def]
    registry = Registry()
    return registry.import_module(registry.get("cron"), name)


@pytest.fixture
def schedule():  # type: ignore[no-untyped-def]
    return cron_module("schedule")


@pytest.fixture
def entries():  # type: ignore[no-untyped-def]
    return cron_module("entries")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("* * * * *", "2026-12-01T21:30:15", "2026-12-01T21:31"),
        ("*/15 * * * *", "2026-12-01T21:31", "2026-12-01T21:45"),
        ("*/15 * * * *", "2026-12-01T21:45", "2026-12-01T22:00"),
        ("5 4 * * *", "2026-12-01T21:31", "2026-12-02T04:05"),
        ("0 9-17/4 * * mon-fri", "2026-12-04T17:30", "2026-12-07T09:00"),  # Fri -> Mon
        ("30 2 1,15 * *", "2026-12-02T00:00", "2026-12-15T02:30"),
        ("0 0 29 2 *", "2026-03-01T00:00", "2028-02-29T00:00"),
        ("@daily", "2026-12-31T23:59", "2027-01-01T00:00"),
        ("@hourly", "2026-12-01T21:00", "2026-12-01T22:00"),
        ("@weekly", "2026-12-01T21:00", "2026-12-06T00:00"),  # a Sunday
        ("0 12 * jan,jul 7", "2026-12-01T00:00", "2027-01-03T12:00"),  # 7 is Sunday too
        ("0 0 13 * fri", "2026-12-01T00:00", "2026-12-04T00:00"),  # day OR weekday
        ("10/20 * * * *", "2026-12-01T21:31", "2026-12-01T21:50"),
    ],
)
def test_next_run(schedule, spec: str, after: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert schedule.parse(spec).next_after(at(after)) == at(expected)


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("", "empty schedule"),
        ("* * * *", "needs five fields"),
        ("60 * * * *", "minute '60' is out of range 0-59"),
        ("* 24 * * *", "hour '24' is out of range"),
        ("* * 0 * *", "day of month '0' is out of range 1-31"),
        ("* * * 13 *", "month '13'"),
        ("* * * * 8", "day of week '8'"),
        ("*/0 * * * *", "bad step"),
        ("5-1 * * * *", "bad range"),
        ("@reboot", "unknown schedule '@reboot'"),
        ("* * * * * *", "needs five fields"),
        ("a;b * * * *", "bad minute"),
    ],
)
def test_invalid_schedules_say_why(schedule, spec: str, error: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match=error.replace("*", r"\*")):
        schedule.parse(spec)


def test_matches(schedule) -> None:  # type: ignore[no-untyped-def]
    every_minute = schedule.parse("* * * * *")
    assert every_minute.matches(at("2026-12-01T21:30"))
    nightly = schedule.parse("0 3 * * *")
    assert nightly.matches(at("2026-12-01T03:00")) and not nightly.matches(at("2026-12-01T03:01"))


def test_entries_have_stable_ids_and_bad_ones_are_named(entries) -> None:  # type: ignore[no-untyped-def]
    found = entries.parse({"cron": [
        {"command": "python manage.py clear", "schedule": "@daily"},
        {"command": "echo hi", "schedule": "*/5 * * * *"},
    ]})  # fmt: skip
    assert [e.command for e in found] == ["python manage.py clear", "echo hi"]
    again = entries.parse({"cron": [{"command": "echo hi", "schedule": "*/5 * * * *"}]})
    assert again[0].id == found[1].id and len(found[0].id) == 8
    assert entries.parse({}) == []
    for bad, message in [
        ({"cron": {"command": "x"}}, "must be a list"),
        ({"cron": ["echo"]}, "entry 1 must be an object"),
        ({"cron": [{"schedule": "@daily"}]}, "entry 1 needs a command"),
        ({"cron": [{"command": "x"}]}, "entry 1 needs a schedule"),
        ({"cron": [{"command": "x", "schedule": "@daily"},
                   {"command": "y", "schedule": "61 * * * *"}]},
         r"entry 2: invalid schedule '61 \* \* \* \*': minute '61' is out of range"),
        ({"cron": [{"command": "a\nb", "schedule": "@daily"}]}, "must be one line"),
        ({"cron": [{"command": f"echo {i}", "schedule": "@daily"} for i in range(51)]},
         "at most 50 entries, got 51"),
        ({"cron": [{"command": "x" * 4097, "schedule": "@daily"}]},
         "entry 1: the command is longer than 4096 characters"),
        ({"cron": [{"command": "x", "schedule": "* " * 60}]},
         "entry 1: the schedule is longer than 100 characters"),
    ]:  # fmt: skip
        with pytest.raises(UserError, match=message):
            entries.parse(bad)


def test_ticker_catches_up_missed_minutes_once(root: Path) -> None:
    ticker = cron_module("ticker").Ticker(daemon=None)
    assert ticker.minutes(at("2026-12-01T21:30:00.5")) == [at("2026-12-01T21:30")]
    assert ticker.minutes(at("2026-12-01T21:30:59")) == []  # the same minute: nothing
    assert ticker.minutes(at("2026-12-01T21:33:00")) == [
        at("2026-12-01T21:31"), at("2026-12-01T21:32"), at("2026-12-01T21:33"),
    ]  # fmt: skip
    assert ticker.minutes(at("2026-12-02T08:00:00")) == [at("2026-12-02T08:00")]


APP_JSON = {"cron": [
    {"command": "echo tick", "schedule": "* * * * *"},
    {"command": "exit 3", "schedule": "@daily"},
]}  # fmt: skip


@pytest.fixture
def deployed(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Platform:
    for name in NEEDS_DOCKER_OR_NGINX:
        assert cli.main(["plugin:disable", name]) == 0
    add_plugin(root, "fake-platform", FAKE_PLATFORM)
    platform = Platform(root, tmp_path)
    (platform.source / "app.json").write_text(json.dumps(APP_JSON))
    platform.deploy()
    capsys.readouterr()
    return platform


def test_a_deploy_with_a_bad_entry_is_refused(deployed: Platform, root: Path) -> None:
    (deployed.source / "app.json").write_text(
        json.dumps({"cron": [{"command": "x", "schedule": "* * * 13 *"}]})
    )
    with pytest.raises(UserError, match=r"app\.json cron entry 1: invalid schedule"):
        deployed.deploy()
    assert deployed.release() == 1
    assert not calls(root, "appliance_build")[1:]  # refused before the build


def test_list_run_and_logs(deployed: Platform, root: Path, run, entries) -> None:  # type: ignore[no-untyped-def]
    ids = [e.id for e in entries.parse(APP_JSON)]
    listed = json.loads(run("cron:list", "hello", "--format", "json").out)
    assert [r["id"] for r in listed] == ids
    assert listed[0]["schedule"] == "* * * * *" and listed[0]["last_run"] is None
    assert listed[1]["next_run"].endswith("T00:00")

    ran = run("cron:run", "hello", ids[0])
    assert ran.code == 0, ran.err
    assert "ran echo tick" in ran.out
    oneoff = calls(root, "appliance_run_oneoff")[-1]
    assert oneoff["command"] == "echo tick" and oneoff["commit"] is False

    logs = run("cron:logs", "hello", ids[0])
    assert f"=====> {ids[0]}" in logs.out and "exit 0" in logs.out and "ran echo tick" in logs.out
    table = run("cron:list", "hello").out
    assert "(exit 0)" in table and "echo tick" in table

    assert run("cron:run", "hello", "deadbeef").code != 0
    assert "invalid cron id" in run("cron:run", "hello", "../x").err


def test_runs_are_kept_per_entry_and_pruned(  # type: ignore[no-untyped-def]
    deployed: Platform, root: Path, entries, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = cron_module("runner")
    from appliance.state import App

    app = App("hello")
    entry = entries.parse(APP_JSON)[0]
    appliance = deployed.appliance()
    for _ in range(runner.KEEP + 2):
        assert runner.run(app, entry, appliance, "test", echo=io.StringIO()) == 0
    kept = runner.runs(app, entry.id)
    assert len(kept) == runner.KEEP
    assert all(Path(r["log"]).is_file() for r in kept)
    # The one-off's output goes to the run's own log, not to the appliance's output.
    assert "ran echo tick" in Path(kept[-1]["log"]).read_text()
    assert "ran echo tick" not in capsys.readouterr().out
    with runner.entry_lock(app, entry.id), pytest.raises(UserError, match="is running now"):
        runner.run(app, entry, appliance, "test")


def test_the_ticker_starts_due_entries(deployed: Platform, root: Path, entries) -> None:  # type: ignore[no-untyped-def]
    import time

    from appliance.background import Daemon

    daemon = Daemon(stream=io.StringIO(), appliance=deployed.appliance())
    ticker = cron_module("ticker").Ticker(daemon)
    every_minute, daily = entries.parse(APP_JSON)
    assert ticker.tick(at("2026-12-01T21:30:00")) == [("hello", every_minute.id)]
    assert ticker.tick(at("2026-12-02T00:00:00")) == [
        ("hello", every_minute.id), ("hello", daily.id),
    ]  # fmt: skip
    runner = cron_module("runner")
    from appliance.state import App

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not runner.runs(App("hello"), daily.id):
        time.sleep(0.05)
    assert runner.runs(App("hello"), daily.id)[-1]["trigger"] == "schedule"
