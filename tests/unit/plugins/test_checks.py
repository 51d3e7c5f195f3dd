"""The checks plugin: app.json healthchecks, the legacy CHECKS file, the default
checks, the failure message, and the checks:* commands.

Checks run for real: HTTP and TCP checks against an `http.server` started on
127.0.0.1, command checks as real processes. The container hooks come from a small
plugin written into `$APPLIANCE_ROOT/plugins/fake-docker/` and found by the real
Registry; it describes containers and their state from `$APPLIANCE_ROOT/world.json`.
Pipeline tests disable the Docker and nginx plugins, as tests/unit/test_hooks.py does.
"""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from appliance import pipeline, releases
from appliance.boot import open_appliance
from appliance.deploy import Container, Deploy
from appliance.errors import UserError
from appliance.output import Output
from appliance.registry import Registry
from appliance.state import App

NEEDS_DOCKER_OR_NGINX = (
    "builder-dockerfile",
    "builder-buildpack",
    "builder-auto",
    "scheduler-docker",
    "proxy-nginx",
)

FAKE_DOCKER = """
import json
import subprocess
import time

from appliance import state
from appliance.deploy import Container, Target
from appliance.hookspecs import hookimpl


def world():
    return json.loads((state.root() / "world.json").read_text())


def record(hook, **info):
    with open(state.root() / "calls.jsonl", "a") as f:
        f.write(json.dumps({"hook": hook, **info}) + "\\n")


@hookimpl
def appliance_build(deploy):
    return deploy.image_tag


@hookimpl
def appliance_scheduler_start(deploy):
    deploy.containers = [
        Container(**{**c, "deploy_id": deploy.id}) for c in world()["containers"]
    ]
    record("appliance_scheduler_start", deploy=deploy.id)
    return [Target(c.address, c.port) for c in deploy.containers if c.process == "web"]


@hookimpl
def appliance_proxy_update(deploy):
    record("appliance_proxy_update", deploy=deploy.id)
    return True


@hookimpl
def appliance_scheduler_abort(deploy):
    record("appliance_scheduler_abort", deploy=deploy.id)
    return True


@hookimpl
def appliance_scheduler_retire(deploy):
    return True


@hookimpl
def appliance_app_containers(app):
    return [Container(**c) for c in world()["containers"]]


@hookimpl
def appliance_container_state(app, container):
    found = world()["state"].get(container.id)
    if found is None:
        return None
    return {
        "running": found.get("running", True),
        "restarts": found.get("restarts", 0),
        "exit_code": found.get("exit_code"),
        "uptime": time.time() - found["started"],
    }


@hookimpl
def appliance_container_exec(app, container, command):
    record("appliance_container_exec", command=command)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return [done.returncode, done.stdout + done.stderr]


@hookimpl
def appliance_container_logs(app, container, lines):
    text = (state.root() / "logs" / container.id).read_text()
    return "\\n".join(text.splitlines()[-lines:])
"""


# --- a real HTTP server ----------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def do_GET(self) -> None:
        host = self.headers.get("Host")
        self.server.seen.append({"path": self.path, "Host": host, **dict(self.headers.items())})
        if self.path == "/health":
            self.answer(200, f"ok ready\nhost={host}\n")
        elif self.path == "/moved":
            self.answer(302, "see /health", location="/health")
        elif self.path == "/broken":
            self.answer(500, "database is down\n")
        elif self.path == "/slow":
            time.sleep(1.5)
            self.answer(200, "late\n")
        elif self.path == "/flaky":
            self.server.flaky += 1
            if self.server.flaky < 3:
                self.answer(503, "warming up\n")
            else:
                self.answer(200, "warm\n")
        else:
            self.answer(404, "not found\n")

    def answer(self, status: int, body: str, location: str = "") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client gave up
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[dict[str, Any]]
    flaky: int

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.seen, httpd.flaky = [], 0
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the plugin's modules and a world of fake containers --------------------------


@pytest.fixture
def mods(root: Path) -> SimpleNamespace:
    """The checks plugin's modules, imported the way the core imports them."""
    registry = Registry()
    plugin = registry.get("checks")
    names = ("spec", "legacy", "settings", "probes", "runner", "report")
    return SimpleNamespace(**{n: registry.import_module(plugin, n) for n in names})


