"""appliance.hostenv: host processes get an allow-listed environment; config vars and
build args reach a build as data, never as the environment of the host's docker CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from appliance import hostenv, state, triggers
from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.host import Appliance
from appliance.registry import Registry
from appliance.state import App

HOSTILE = {
    "LD_PRELOAD": "/nonexistent/evil.so",
    "LD_LIBRARY_PATH": "/nonexistent",
    "PATH": "/nonexistent/bin",
    "DOCKER_CONFIG": "/nonexistent/docker",
    "BUILDKIT_PROGRESS": "rawjson",
    "GIT_CONFIG_GLOBAL": "/nonexistent/gitconfig",
    "BASH_ENV": "/nonexistent/rc",
}

# Writes its argv and environment as JSON, where the test reads them.
DUMP = """#!/usr/bin/python3 -I
import json, os, sys
with open({out!r}, "a") as f:
    f.write(json.dumps({{"argv": sys.argv, "env": dict(os.environ)}}) + "\\n")
"""


def dumper(tmp_path: Path, name: str) -> tuple[Path, Path]:
    out = tmp_path / f"{name}.jsonl"
    exe = tmp_path / name
    exe.write_text(DUMP.format(out=str(out)))
    exe.chmod(0o755)
    return exe, out


def seen(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_the_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/docker.sock")
    monkeypatch.setenv("GIT_QUARANTINE_PATH", "/repo/objects/incoming")
    env = hostenv.host_env(DOCKER_BUILDKIT="1")
    assert env["PATH"] == hostenv.PATH and env["DOCKER_BUILDKIT"] == "1"
    assert env["DOCKER_HOST"] == "unix:///run/docker.sock"
    assert not set(HOSTILE) - {"PATH"} & set(env)
    assert "GIT_QUARANTINE_PATH" not in env
    assert hostenv.host_env(git=True)["GIT_QUARANTINE_PATH"] == "/repo/objects/incoming"
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("LC_ALL", "/tmp/evil-locale")
    env = hostenv.host_env()
    assert env["LANG"] == "C.UTF-8" and "LC_ALL" not in env
    with pytest.raises(ValueError):
        hostenv.host_env(**{"bad name": "x"})


def test_proxies_come_from_the_host_wide_settings(root: Path) -> None:
    state.global_settings().set("builder", "http_proxy", "http://proxy.example:3128")
    env = hostenv.host_env()
    assert env["http_proxy"] == env["HTTP_PROXY"] == "http://proxy.example:3128"
    assert "http_proxy" not in hostenv.host_env(proxy=False)


def test_a_trigger_never_inherits_the_callers_environment(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    exe, out = dumper(tmp_path, "trigger")
    triggers.run("demo", "appliance_post_deploy", exe, {})
    env = seen(out)[0]["env"]
    assert isinstance(env, dict)
    assert env["PATH"] == hostenv.PATH and env["APPLIANCE_HOOK"] == "appliance_post_deploy"
    assert env["APPLIANCE_ROOT"] == str(root)
    assert not set(HOSTILE) - {"PATH"} & set(env)


def builder_dockerfile(name: str | None = None) -> ModuleType:
    registry = Registry()
    return registry.import_module(registry.get("builder-dockerfile"), name)


def test_build_args_reach_the_docker_cli_as_argv_data_never_as_its_environment(
    run, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, appliance: Appliance
) -> None:
    assert run("apps:create", "hello").code == 0
    config = {**HOSTILE, "GREETING": "hi there"}
    assert run("builder-dockerfile:set", "hello", "build-args", ",".join(config)).code == 0
    source = tmp_path / "source"
    source.mkdir()
    (source / "Dockerfile").write_text("FROM scratch\nARG LD_PRELOAD\n")
    exe, out = dumper(tmp_path, "docker")
    plugin, buildkit = builder_dockerfile(), builder_dockerfile("buildkit")
    monkeypatch.setattr(buildkit, "cli", lambda: str(exe))
    monkeypatch.setattr(buildkit.builds, "limit_buildkit", lambda out: None)
    job = Deploy(app=App("hello"), out=appliance.out, id=1, release=1, user="alice",
                 appliance=appliance, source_dir=source, config=config,
                 builder="dockerfile")  # fmt: skip
    plugin.appliance_build(job)
    call = seen(out)[0]
    env, argv = call["env"], call["argv"]
    assert isinstance(env, dict) and isinstance(argv, list)
    assert env["PATH"] == hostenv.PATH and env["DOCKER_BUILDKIT"] == "1"
    assert not set(HOSTILE) - {"PATH"} & set(env)
    for name, value in config.items():
        assert f"{name}={value}" in argv
        assert argv[argv.index(f"{name}={value}") - 1] == "--build-arg"


def test_build_arg_names_are_checked(root: Path) -> None:
    buildkit = builder_dockerfile("buildkit")
    assert buildkit.build_arg_items({"A_1": "-x"}) == ["--build-arg", "A_1=-x"]
    for bad in ("A=B", "1A", "A B", "A\n", "-A", "", "A" * 129):
        with pytest.raises(UserError, match="invalid build arg"):
            buildkit.build_arg_items({bad: "x"})


def test_no_host_process_is_started_with_the_callers_environment() -> None:
    """Every subprocess / exec call site in the core and the plugins passes env=."""
    top = Path(__file__).resolve().parents[2]
    missing = []
    for path in [*(top / "appliance").glob("*.py"), *(top / "plugins").glob("*/*.py")]:
        text = path.read_text()
        for forbidden in (
            "dict(os.environ",
            "**os.environ",
            "os.environ.copy(",
            "os.execvp(",
            "os.execv(",
            "os.execlp(",
            "os.system(",
            "os.popen(",
        ):
            if forbidden in text:
                missing.append(f"{path.relative_to(top)}: {forbidden}")
        for marker in ("subprocess.run(", "subprocess.Popen(", "subprocess.check_output(",
                       "subprocess.call(", "os.execve("):  # fmt: skip
            start = 0
            while (at := text.find(marker, start)) >= 0:
                depth, end = 0, at
                for end in range(at + len(marker) - 1, len(text)):
                    depth += {"(": 1, ")": -1}.get(text[end], 0)
                    if depth == 0:
                        break
                call = text[at : end + 1]
                if "env=" not in call and "hostenv" not in call:
                    missing.append(f"{path.relative_to(top)}: {call.splitlines()[0]}")
                start = end
    assert missing == []
