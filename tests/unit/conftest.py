from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance import cli
from appliance.boot import open_appliance
from appliance.host import Appliance
from appliance.output import Output


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _environment_kept() -> Iterator[None]:
    """Code run in-process (the CLI, a root helper's main) may change os.environ; the
    end-to-end tests run in the same pytest process and must find it as it was."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state_root = tmp_path / "state"
    state_root.mkdir()
    monkeypatch.setenv("APPLIANCE_ROOT", str(state_root))
    monkeypatch.delenv("APPLIANCE_USER", raising=False)
    monkeypatch.delenv("APPLIANCE_DEBUG", raising=False)
    monkeypatch.delenv("SSH_ORIGINAL_COMMAND", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return state_root


@pytest.fixture
def run(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run the CLI in-process: run("apps:list", "--format", "json", stdin="...")."""

    def _run(*argv: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


class _Stdout:
    """sys.stdout as it is at each write. An Output keeps the stream it was made with,
    and pytest replaces sys.stdout between a fixture's setup and the test (capsys)."""

    def __getattr__(self, name: str) -> object:
        return getattr(sys.stdout, name)


@pytest.fixture
def appliance(root: Path) -> Appliance:
    """The running appliance of the temporary root, as a command gets it. Its plugins
    are read now: after adding or disabling one, call `appliance.reload_plugins()`."""
    return open_appliance(Output(stream=_Stdout()))  # type: ignore[arg-type]
