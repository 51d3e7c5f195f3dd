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



def _dotenv():
    from appliance.registry import Registry

    registry = Registry()
    return registry.import_module(registry.get("config"), "dotenv")


def test_dotenv_round_trip() -> None:
    dotenv = _dotenv()
    values = {**AWKWARD, "BACKSLASH": "a\\b\\n", "TAB_CR": "a\tb\rc", "DOLLAR": "$HOME ${X}"}
    text = dotenv.dump(values)
    assert dotenv.parse(text) == values
    assert 'QUOTES="it\'s \\"quoted\\""' in text


def test_dotenv_reads_hand_written_files() -> None:
    dotenv = _dotenv()
    text = (
        "# a comment\n"
        "\n"
        "export PLAIN=hello world  # trailing comment\n"
        "SINGLE='it \"stays\" \\n literal'\n"
        'DOUBLE="tab\\there \\$HOME"  # comment\n'
        'MULTI="first\nsecond"\n'
        "HASH=a#b\n"
        "  SPACED = value\n"
        "EMPTY=\n"
        "UNI='héllo ✓'\n"
    )
    assert dotenv.parse(text) == {
        "PLAIN": "hello world",
        "SINGLE": 'it "stays" \\n literal',
        "DOUBLE": "tab\there $HOME",
        "MULTI": "first\nsecond",
        "HASH": "a#b",
        "SPACED": "value",
        "EMPTY": "",
        "UNI": "héllo ✓",
    }


@pytest.mark.parametrize("bad", ["NOEQUALS\n", "1KEY=x\n", 'OPEN="never closed\n', "A='x' junk\n"])
def test_dotenv_refuses_broken_lines(bad: str) -> None:
    from appliance.errors import UserError

    with pytest.raises(UserError, match=r"line 1|invalid config key"):
        _dotenv().parse(bad)


def test_shell_export_reads_back_through_sh(tmp_path: Path) -> None:
    import subprocess

    values = {**AWKWARD, "BACKSLASH": "a\\b", "DOLLAR": "$HOME `id` $(id)", "APOS": "'x''"}
    script = tmp_path / "env.sh"
    script.write_bytes(_dotenv().shell_export(values).encode())
    for key, value in values.items():
        seen = subprocess.run(
            ["sh", "-c", f'. "$0"; printf %s "${key}"', str(script)],
            capture_output=True, check=True,
        ).stdout.decode()  # fmt: skip
        assert seen == value, key


def test_export_import_and_global(run, root: Path) -> None:
    assert run("apps:create", "hello").code == 0
    assert run("config:set", "hello", *[f"{k}={v}" for k, v in AWKWARD.items()]).code == 0
    exported = run("config:export", "hello")
    assert exported.code == 0
    assert run("apps:create", "other").code == 0
    imported = run("config:import", "other", stdin=exported.out)
    assert imported.code == 0, imported.err
    assert json.loads(run("config:show", "other", "--format", "json").out) == AWKWARD
    assert run("config:import", "other", "--replace", stdin="ONLY='one'\n").code == 0
    assert json.loads(run("config:show", "other", "--format", "json").out) == {"ONLY": "one"}
    assert run("config:import", "other", stdin="BAD LINE\n").code == 1

    shown = run("config:set", "--global", "SHARED=from host", "SPACES=host value")
    assert shown.code == 0, shown.err
    assert "next deploy" in shown.out
    assert oct((root / "global-env.toml").stat().st_mode & 0o777) == "0o600"
    assert run("config:get", "--global", "SHARED").out == "from host\n"
    merged = json.loads(run("config:show", "hello", "--merged", "--format", "json").out)
    assert merged["SHARED"] == "from host" and merged["SPACES"] == AWKWARD["SPACES"]
    assert "SHARED" not in json.loads(run("config:show", "hello", "--format", "json").out)
    assert run("config:export", "--global").out == 'SHARED="from host"\nSPACES="host value"\n'
    assert run("config:unset", "--global", "SHARED").code == 0
    assert json.loads(run("config:show", "--global", "--format", "json").out) == {
        "SPACES": "host value"
    }
    assert run("config:show", "--global", "hello").code == 2
