import json
from pathlib import Path

import pytest

AWKWARD = {
    "SPACES": "hello big world",
    "QUOTES": 'it\'s "quoted"',
    "EQUALS": "a=b=c",
    "NEWLINES": "line one\nline two\n",
    "UNICODE": "héllo wörld ✓",
    "EMPTY": "",
}


def test_round_trip_without_a_deploy(run, root: Path) -> None:
    assert run("apps:create", "hello").code == 0
    args = [f"{k}={v}" for k, v in AWKWARD.items()]
    result = run("config:set", "hello", *args)
    assert result.code == 0, result.err
    assert "Saved" in result.out
    assert json.loads(run("config:show", "hello", "--format", "json").out) == AWKWARD
    for key, value in AWKWARD.items():
        assert run("config:get", "hello", key).out == value + "\n"
    env = root / "apps" / "hello" / "env.toml"
    assert oct(env.stat().st_mode & 0o777) == "0o600"
    assert "hello big world" not in result.out + result.err  # values stay out of output
    assert run("config:unset", "hello", "SPACES", "EQUALS").code == 0
    remaining = json.loads(run("config:show", "hello", "--format", "json").out)
    assert set(remaining) == set(AWKWARD) - {"SPACES", "EQUALS"}
    shell = run("config:show", "hello", "--shell").out
    assert "QUOTES='it'\"'\"'s \"quoted\"'" in shell


@pytest.mark.parametrize("bad", ["1X=a", "A-B=c", "=v", "novalue"])
def test_bad_assignments(run, bad: str) -> None:
    run("apps:create", "hello")
    result = run("config:set", "hello", bad)
    assert result.code == 1 and result.err.count("\n") == 1


def test_missing_keys(run) -> None:
    run("apps:create", "hello")
    assert "no config var" in run("config:get", "hello", "NOPE").err
    assert "no config var" in run("config:unset", "hello", "NOPE").err
