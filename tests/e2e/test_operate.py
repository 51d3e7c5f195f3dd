"""Operating a deployed app, over real SSH, as a user would: config round-trips
(import/export/--export/--global) seen by the app, one-off and interactive
processes, enter, run:list, ps:report's health, ps:rebuild, deploy logs and nginx
logs. One app serves every test of the module, to keep the run short."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import SSH_OPTIONS, Host, commit, make_repo

AWKWARD = {
    "SPACES": "hello big world",
    "QUOTES": "it's \"quoted\" `not run` $(nor this) $HOME",
    "NEWLINES": "line one\nline two\n",
    "EQUALS": "a=b=c",
    "UNICODE": "héllo wörld ✓ 日本",
    "BACKSLASH": "C:\\path\\n",
}
PRINT_ENV = "python3 -c 'import json, os; print(json.dumps(dict(os.environ)))'"


class Deployed:
    def __init__(self, host: Host, repo: Path, app: str) -> None:
        self.host, self.repo, self.app = host, repo, app

    def ssh(self, *command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.host.ssh(*command, stdin=stdin)

    def ok(self, *command: str, stdin: str | None = None) -> str:
        result = self.ssh(*command, stdin=stdin)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        return result.stdout

    def tty(self, *command: str) -> subprocess.CompletedProcess[str]:
        """`ssh -tt`: the remote side gets a pty, as an interactive user's would."""
        return subprocess.run(
            ["ssh", "-tt", "-i", str(self.host.key), *SSH_OPTIONS, "appliance@127.0.0.1",
             *command],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def environment(self) -> dict[str, str]:
        ran = self.host.ssh_bytes("run", self.app, shlex.quote(PRINT_ENV), stdin=b"")
        assert ran.returncode == 0, ran.stderr
        return json.loads(ran.stdout.decode())

    def releases(self) -> list[dict[str, object]]:
        return json.loads(self.ok("releases", self.app, "--format", "json"))


@pytest.fixture(scope="module")
def deployed(host: Host, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    app = host.new_app("operate")
    repo = make_repo(tmp_path_factory.mktemp("operate"), "workers")
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("checks:set", app, "wait-to-retire", "0").returncode == 0
    pushed = host.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    yield Deployed(host, repo, app)


def test_config_round_trips_exactly(deployed: Deployed, tmp_path: Path) -> None:
    app, tag = deployed.app, secrets.token_hex(3).upper()
    host_key, shared_key = f"OPERATE_E2E_{tag}", f"OPERATE_E2E_SHARED_{tag}"
    try:
        deployed.ok("config:set", "--global", f"{host_key}='from the host'",
                    f"{shared_key}=host")  # fmt: skip
        env_file = "".join(
            f"{k}={json.dumps(v, ensure_ascii=False)}\n" for k, v in AWKWARD.items()
        )
        env_file += f"# a comment\nexport {shared_key}='the app wins'\n"
        imported = deployed.ok("config:import", app, stdin=env_file)
        assert "Application deployed" in imported
        assert "hello big world" not in imported  # values never in the output
        seen = deployed.environment()
        assert {k: seen[k] for k in AWKWARD} == AWKWARD
        assert seen[host_key] == "from the host" and seen[shared_key] == "the app wins"
        printed = deployed.host.ssh_bytes("run", app, "printenv", "UNICODE", stdin=b"")
        assert printed.stdout.decode() == AWKWARD["UNICODE"] + "\n"

        exported = deployed.ok("config:export", app)
        shown = json.loads(deployed.ok("config:show", app, "--format", "json"))
        deployed.ok("config:import", app, "--replace", "--no-restart", stdin=exported)
        assert json.loads(deployed.ok("config:show", app, "--format", "json")) == shown

        script = tmp_path / "env.sh"
        exports = deployed.host.ssh_bytes("config:show", app, "--export", stdin=b"")
        script.write_bytes(exports.stdout)
        for key, value in AWKWARD.items():
            read = subprocess.run(["sh", "-c", f'. "$0"; printf %s "${key}"', str(script)],
                                  capture_output=True, check=True).stdout.decode()  # fmt: skip
            assert read == value, key
        deployed.ok("config:set", "--global", f"{host_key}=changed")
        assert deployed.environment()[host_key] == "from the host"  # not before a restart
        before = deployed.releases()
        restarted = deployed.ok("ps:restart", app)
        assert f"Config changed since {before[0]['release']}" in restarted, restarted
        assert deployed.environment()[host_key] == "changed"
        assert len(deployed.releases()) == len(before) + 1
        assert deployed.ssh("config:set", app, "1BAD=x").returncode == 1
    finally:
        deployed.ssh("config:unset", "--global", host_key, shared_key)


def test_run_enter_and_one_offs(deployed: Deployed) -> None:
    app = deployed.app
    assert deployed.ssh("run", app, shlex.quote("exit 3")).returncode == 3
    on_tty = deployed.tty("run", app, "tty")
    assert on_tty.returncode == 0 and "/dev/pts/" in on_tty.stdout, on_tty
    assert deployed.tty("run", app, shlex.quote("exit 5")).returncode == 5
    plain = deployed.ssh("run", app, "tty")
    assert plain.returncode != 0 and "not a tty" in plain.stdout
    piped = deployed.ssh("run", app, "cat", stdin="piped in\nand on\n")
    assert (piped.returncode, piped.stdout) == (0, "piped in\nand on\n"), piped.stderr
    counted = deployed.ssh("run", app, shlex.quote("wc -c; echo to-stderr >&2"),
                           stdin="x" * 300_000)  # fmt: skip
    assert (counted.stdout.strip(), counted.stderr.strip()) == ("300000", "to-stderr")

    assert deployed.ok("enter", app, "--", "printenv", "DYNO") == "web.1\n"
    assert deployed.ok("enter", app, "worker.1", "--", "printenv", "DYNO") == "worker.1\n"
    assert deployed.ssh("enter", app, "--", shlex.quote("exit 4")).returncode == 4
    entered = deployed.tty("enter", app, "web.1", "--", "tty")
    assert entered.returncode == 0 and "/dev/pts/" in entered.stdout, entered
    assert deployed.ssh("enter", app, "web.9").returncode == 1

    # A client that goes away takes its one-off container (and a log follower) along.
    for command in (f"run {app} 'sleep 120'", f"logs {app} -t -n 1"):
        client = subprocess.Popen(
            ["ssh", "-i", str(deployed.host.key), *SSH_OPTIONS, "appliance@127.0.0.1", command],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not (following(command) and (one_offs(app) or command.startswith("logs"))):
            assert time.monotonic() < deadline, f"{command} did not start"
            time.sleep(0.2)
        client.kill()
        client.wait()
        deadline = time.monotonic() + 10
        while (following(command) or one_offs(app)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not following(command) and not one_offs(app), command

    started = deployed.ok("run:detached", app, shlex.quote("sleep 60"))
    name = started.split("Started ", 1)[1].split()[0]
    listed = json.loads(deployed.ok("run:list", app, "--format", "json"))
    assert [(r["name"], r["command"]) for r in listed] == [(name, "sleep 60")]
    assert "sleep 60" in deployed.ok("run:list", app)
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def test_report_health_policy_and_nginx_logs(deployed: Deployed) -> None:
    app = deployed.app
    rows = [r for r in json.loads(deployed.ok("ps:report", app, "--format", "json"))
            if r["current"]]  # fmt: skip
    assert {r["process"]: r["health"] for r in rows} == {"web": "healthy", "worker": "-"}
    assert "HEALTH" in deployed.ok("ps:report")
    started = time.monotonic()
    deployed.ok("ps:report", "--format", "json")
    assert time.monotonic() - started < 5

    assert deployed.ssh("ps:set", app, "restart-policy", "sometimes").returncode == 1
    assert "on-failure:4" in deployed.ok("ps:set", app, "restart-policy", "on-failure:4")
    deployed.ok("ps:set", app, "restart-policy")

    path = f"/operate-{secrets.token_hex(4)}"
    assert deployed.host.get(app, path)[0] == 200
    assert path in deployed.ok("nginx:access-logs", app, "-n", "20")
    assert deployed.ssh("nginx:error-logs", app).returncode in (0, 1)  # may not exist yet

    command = f"nginx:access-logs {app} -t -n 1"
    follower = subprocess.Popen(
        ["ssh", "-i", str(deployed.host.key), *SSH_OPTIONS, "appliance@127.0.0.1", command],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert follower.stdout is not None
    assert path in follower.stdout.readline()  # the last line, then it follows
    followed = f"/followed-{secrets.token_hex(4)}"
    assert deployed.host.get(app, followed)[0] == 200
    assert followed in follower.stdout.readline()
    assert following(command)
    follower.kill()
    follower.wait()
    deadline = time.monotonic() + 10
    while following(command) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not following(command)  # the host side stops once the client has gone


def one_offs(app: str) -> list[str]:
    listed = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=appliance.app={app}",
         "--filter", "label=appliance.process=run"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return listed.stdout.split()


def following(command: str) -> list[int]:
    """Host processes serving this SSH command."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if f"SSH_ORIGINAL_COMMAND={command}".encode() in environ.split(b"\0"):
            found.append(int(pid))
    return found


def test_rebuild_and_deploy_logs(deployed: Deployed) -> None:
    app = deployed.app
    history = deployed.releases()  # the push, then config changes (no revision)
    rebuilt = deployed.ok("ps:rebuild", app)
    assert "Reusing the image" not in rebuilt
    latest = deployed.releases()[0]
    assert latest["release"] not in [r["release"] for r in history]
    assert latest["rev"] == history[-1]["rev"] and latest["rev"]
    assert str(latest["summary"]).startswith("Rebuild ")
    last_log = deployed.ok("releases:logs", app)
    assert "Application deployed" in last_log and "Rebuild" in last_log
    assert "Application deployed" in deployed.ok("releases:logs", app, str(latest["release"]))

    dockerfile = deployed.repo / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN echo operate-broken-build && exit 3\n")
    commit(deployed.repo, "broken")
    assert deployed.host.push(deployed.repo, app).returncode != 0
    assert deployed.host.get(app)[0] == 200  # the old release serves on
    failed = deployed.ok("releases:logs", app, "--failed")
    assert "operate-broken-build" in failed and "Application deployed" not in failed
