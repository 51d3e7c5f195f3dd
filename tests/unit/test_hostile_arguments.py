"""Every command, fed hostile arguments, fails in one clear line and changes nothing.

The commands are read from the registry, so a new command is covered the day it is
added. Exit code 1 (refused or invalid) or 2 (usage), one line on stderr, no
traceback and no "unexpected error", and no file under the state root changed (the
audit log, which records the attempt, aside).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from appliance.registry import Registry
from tests.unit.test_ssh_entry import store_keys

HOSTILE = [
    "nl\n",
    "x\x00y",
    "; touch /tmp/appliance-pwned",
    "$(touch /tmp/appliance-pwned)",
    "`id`",
    "../../etc/passwd",
    "A" * 10_240,
    "\uff41pp",  # fullwidth a
    "\u0430pp",  # Cyrillic a
    "--x",
    "-",
    "",
]


def snapshot(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == "audit" or path.name.endswith("lock") or path.is_dir():
            continue
        found[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def commands() -> list[str]:
    """The built-in commands, read at collection time under an empty state root (no
    installed plugin of this host), leaving the environment as it was: the e2e tests
    run in the same process and must find the real state root."""
    import os
    import tempfile

    saved = os.environ.get("APPLIANCE_ROOT")
    with tempfile.TemporaryDirectory() as empty:
        os.environ["APPLIANCE_ROOT"] = empty
        try:
            return sorted(c.name for c in Registry().commands().values() if not c.exec)
        finally:
            if saved is None:
                del os.environ["APPLIANCE_ROOT"]
            else:
                os.environ["APPLIANCE_ROOT"] = saved


@pytest.fixture
def demo(root: Path, run) -> Path:
    assert run("apps:create", "demo").code == 0
    store_keys(admin={"admin": True}, bob={"apps": ["demo"]})
    return root


def assert_refused_cleanly(result, argv) -> None:
    assert result.code in (1, 2), (argv, result)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, (argv, result.err[:500])
    assert "Traceback" not in result.err and "unexpected error" not in result.err, (argv, result)


@pytest.mark.parametrize("name", commands())
def test_hostile_arguments_fail_cleanly(name: str, demo: Path, run, monkeypatch) -> None:
    before = snapshot(demo)
    for hostile in HOSTILE:
        for argv in ([hostile], [hostile, hostile], ["demo", hostile]):
            if argv == ["demo", ""] or (argv[0] == "demo" and name in ACCEPTS_ANY_TEXT):
                continue
            result = run(name, *argv)
            assert_refused_cleanly(result, [name, *argv])
    assert snapshot(demo) == before
    assert not Path("/tmp/appliance-pwned").exists()


@pytest.mark.parametrize("name", commands())
def test_hostile_arguments_over_ssh(name: str, demo: Path, run, monkeypatch) -> None:
    import shlex

    before = snapshot(demo)
    for key in ("admin", "bob"):
        for hostile in HOSTILE:
            if "\x00" in hostile:
                continue  # sshd cannot carry a NUL in a command
            monkeypatch.setenv("SSH_ORIGINAL_COMMAND", shlex.join([name, hostile]))
            result = run("ssh", "--key", key)
            assert_refused_cleanly(result, [key, name, hostile])
    assert snapshot(demo) == before


# Commands whose second argument is free text by design (a command line to run, a
# key to add): their hostile-text cases are the first argument's.
ACCEPTS_ANY_TEXT = {"run", "run:detached", "enter"}
