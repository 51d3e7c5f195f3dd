"""Numbers typed on a command line or read from app.json are bounded: one line
naming the field and its bounds, nothing saved. (Health checks and cron entries
have their own tests in tests/unit/plugins.)"""

from __future__ import annotations

import pytest

from appliance import validate
from appliance.errors import UserError
from appliance.registry import Registry
from appliance.state import App

_registry = Registry()
formation = _registry.import_module(_registry.get("ps"), "formation")

HOSTILE = ["1e300", "nan", "inf", "-1", "1_0", "\u0661", "\u00b2", " 5", "5\n", "0x10", "9" * 40]


@pytest.mark.parametrize(
    "value", [True, False, float("nan"), float("inf"), float("-inf"), 1e300, -1, "3", None, [1]]
)
def test_bounded_refuses_what_is_not_a_number_in_range(value: object) -> None:
    with pytest.raises(UserError, match=r"^app.json x must be a number from 0 to 60, got "):
        validate.bounded(value, "app.json x", 0, 60)


def test_bounded_keeps_numbers_in_range() -> None:
    assert validate.bounded(60, "x", 0, 60) == 60 and validate.bounded(2.5, "x", 0, 60) == 2.5
    assert validate.bounded(5.0, "x", 0, 60, whole=True) == 5
    with pytest.raises(UserError, match="must be a whole number"):
        validate.bounded(2.5, "x", 0, 60, whole=True)
    with pytest.raises(UserError) as refused:
        validate.bounded("x" * 10_000, "x", 0, 60)
    assert len(str(refused.value)) < 120


@pytest.mark.parametrize("text", HOSTILE)
def test_whole_number_is_ascii_digits_in_range(text: str) -> None:
    with pytest.raises(UserError, match=r"^n must be a whole number from 0 to 100, got "):
        validate.whole_number(text, "n", 0, 100)


def test_formation_from_app_json_is_bounded() -> None:
    assert formation.from_app_json({"formation": {"web": {"quantity": 3}, "x": {}}}) == {"web": 3}
    for quantity in (51, -1, True, 1.5, 1e300, float("nan"), "2"):
        with pytest.raises(UserError, match=r"app.json formation.web.quantity must be a whole"):
            formation.from_app_json({"formation": {"web": {"quantity": quantity}}})
    many = {f"p{i}": {"quantity": 1} for i in range(31)}
    with pytest.raises(UserError, match="at most 30 process types"):
        formation.from_app_json({"formation": many})


def test_ps_scale_counts_are_bounded(run) -> None:
    assert run("apps:create", "hello").code == 0
    for bad in [*HOSTILE, "51"]:
        refused = run("ps:scale", "hello", f"web={bad}")
        assert refused.code == 1 and "count of web must be a whole number from 0 to 50" \
            in refused.err, refused.err
        assert len(refused.err.strip().splitlines()) == 1
    many = [f"p{i}=1" for i in range(31)]
    assert "at most 30 process types" in run("ps:scale", "hello", *many).err
    assert App("hello").settings.table("ps") == {}
    assert run("ps:scale", "hello", *many[:29]).code == 0  # web + 29 = 30
    assert "at most 30 process types can be scaled, got 31" in run(
        "ps:scale", "hello", "extra=1").err
    assert len(App("hello").settings.get("ps", "scale")) == 30


@pytest.mark.parametrize(
    "command, field, high",
    [
        (["releases:set", "hello", "keep"], "keep", 1000),
        (["apps:set", "hello", "lock-timeout"], "lock-timeout (seconds)", 86400),
        (["scheduler-docker:set", "hello", "stop-timeout"], "stop-timeout (seconds)", 86400),
        (["scheduler-docker:set", "hello", "ready-timeout"], "ready-timeout (seconds)", 86400),
    ],
)
def test_settings_numbers_are_bounded(run, command: list[str], field: str, high: int) -> None:
    assert run("apps:create", "hello").code == 0
    before = App("hello").settings.table("releases"), App("hello").settings.table("core")
    for bad in [*HOSTILE, str(high + 1)]:
        refused = run(*command, bad)
        assert refused.code == 1 and f"{field} must be a whole number from " in refused.err, (
            bad, refused.err)  # fmt: skip
        assert f"to {high}, got " in refused.err
    assert (App("hello").settings.table("releases"), App("hello").settings.table("core")) == before
    assert run(*command, str(high)).code == 0