class World:
    """Containers, their state and their logs, as fake-docker reports them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data: dict[str, Any] = {"containers": [], "state": {}}
        self.save()

    def add(
        self, port: int, process: str = "web", cid: str = "c1", up: float = 100, **state: Any
    ) -> Container:
        container = Container(cid, f"hello.{process}.1", process, 1, "127.0.0.1", port)
        self.data["containers"].append(container.to_dict())
        self.data["state"][cid] = {"started": time.time() - up, **state}
        self.save()
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        (logs / cid).write_text("".join(f"log line {n}\n" for n in range(1, 31)))
        return container

    def save(self) -> None:
        (self.root / "world.json").write_text(json.dumps(self.data))


@pytest.fixture
def world(root: Path, run: Any) -> World:
    for name in NEEDS_DOCKER_OR_NGINX:
        if (Registry().plugins.get(name)) is not None:
            assert run("plugin:disable", name).code == 0
    folder = root / "plugins" / "fake-docker"
    folder.mkdir(parents=True)
    hooks = sorted(
        line[4:].partition("(")[0]
        for line in FAKE_DOCKER.splitlines()
        if line.startswith("def appliance_")
    )
    (folder / "plugin.toml").write_text(f'name = "fake-docker"\nhooks = {json.dumps(hooks)}\n')
    (folder / "__init__.py").write_text(textwrap.dedent(FAKE_DOCKER))
    assert run("apps:create", "hello").code == 0
    App("hello").settings.set("builder", "selected", "fake-docker")  # its build answers all
    return World(root)


def runner_for(mods: SimpleNamespace, host: str | None = None, **kwargs: Any) -> Any:
    appliance = open_appliance(Output())
    return mods.runner.Runner(App("hello"), appliance.hook, appliance.out, host=host, **kwargs)


def checks(mods: SimpleNamespace, *entries: dict[str, Any], process: str = "web") -> list[Any]:
    return mods.spec.declared({"healthchecks": {process: list(entries)}})[process]


def calls(root: Path, hook: str) -> list[dict[str, Any]]:
    path = root / "calls.jsonl"
    lines = path.read_text().splitlines() if path.is_file() else []
    return [c for c in map(json.loads, lines) if c["hook"] == hook]


# --- app.json healthchecks --------------------------------------------------------


def test_app_json_defaults(mods: SimpleNamespace) -> None:
    (check,) = checks(mods, {"path": "/health", "content": "ok"})
    assert (check.type, check.strategy, check.name, check.path, check.content) == (
        "startup",
        "http",
        "/health",
        "/health",
        "ok",
    )
    assert (check.timeout, check.attempts, check.wait, check.initial_delay) == (5, 3, 5, 0)
    assert (check.port, check.scheme, check.headers, check.source) == (None, "http", (), "app.json")
    (bare,) = checks(mods, {"name": "root"})
    assert (bare.strategy, bare.path) == ("http", "/")
    assert mods.spec.declared({}) == {} and mods.spec.declared({"name": "x"}) == {}


def test_app_json_strategies_run_in_type_order(mods: SimpleNamespace) -> None:
    found = checks(
        mods,
        {"type": "liveness", "name": "live", "command": "test -f /tmp/ok", "timeout": 2},
        {"type": "readiness", "name": "ready", "listening": True, "port": 8080},
        {"name": "boot", "uptime": 3, "initialDelay": 1},
        {
            "name": "api",
            "path": "/api",
            "scheme": "https",
            "headers": [{"name": "X-Forwarded-Proto", "value": "https"}],
        },
        {"name": "argv", "command": ["/app/check", "--quick"], "attempts": 1, "wait": 0.5},
        {"name": "dokku", "httpHeaders": [{"name": "Host", "value": "example.com"}]},
    )
    assert [c.name for c in found] == ["boot", "api", "argv", "dokku", "ready", "live"]
    by_name = {c.name: c for c in found}
    assert by_name["live"].command == ("/bin/sh", "-c", "test -f /tmp/ok")
    assert by_name["live"].strategy == "command" and by_name["live"].timeout == 2
    assert (by_name["ready"].strategy, by_name["ready"].port) == ("tcp", 8080)
    assert (by_name["boot"].strategy, by_name["boot"].uptime) == ("uptime", 3)
    assert by_name["boot"].initial_delay == 1
    assert by_name["api"].scheme == "https"
    assert by_name["api"].headers == (("X-Forwarded-Proto", "https"),)
    assert by_name["argv"].command == ("/app/check", "--quick")
    assert (by_name["argv"].attempts, by_name["argv"].wait) == (1, 0.5)
    assert by_name["dokku"].headers == (("Host", "example.com"),)
    assert by_name["api"].describe() == "https GET /api"
    assert by_name["argv"].describe() == 'command ["/app/check", "--quick"]'
    assert by_name["api"].expected() == "status 2xx or 3xx"


@pytest.mark.parametrize(
    ("healthchecks", "message"),
    [
        ([], "app.json healthchecks must be an object"),
        ({"Web": []}, "app.json healthchecks.Web: invalid process type"),
        ({"web": {"path": "/"}}, "app.json healthchecks.web must be a list of checks"),
        ({"web": ["/health"]}, r"healthchecks.web\[0\] must be an object"),
        ({"web": [{"type": "sometimes"}]}, r"web\[0\].type must be one of startup, readiness"),
        ({"web": [{"timeout": "5s"}]}, r"web\[0\].timeout must be a number .* got '5s'"),
        ({"web": [{"timeout": 0}]}, r"web\[0\].timeout must be more than 0 seconds"),
        ({"web": [{"attempts": 0}]}, r"web\[0\].attempts must be a whole number"),
        ({"web": [{"attempts": True}]}, r"web\[0\].attempts must be a whole number"),
        ({"web": [{"port": 70000}]}, r"web\[0\].port must be a whole number from 1 to 65535"),
        ({"web": [{"path": "health"}]}, r"web\[0\].path must start with /"),
        ({"web": [{"path": "/a b"}]}, r"web\[0\].path must start with /"),
        ({"web": [{"scheme": "ftp"}]}, r"web\[0\].scheme must be one of http, https"),
        ({"web": [{"command": [1, 2]}]}, r"web\[0\].command must be a string or a list"),
        ({"web": [{"command": "true", "path": "/"}]}, "use only one of command, path"),
        ({"web": [{"uptime": 5, "path": "/x"}]}, "use only one of path, uptime"),
        ({"web": [{"uptime": 5, "content": "x"}]}, "content applies to path and command"),
        ({"web": [{"headers": [{"name": "X-A", "value": "a\r\nb"}]}]}, r"headers\[0\] must be"),
        ({"web": [{"headers": [{"name": "Bad Name", "value": "x"}]}]}, r"headers\[0\] must be"),
        ({"web": [{"warn": "yes"}]}, r"web\[0\].warn must be true or false"),
    ],
)
def test_app_json_mistakes_name_the_field(
    mods: SimpleNamespace, healthchecks: Any, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        mods.spec.declared({"healthchecks": healthchecks})


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"wait": 1e300}, r"web\[0\].wait must be a number from 0 to 60, got 1e\+300"),
        ({"wait": 61}, r"web\[0\].wait must be a number from 0 to 60"),
        ({"wait": float("nan")}, r"web\[0\].wait must be a number from 0 to 60, got nan"),
        ({"wait": float("inf")}, r"web\[0\].wait must be a number from 0 to 60, got inf"),
        ({"wait": -1}, r"web\[0\].wait must be a number from 0 to 60"),
        ({"wait": False}, r"web\[0\].wait must be a number"),
        ({"attempts": 10**18}, r"web\[0\].attempts must be a whole number from 1 to 100"),
        ({"attempts": 2.5}, r"web\[0\].attempts must be a whole number"),
        ({"timeout": 121}, r"web\[0\].timeout must be a number from 0 to 120"),
        ({"initialDelay": 601}, r"web\[0\].initialDelay must be a number from 0 to 600"),
        ({"uptime": 1e18}, r"web\[0\].uptime must be a number from 0 to 600"),
        ({"port": 0}, r"web\[0\].port must be a whole number from 1 to 65535"),
        ({"port": 80.5}, r"web\[0\].port must be a whole number"),
        ({"port": True}, r"web\[0\].port must be a whole number"),
        ({"path": "/" + "a" * 2048}, r"web\[0\].path is longer than 2048 characters"),
        ({"content": "x" * 1025}, r"web\[0\].content is longer than 1024 characters"),
        ({"name": "x" * 1025}, r"web\[0\].name is longer than 1024 characters"),
        ({"command": "x" * 4097}, r"web\[0\].command must be .* at most 4096 characters"),
        ({"headers": [{"name": "A", "value": "b"}] * 21}, r"headers must be .* \(at most 20\)"),
        ({"headers": [{"name": "A", "value": "b" * 1025}]}, r"headers\[0\] must be"),
    ],
)
def test_app_json_numbers_and_sizes_are_bounded(
    mods: SimpleNamespace, check: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError, match=message) as refused:
        mods.spec.declared({"healthchecks": {"web": [check]}})
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 200


def test_app_json_check_counts_are_bounded(mods: SimpleNamespace) -> None:
    with pytest.raises(UserError, match="at most 20 checks per process type"):
        mods.spec.declared({"healthchecks": {"web": [{"path": "/"}] * 21}})
    with pytest.raises(UserError, match="at most 50 process types"):
        mods.spec.declared({"healthchecks": {f"p{i}": [] for i in range(51)}})
    most = {"wait": 60, "attempts": 100, "timeout": 120, "initialDelay": 600, "port": 65535}
    (check,) = mods.spec.declared({"healthchecks": {"web": [most]}})["web"]
    assert (check.wait, check.attempts, check.timeout, check.port) == (60, 100, 120, 65535)


def test_legacy_checks_settings_are_ascii_numbers(mods: SimpleNamespace) -> None:
    from appliance.registry import Registry

    legacy = Registry().import_module(Registry().get("checks"), "legacy")
    with pytest.raises(UserError, match="WAIT must be a whole number"):
        legacy.parse("WAIT=\u00b2\n/health ok\n")  # superscript two: isdigit() but not int()


def test_default_checks(mods: SimpleNamespace) -> None:
    web = mods.spec.default_checks("web", 10)
    assert [(c.strategy, c.uptime) for c in web] == [("uptime", 10), ("tcp", 0)]
    assert [c.source for c in web] == ["default", "default"]
    assert [c.strategy for c in mods.spec.default_checks("worker", 4)] == ["uptime"]
    assert mods.spec.describe_default(10, "web") == "default (uptime 10 s + TCP)"
    assert mods.spec.describe_default(4, "worker") == "default (uptime 4 s)"


# --- the legacy CHECKS file -----------------------------------------------------


CHECKS_FILE = """\
# zero-downtime checks
WAIT=2      # seconds between attempts
TIMEOUT=7
ATTEMPTS=4

/health            ok ready
/stylesheets/app.css\t.body {
/favicon.ico
//admin.example.com/login   Admin Dashboard
https://example.com:8443/status?full=1 up
"""


def test_checks_file_becomes_healthchecks(mods: SimpleNamespace) -> None:
    converted = mods.legacy.parse(CHECKS_FILE)
    limits = {"attempts": 4, "timeout": 7, "wait": 2, "type": "startup", "source": "CHECKS"}
    assert converted[0] == {
        **limits, "name": "CHECKS /health", "path": "/health", "content": "ok ready",
    }  # fmt: skip
    assert [c["path"] for c in converted] == [
        "/health",
        "/stylesheets/app.css",
        "/favicon.ico",
        "/login",
        "/status?full=1",
    ]
    assert all(limits.items() <= c.items() for c in converted)
    assert converted[1]["content"] == ".body {"
    assert "content" not in converted[2]
    assert converted[3]["headers"] == [{"name": "Host", "value": "admin.example.com"}]
    assert converted[3]["content"] == "Admin Dashboard" and "scheme" not in converted[3]
    assert converted[4]["scheme"] == "https"
    assert converted[4]["headers"] == [{"name": "Host", "value": "example.com:8443"}]
    # What it produces is valid app.json.
    parsed = mods.spec.declared({"healthchecks": {"web": converted}})["web"]
    assert [c.source for c in parsed] == ["CHECKS"] * 5
    assert parsed[4].path == "/status?full=1" and parsed[4].timeout == 7


def test_checks_file_without_settings_keeps_the_app_json_defaults(mods: SimpleNamespace) -> None:
    (entry,) = mods.legacy.parse("/\n")
    assert entry == {"type": "startup", "name": "CHECKS /", "path": "/", "source": "CHECKS"}
    (check,) = mods.spec.declared({"healthchecks": {"web": [entry]}})["web"]
    assert (check.attempts, check.timeout, check.wait) == (3, 5, 5)
    assert mods.legacy.parse("# nothing\n\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("WAIT=soon\n/\n", "CHECKS line 1: WAIT must be a whole number, got 'soon'"),
        ("/\nDELAY=3\n", "CHECKS line 2: unknown setting DELAY"),
        ("/\n\nhealth ok\n", "CHECKS line 3: expected a path like /health"),
        ("ftp://example.com/ x\n", "CHECKS line 1: expected a path"),
        ("ATTEMPTS=0\n/\n", "ATTEMPTS and TIMEOUT must be at least 1"),
    ],
)
def test_checks_file_mistakes_name_the_line(mods: SimpleNamespace, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        mods.legacy.parse(text)


def deploy_of(source: Path | None, app_json: dict[str, Any] | None = None) -> Deploy:
    appliance = open_appliance(Output(), user="t")
    return Deploy(
        app=App("hello"), out=appliance.out, id=1, release=1, user="t", appliance=appliance,
        source_dir=source, app_json=app_json or {},
    )  # fmt: skip


def test_post_build_converts_checks_unless_app_json_has_web_checks(
    mods: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "CHECKS").write_text("ATTEMPTS=2\n/health ok\n")
    job = deploy_of(tmp_path, {"name": "hello", "healthchecks": {"worker": [{"uptime": 2}]}})
    mods.legacy.convert(job)
    assert job.app_json["healthchecks"]["web"] == [
        {
            "type": "startup",
            "name": "CHECKS /health",
            "path": "/health",
            "content": "ok",
            "attempts": 2,
            "source": "CHECKS",
        }
    ]
    assert job.app_json["healthchecks"]["worker"] == [{"uptime": 2}]
    assert "Using CHECKS as app.json healthchecks for web (1 check)" in capsys.readouterr().out

    own = {"healthchecks": {"web": [{"path": "/mine"}]}}
    job = deploy_of(tmp_path, json.loads(json.dumps(own)))
    mods.legacy.convert(job)
    assert job.app_json == own
    assert "CHECKS ignored: app.json declares healthchecks for web" in capsys.readouterr().out

    job = deploy_of(tmp_path / "missing")
    mods.legacy.convert(job)
    assert job.app_json == {}


def test_post_build_refuses_bad_checks_before_anything_starts(
    mods: SimpleNamespace, tmp_path: Path
) -> None:
    with pytest.raises(UserError, match=r"healthchecks.web\[0\].attempts"):
        mods.legacy.convert(deploy_of(tmp_path, {"healthchecks": {"web": [{"attempts": -1}]}}))
    (tmp_path / "CHECKS").write_text("TIMEOUT=x\n")
    with pytest.raises(UserError, match="CHECKS line 1"):
        mods.legacy.convert(deploy_of(tmp_path))
    # An image deploy has no source: only the saved app.json is validated.
    mods.legacy.convert(deploy_of(None, {"healthchecks": {"web": [{"path": "/"}]}}))


def test_a_checks_symlink_leaving_the_tree_is_refused(
    mods: SimpleNamespace, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("/etc/shadow-like content\n")
    source = tmp_path / "source"
    source.mkdir()
    (source / "CHECKS").symlink_to(secret)
    job = deploy_of(source)
    with pytest.raises(UserError) as caught:
        mods.legacy.convert(job)
    assert "CHECKS in the pushed source is a symbolic link that leaves" in str(caught.value)
    assert "shadow" not in str(caught.value)
    assert job.app_json == {}


def test_a_checks_symlink_inside_the_tree_is_followed(
    mods: SimpleNamespace, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    (source / "ops").mkdir(parents=True)
    (source / "ops" / "checks.txt").write_text("/health ok\n")
    (source / "CHECKS").symlink_to("ops/checks.txt")
    job = deploy_of(source)
    mods.legacy.convert(job)
    assert job.app_json["healthchecks"]["web"]


# --- probes, against a real server -------------------------------------------------


def test_http_probe(mods: SimpleNamespace, server: Server) -> None:
    get = mods.probes.http_get
    ok = get("127.0.0.1", server.port, "/health", content="ready", headers={"Host": "a.test"})
    assert ok.ok and ok.got == 'status 200, body "ok ready\\nhost=a.test\\n"'
    missing = get("127.0.0.1", server.port, "/health", content="nope")
    assert not missing.ok
    assert missing.got.startswith('status 200, body without it: "ok ready')
    broken = get("127.0.0.1", server.port, "/broken")
    assert (broken.ok, broken.got) == (False, 'status 500, body "database is down\\n"')
    moved = get("127.0.0.1", server.port, "/moved")  # 3xx passes; not followed
    assert moved.ok and moved.got.startswith("status 302")
    assert [s["path"] for s in server.seen] == ["/health", "/health", "/broken", "/moved"]
    slow = get("127.0.0.1", server.port, "/slow", timeout=0.3)
    assert (slow.ok, slow.got) == (False, "no answer within 0.3 s")
    refused = get("127.0.0.1", closed_port(), "/")
    assert (refused.ok, refused.got) == (False, "connection refused")
    assert len(mods.probes.excerpt("x" * 500)) < 210


def test_tcp_probe(mods: SimpleNamespace, server: Server) -> None:
    assert mods.probes.tcp_connect("127.0.0.1", server.port).ok
    port = closed_port()
    refused = mods.probes.tcp_connect("127.0.0.1", port)
    assert (refused.ok, refused.got) == (False, f"127.0.0.1:{port}: connection refused")


# --- running checks through the container hooks --------------------------------


def test_http_check_sends_the_app_domain_as_host(
    mods: SimpleNamespace,
    world: World,
    server: Server,
    run: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("domains:set-global", "example.com").code == 0
    host = mods.runner.first_domain(open_appliance(Output()).hook, App("hello"))
    assert host == "hello.example.com"
    container = world.add(server.port)
    (check,) = checks(mods, {"name": "health", "path": "/health", "content": "host=hello"})
    runner_for(mods, host=host).run_check(container, check)
    assert server.seen[-1]["Host"] == "hello.example.com"
    out = capsys.readouterr().out
    assert 'hello.web.1: startup "health" (GET /health): passed (attempt 1/3)' in out

    (own,) = checks(
        mods,
        {"path": "/health", "headers": [{"name": "host", "value": "other.test"}]},
    )
    runner_for(mods, host=host).run_check(container, own)
    assert server.seen[-1]["Host"] == "other.test"
    (plain,) = checks(mods, {"path": "/health"})
    runner_for(mods, host=None).run_check(container, plain)
    assert server.seen[-1]["Host"] == f"127.0.0.1:{server.port}"  # http.client's own


def test_attempts_retry_until_the_check_passes(
    mods: SimpleNamespace, world: World, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    container = world.add(server.port)
    slept: list[float] = []
    (check,) = checks(mods, {"name": "warm", "path": "/flaky", "attempts": 3, "wait": 0.25})
    runner_for(mods, sleep=slept.append).run_check(container, check)
    assert slept == [0.25, 0.25]
    out = capsys.readouterr().out
    assert 'failed (attempt 1/3): status 503, body "warming up\\n"' in out
    assert "passed (attempt 3/3)" in out


def test_a_failing_check_says_what_was_expected_and_what_came_back(
    mods: SimpleNamespace, world: World, server: Server
) -> None:
    container = world.add(server.port)
    (check,) = checks(
        mods,
        {"name": "health", "path": "/health", "content": "version 2", "attempts": 2, "wait": 0},
    )
    with pytest.raises(mods.runner.CheckFailed) as failed:
        runner_for(mods, host="hello.example.com").run_check(container, check)
    lines = str(failed.value).splitlines()
    assert lines[0] == 'check "health" of web failed on hello.web.1 after 2 attempts'
    assert lines[1] == (
        f"       Check:    startup GET http://127.0.0.1:{server.port}/health "
        "(Host: hello.example.com), timeout 5 s, 2 attempts 0 s apart"
    )
    assert lines[2] == '       Expected: status 2xx or 3xx and a body containing "version 2"'
    assert lines[3] == (
        '       Got:      status 200, body without it: "ok ready\\nhost=hello.example.com\\n"'
    )
    assert lines[4] == "       Last 20 log lines of hello.web.1:"
    assert lines[5:] == [f"         log line {n}" for n in range(11, 31)]
    assert isinstance(failed.value, UserError)


def test_an_unreachable_container_fails_with_the_reason(
    mods: SimpleNamespace, world: World
) -> None:
    port = closed_port()
    container = world.add(port)
    (check,) = checks(mods, {"name": "root", "attempts": 1})
    with pytest.raises(mods.runner.CheckFailed, match="Got:      connection refused"):
        runner_for(mods).run_check(container, check)
    (tcp,) = checks(mods, {"name": "tcp", "listening": True, "attempts": 1})
    with pytest.raises(mods.runner.CheckFailed, match="Expected: a TCP connection"):
        runner_for(mods).run_check(container, tcp)


def test_a_stopped_container_is_not_retried(
    mods: SimpleNamespace, world: World, server: Server
) -> None:
    container = world.add(server.port, running=False, exit_code=3)
    (check,) = checks(mods, {"name": "broken", "path": "/broken", "attempts": 5, "wait": 30})
    slept: list[float] = []
    with pytest.raises(mods.runner.CheckFailed) as failed:
        runner_for(mods, sleep=slept.append).run_check(container, check)
    assert slept == [] and len(server.seen) == 1
    assert "then the container stopped with exit code 3" in str(failed.value)


def test_command_checks_run_through_the_exec_hook(
    mods: SimpleNamespace, world: World, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    container = world.add(closed_port())
    (ok,) = checks(mods, {"name": "ready", "command": "echo all systems go", "content": "go"})
    runner_for(mods).run_check(container, ok)
    assert calls(root, "appliance_container_exec")[-1]["command"] == [
        "/bin/sh",
        "-c",
        "echo all systems go",
    ]
    assert '"ready" (command ["/bin/sh", "-c", "echo all systems go"]): passed' in (
        capsys.readouterr().out
    )
    (bad,) = checks(mods, {"name": "db", "command": "echo no db >&2; exit 3", "attempts": 1})
    with pytest.raises(mods.runner.CheckFailed) as failed:
        runner_for(mods).run_check(container, bad)
    message = str(failed.value)
    assert message.splitlines()[0] == 'check "db" of web failed on hello.web.1'
    assert "Expected: exit code 0" in message
    assert 'Got:      exit code 3, output "no db"' in message
    (argv,) = checks(mods, {"command": [sys.executable, "-c", "print('hi')"], "content": "bye"})
    with pytest.raises(mods.runner.CheckFailed, match='output without it: "hi"'):
        runner_for(mods, sleep=lambda s: None).run_check(container, argv)


def test_a_command_that_hangs_times_out(mods: SimpleNamespace, world: World) -> None:
    container = world.add(closed_port())
    (check,) = checks(mods, {"name": "hang", "command": "sleep 3", "timeout": 0.3, "attempts": 1})
    started = time.monotonic()
    with pytest.raises(mods.runner.CheckFailed, match=r"did not finish within 0\.3 s"):
        runner_for(mods).run_check(container, check)
    assert time.monotonic() - started < 2


def test_uptime_check_waits_for_the_container(
    mods: SimpleNamespace, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    young = world.add(closed_port(), up=0)
    (check,) = checks(mods, {"name": "boot", "uptime": 0.4})
    started = time.monotonic()
    runner_for(mods).run_check(young, check)
    assert 0.3 < time.monotonic() - started < 3
    assert 'startup "boot" (uptime 0.4 s): passed' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("state", "got"),
    [
        ({"restarts": 2}, "the container restarted 2 times"),
        ({"running": False, "exit_code": 137}, "the container stopped with exit code 137"),
    ],
)
def test_uptime_check_fails_at_once_on_a_crash(
    mods: SimpleNamespace, world: World, state: dict[str, Any], got: str
) -> None:
    container = world.add(closed_port(), up=1, **state)
    (check,) = checks(mods, {"name": "boot", "uptime": 60})
    started = time.monotonic()
    with pytest.raises(mods.runner.CheckFailed, match=f"Got:      {got}"):
        runner_for(mods).run_check(container, check)
    assert time.monotonic() - started < 2


def test_initial_delay_counts_from_the_container_start(
    mods: SimpleNamespace, world: World, server: Server
) -> None:
    slept: list[float] = []
    young = world.add(server.port, cid="young", up=1)
    (check,) = checks(mods, {"path": "/health", "initialDelay": 5})
    runner_for(mods, sleep=slept.append).run_check(young, check)
    assert len(slept) == 1 and 3.5 < slept[0] <= 4
    old = world.add(server.port, cid="old", up=50)
    runner_for(mods, sleep=slept.append).run_check(old, check)
    assert len(slept) == 1


def test_a_warn_check_only_warns(
    mods: SimpleNamespace, world: World, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    container = world.add(server.port)
    (check,) = checks(mods, {"name": "soft", "path": "/broken", "attempts": 1, "warn": True})
    runner_for(mods).run_check(container, check)
    err = capsys.readouterr().err
    assert 'check "soft" of web failed on hello.web.1 (a warning only' in err


def test_default_checks_wait_for_uptime_then_connect(
    mods: SimpleNamespace,
    world: World,
    server: Server,
    run: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    container = world.add(server.port, up=0)
    assert run("checks:set", "hello", "uptime", "1").code == 0
    capsys.readouterr()
    started = time.monotonic()
    runner_for(mods).run_process("web", [container], None)
    assert time.monotonic() - started >= 0.9
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "-----> Running checks for web",
        "       No healthchecks for web in app.json: default (uptime 1 s + TCP)",
        '       hello.web.1: startup "uptime" (uptime 1 s): passed',
        '       hello.web.1: startup "listening" (TCP connect): passed (attempt 1/3)',
    ]


# --- in the deploy pipeline ----------------------------------------------------------


def deploy(source: Path, **kwargs: Any) -> Deploy:
    appliance = open_appliance(Output(), user="alice")
    return pipeline.deploy_source(
        appliance, App("hello"), source, summary="test", rev="0" * 40, **kwargs
    )


def source_with(tmp_path: Path, name: str, app_json: dict[str, Any] | None = None) -> Path:
    source = tmp_path / name
    source.mkdir()
    if app_json is not None:
        (source / "app.json").write_text(json.dumps(app_json))
    return source


GOOD = {
    "healthchecks": {
        "web": [{"name": "health", "path": "/health", "content": "ready", "attempts": 2, "wait": 0}]
    }
}
BAD = {
    "healthchecks": {
        "web": [{"name": "health", "path": "/health", "content": "v2", "attempts": 2, "wait": 0}]
    }
}


def test_a_deploy_whose_checks_fail_is_refused(
    mods: SimpleNamespace,
    world: World,
    server: Server,
    root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world.add(server.port)
    first = deploy(source_with(tmp_path, "good", GOOD))
    assert first.release == 1 and "checks" in first.timings
    out = capsys.readouterr().out
    assert "-----> Running checks for web" in out
    assert 'hello.web.1: startup "health" (GET /health): passed' in out
    assert server.seen[-1]["Host"].startswith("hello.")

    with pytest.raises(mods.runner.CheckFailed, match='check "health" of web failed'):
        deploy(source_with(tmp_path, "bad", BAD))
    assert [c["deploy"] for c in calls(root, "appliance_scheduler_abort")] == [2]
    assert len(calls(root, "appliance_proxy_update")) == 1
    assert App("hello").settings.get("core", "release") == 1  # the old release serves on


def test_checks_file_is_kept_in_the_release(
    mods: SimpleNamespace, world: World, server: Server, tmp_path: Path
) -> None:
    world.add(server.port)
    source = source_with(tmp_path, "legacy")
    (source / "CHECKS").write_text("WAIT=0\nATTEMPTS=1\n/health ok ready\n")
    deploy(source)
    saved = releases.load(App("hello"), 1).app_json
    assert saved["healthchecks"]["web"][0]["content"] == "ok ready"
    # A deploy without source (restart, rollback, config change) reuses it.
    (source / "CHECKS").write_text("ATTEMPTS=1\n/health never there\n")
    with pytest.raises(UserError, match="never there"):
        deploy(source)
    appliance = open_appliance(Output(), user="alice")
    job = pipeline.deploy_image(appliance, App("hello"), "img:1", summary="test")
    assert job.app_json["healthchecks"]["web"][0]["content"] == "ok ready"


def test_skipped_and_disabled_checks_do_not_run(
    world: World,
    server: Server,
    tmp_path: Path,
    run: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world.add(server.port)
    deploy(source_with(tmp_path, "v1", GOOD))
    assert run("checks:skip", "hello").code == 0
    capsys.readouterr()
    assert deploy(source_with(tmp_path, "v2", BAD)).release == 2
    out = capsys.readouterr().out
    assert "Checks skipped for web: not run (checks:enable hello web)" in out
    assert "Running checks" not in out
    assert run("checks:enable", "hello").code == 0
    with pytest.raises(UserError):
        deploy(source_with(tmp_path, "v3", BAD))
    assert run("checks:disable", "hello", "web").code == 0
    assert deploy(source_with(tmp_path, "v4", BAD)).release == 3


def test_only_containers_of_a_process_type_get_its_checks(
    world: World, server: Server, tmp_path: Path, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    world.add(server.port)
    world.add(closed_port(), process="worker", cid="w1")
    assert run("checks:set", "hello", "uptime", "0").code == 0
    capsys.readouterr()
    deploy(source_with(tmp_path, "v1", GOOD))
    out = capsys.readouterr().out
    assert "-----> Running checks for web" in out and "-----> Running checks for worker" in out
    assert 'hello.worker.1: startup "uptime" (uptime 0 s): passed' in out
    assert 'hello.worker.1: startup "health"' not in out


# --- commands -----------------------------------------------------------------------


def test_disable_enable_skip(root: Path, run: Any) -> None:
    assert run("apps:create", "hello").code == 0
    app = App("hello")
    disabled = run("checks:disable", "hello")
    assert disabled.code == 0
    assert "-----> Checks disabled for every process type of hello" in disabled.out
    assert "old containers stop at once" in disabled.out
    assert app.settings.get("checks", "disabled") == ["_all_"]
    assert app.settings.get("checks", "wait_to_retire") is None  # the scheduler's key untouched

    assert run("checks:skip", "hello", "web,worker").code == 0
    app = App("hello")
    assert app.settings.get("checks", "skipped") == ["web", "worker"]
    assert app.settings.get("checks", "disabled") is None  # only web was known: all moved

    assert run("checks:disable", "hello", "worker").code == 0
    app = App("hello")
    assert (app.settings.get("checks", "skipped"), app.settings.get("checks", "disabled")) == (
        ["web"],
        ["worker"],
    )
    enabled = run("checks:enable", "hello", "web")
    assert enabled.code == 0 and "Checks disabled for: worker" in enabled.out
    app = App("hello")
    assert app.settings.get("checks", "skipped") is None
    assert run("checks:enable", "hello").code == 0
    assert App("hello").settings.table("checks") == {}

    bad = run("checks:skip", "hello", "Web")
    assert bad.code == 1 and "invalid process type 'Web'" in bad.err
    assert run("checks:skip", "nope").code == 1


def test_enabling_one_type_when_all_are_skipped(
    mods: SimpleNamespace, world: World, server: Server, tmp_path: Path, run: Any
) -> None:
    world.add(server.port)
    source = source_with(tmp_path, "v1", GOOD)
    (source / "Procfile").write_text("web: serve\nworker: work\nclock: tick\n")
    deploy(source)
    assert run("checks:skip", "hello").code == 0
    assert run("checks:enable", "hello", "worker").code == 0
    app = App("hello")
    assert app.settings.get("checks", "skipped") == ["web", "clock"]
    assert [mods.settings.status(app, p) for p in ("web", "worker", "clock", "other")] == [
        "skipped",
        "enabled",
        "skipped",
        "enabled",
    ]


def test_set(root: Path, run: Any) -> None:
    assert run("apps:create", "hello").code == 0
    done = run("checks:set", "hello", "wait-to-retire", "5")
    assert done.code == 0 and "wait-to-retire of hello set to 5 s" in done.out
    assert run("checks:set", "hello", "uptime", "2").code == 0
    app = App("hello")
    assert app.settings.table("checks") == {"wait_to_retire": 5, "uptime": 2}
    reset = run("checks:set", "hello", "uptime")
    assert reset.code == 0 and "reset to its default (10 s)" in reset.out
    assert App("hello").settings.table("checks") == {"wait_to_retire": 5}
    assert run("checks:set", "hello", "uptime", "-1").code == 1
    for bad in ("soon", "1e300", "601", "1_0", "\u0661", " 5", "5\n", "nan"):
        refused = run("checks:set", "hello", "uptime", bad)
        assert refused.code == 1 and "uptime (seconds) must be a whole number from 0 to 600" \
            in refused.err, refused.err
    refused = run("checks:set", "hello", "wait-to-retire", "3601")
    assert refused.code == 1 and "from 0 to 3600" in refused.err
    assert run("checks:set", "hello", "attempts", "3").code == 2


def test_report(
    world: World, server: Server, tmp_path: Path, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = json.loads(run("checks:report", "hello", "--format", "json").out)
    assert empty["release"] is None and list(empty["processes"]) == ["web"]
    assert empty["processes"]["web"]["summary"] == "default (uptime 10 s + TCP)"

    world.add(server.port)
    two = {"healthchecks": {"web": [*GOOD["healthchecks"]["web"], {"name": "up", "uptime": 0.1}]}}
    source = source_with(tmp_path, "v1", two)
    (source / "Procfile").write_text("web: serve\nworker: work\n")
    deploy(source)
    assert run("checks:disable", "hello", "worker").code == 0
    assert run("checks:set", "hello", "wait-to-retire", "30").code == 0
    capsys.readouterr()

    data = json.loads(run("checks:report", "hello", "--format", "json").out)
    assert (data["release"], data["wait_to_retire"], data["uptime"]) == (1, 30, 10)
    web, worker = data["processes"]["web"], data["processes"]["worker"]
    assert (web["status"], web["source"], web["summary"]) == (
        "enabled",
        "app.json",
        "app.json (2 checks)",
    )
    assert web["wait_to_retire"] == 30 and worker["wait_to_retire"] == 0
    assert [c["name"] for c in web["checks"]] == ["health", "up"]
    assert web["checks"][0] == {
        "name": "health", "type": "startup", "check": "GET /health", "source": "app.json",
        "attempts": 2, "timeout": 5, "wait": 0, "content": "ready",
    }  # fmt: skip
    assert (worker["status"], worker["summary"]) == ("disabled", "default (uptime 10 s)")

    text = run("checks:report", "hello").out
    assert "=====> hello checks" in text
    assert "web:              enabled: app.json (2 checks)" in text
    assert "worker:           disabled, old containers stop at once: default (uptime 10 s)" in text
    assert text.splitlines()[-4:] == [
        "PROCESS  TYPE     NAME    CHECK         SOURCE",
        "web      startup  health  GET /health   app.json",
        "web      startup  up      uptime 0.1 s  app.json",
        "worker   startup  uptime  uptime 10 s   default",
    ]

    report = json.loads(run("apps:report", "hello", "--format", "json").out)
    assert report["checks"] == "web: app.json (2 checks); worker: disabled, default (uptime 10 s)"
    assert report["checks_wait_to_retire"] == "30 s"


def test_run_checks_the_live_containers(
    world: World, server: Server, tmp_path: Path, run: Any, root: Path
) -> None:
    never = run("checks:run", "hello")
    assert never.code == 1 and "hello has not been deployed yet" in never.err
    world.add(server.port)
    deploy(source_with(tmp_path, "v1", GOOD))
    seen = len(server.seen)
    passed = run("checks:run", "hello")
    assert passed.code == 0, passed.err
    assert "-----> Running checks for web" in passed.out
    assert "-----> Checks passed for hello (release v1)" in passed.out
    assert len(server.seen) == seen + 1
    assert not calls(root, "appliance_proxy_update")[1:]  # traffic untouched

    world.data["containers"][0]["port"] = closed_port()
    world.save()
    failed = run("checks:run", "hello", "--process", "web")
    assert failed.code == 1
    assert 'check "health" of web failed on hello.web.1' in failed.err
    assert "connection refused" in failed.err
    nothing = run("checks:run", "hello", "--process", "worker")
    assert nothing.code == 1 and "hello has no running containers of worker" in nothing.err


def test_a_broken_release_app_json_shows_in_the_report(
    mods: SimpleNamespace, root: Path, run: Any
) -> None:
    assert run("apps:create", "hello").code == 0
    app = App("hello")
    releases.record(
        app, releases.Release(number=1, app_json={"healthchecks": {"web": [{"timeout": "x"}]}})
    )
    app.settings.set("core", "release", 1)
    fields = mods.report.app_fields(App("hello"))
    assert "healthchecks.web[0].timeout" in fields["Checks problem"]
    assert fields["Checks"] == "web: default (uptime 10 s + TCP)"
