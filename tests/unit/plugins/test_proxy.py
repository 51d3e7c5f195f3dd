"""The proxy plugin, the proxy hooks, and a proxy replaced whole.

A fake proxy (`fake`) and a fake scheduler are written into the temporary state root
as installed plugins that import only `appliance.api`; the Docker scheduler and the
checks are disabled. proxy-nginx stays enabled with an `nginx` that is a script
recording its calls (`nginx.calls`), so a test sees whether nginx was reached, and
vhosts land under `$APPLIANCE_ROOT/nginx/`. No Docker, no nginx.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from appliance import api, boot
from appliance.state import App

FAKE_PROXY = """
import json

from appliance import api
from appliance.api import hookimpl

NAME = "fake"


def mine(app, appliance):
    return appliance.hook.appliance_app_proxy(app=app) == NAME


def record(hook, **info):
    with open(api.root() / "fake-proxy.jsonl", "a") as f:
        f.write(json.dumps({"hook": hook, **info}) + "\\n")


@hookimpl
def appliance_proxy_names():
    return [NAME]


@hookimpl
def appliance_proxy_prepare(deploy):
    if mine(deploy.app, deploy.appliance):
        deploy.extra["fake-proxy"] = [str(t) for t in deploy.targets]
        record("prepare", app=deploy.app.name)


@hookimpl
def appliance_proxy_update(deploy):
    if not mine(deploy.app, deploy.appliance):
        return None
    record("update", app=deploy.app.name, targets=deploy.extra["fake-proxy"])
    deploy.app.settings.set("fake-proxy", "targets", deploy.extra["fake-proxy"])
    return True


@hookimpl
def appliance_app_urls(app, appliance):
    return [f"https://{app.name}.fake.test/"] if mine(app, appliance) else []


@hookimpl
def appliance_proxy_report(app, appliance):
    if mine(app, appliance):
        return {"Fake targets": app.settings.get("fake-proxy", "targets", [])}
    return None


@hookimpl
def appliance_proxy_config(app, appliance):
    if mine(app, appliance):
        return "route " + " ".join(app.settings.get("fake-proxy", "targets", [])) + "\\n"
    return None


@hookimpl
def appliance_proxy_validate(app, appliance):
    if not mine(app, appliance):
        return None
    return ["bad route"] if (api.root() / "fake-invalid").exists() else []


@hookimpl
def appliance_proxy_logs(app, kind, lines, follow, out, appliance):
    if not mine(app, appliance):
        return None
    out.raw(f"{app.name} {kind} lines={lines} follow={follow}")
    return True


@hookimpl
def appliance_proxy_removed(app, proxy, out):
    if proxy == NAME:
        record("removed", app=app.name)
"""

FAKE_SCHEDULER = """
from appliance.api import Container, Target, hookimpl


@hookimpl
def appliance_scheduler_start(deploy):
    port = 5000 + deploy.id
    name = f"{deploy.app.name}.web.{deploy.id}"
    deploy.containers = [Container(f"c{deploy.id}", name, "web", deploy.id, "127.0.0.1", port)]
    return [Target("127.0.0.1", port)]


@hookimpl
def appliance_scheduler_abort(deploy):
    return True


@hookimpl
def appliance_scheduler_retire(deploy):
    return True
"""

FAKE_NGINX = """#!/bin/sh
echo "$*" >> {calls}
if [ -e {fails} ] && [ "$1" = "-t" ]; then
  echo "nginx: [emerg] unknown directive \\"bogus\\"" >&2
  exit 1
fi
exit 0
"""


def install(root: Path, name: str, code: str, hooks: list[str] | None = None) -> Path:
    """An installed plugin, as plugin:install leaves one."""
    folder = root / "plugins" / name
    folder.mkdir(parents=True)
    if hooks is None:
        hooks = [
            line[4:].partition("(")[0] for line in code.splitlines() if line.startswith("def app")
        ]
    (folder / "plugin.toml").write_text(
        f'name = "{name}"\nversion = "0.0.1"\nhooks = {json.dumps(hooks)}\n'
    )
    (folder / "__init__.py").write_text(textwrap.dedent(code))
    return folder


class Host:
    """A state root with the fake scheduler, proxy-nginx driving a recording `nginx`
    script, and the app `hello` (not deployed)."""

    def __init__(self, root: Path, run: Any) -> None:
        self.root, self.run = root, run
        for name in ("scheduler-docker", "checks"):
            assert run("plugin:disable", name).code == 0
        install(root, "fake-scheduler", FAKE_SCHEDULER)
        script = root / "fake-nginx"
        script.write_text(FAKE_NGINX.format(calls=root / "nginx.calls", fails=root / "nginx-fails"))
        script.chmod(0o755)
        settings = api.global_settings()
        settings.update(
            "proxy-nginx",
            {"nginx": str(script), "reload_helper": "", "pid_file": str(root / "no.pid")},
        )
        settings.set("domains", "global", "example.test")
        assert run("apps:create", "hello").code == 0

    def install_fake_proxy(self) -> None:
        install(self.root, "fake-proxy", FAKE_PROXY)

    def deploy(self) -> api.Deploy:
        appliance = boot.open_appliance()
        procfile = {"web": "serve"}
        return api.deploy_image(appliance, App("hello"), "img:1", summary="t", procfile=procfile)

    def nginx_calls(self) -> list[str]:
        calls = self.root / "nginx.calls"
        return calls.read_text().splitlines() if calls.is_file() else []

    def vhosts(self) -> list[str]:
        folder = self.root / "nginx"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def fake_calls(self) -> list[dict[str, Any]]:
        path = self.root / "fake-proxy.jsonl"
        lines = path.read_text().splitlines() if path.is_file() else []
        return [json.loads(line) for line in lines]

    def json(self, *argv: str) -> Any:
        result = self.run(*argv, "--format", "json")
        assert result.code == 0, result.err
        return json.loads(result.out)


@pytest.fixture
def host(root: Path, run: Any, monkeypatch: pytest.MonkeyPatch) -> Host:
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # the fake nginx runs without sudo
    return Host(root, run)


# --- a proxy replaced whole ----------------------------------------------------


def test_a_fake_proxy_routes_the_app_and_nginx_is_never_reached(host: Host, run: Any) -> None:
    host.install_fake_proxy()
    assert run("proxy:set", "hello", "fake").code == 0
    job = host.deploy()
    assert [c["hook"] for c in host.fake_calls()] == ["prepare", "update"]
    assert host.fake_calls()[1]["targets"] == [str(t) for t in job.targets]
    assert run("ps:restart", "hello").code == 0
    assert [c["hook"] for c in host.fake_calls()][2:] == ["prepare", "update"]
    # proxy-nginx rendered nothing and never ran nginx.
    assert host.vhosts() == [] and host.nginx_calls() == []
    report = host.json("proxy:report", "hello")
    assert report["proxy_computed_type"] == "fake" and report["proxy_type"] == "fake"
    assert report["fake_targets"] == ["127.0.0.1:5002"] and "vhost" not in report
    assert run("proxy:show-config", "hello").out == "route 127.0.0.1:5002\n"
    assert "proxy_targets" not in host.json("apps:report", "hello")
    assert host.json("apps:report", "hello")["proxy"] == "fake"


def test_the_deploy_announces_the_fake_proxys_url(host: Host, run: Any) -> None:
    host.install_fake_proxy()
    assert run("proxy:set", "hello", "fake").code == 0
    host.deploy()
    restarted = run("ps:restart", "hello")
    assert "Application deployed: https://hello.fake.test/" in restarted.out + restarted.err


def test_an_app_whose_proxy_is_missing_fails_to_deploy(host: Host, run: Any) -> None:
    host.install_fake_proxy()
    assert run("proxy:set", "hello", "fake").code == 0
    host.deploy()
    assert run("plugin:disable", "fake-proxy").code == 0
    failed = run("ps:restart", "hello")
    assert failed.code != 0 and "no proxy handles hello" in failed.err
    assert host.vhosts() == []  # nginx does not step in for another proxy's app


def test_switching_a_deployed_app_from_nginx_to_another_proxy(host: Host, run: Any) -> None:
    host.deploy()
    assert host.vhosts() == ["0-appliance-global.conf", "hello.conf"]
    assert "-s reload" in host.nginx_calls()
    host.install_fake_proxy()
    switched = run("proxy:set", "hello", "fake")
    assert switched.code == 0, switched.err
    assert [c["hook"] for c in host.fake_calls()] == ["prepare", "update"]
    assert host.vhosts() == ["0-appliance-global.conf"]  # nginx let go of the app
    assert App("hello").settings.get("proxy-nginx", "targets") is None
    back = run("proxy:set", "hello")  # the default again: nginx
    assert back.code == 0, back.err
    assert host.vhosts() == ["0-appliance-global.conf", "hello.conf"]
    assert host.fake_calls()[-1]["hook"] == "removed"


def test_a_failed_switch_keeps_the_old_proxy(host: Host, run: Any) -> None:
    host.deploy()
    host.install_fake_proxy()
    assert run("plugin:disable", "fake-scheduler").code == 0  # the restart cannot start
    failed = run("proxy:set", "hello", "fake")
    assert failed.code != 0 and "scheduler" in failed.err
    assert App("hello").settings.get("proxy", "selected") is None
    assert host.vhosts() == ["0-appliance-global.conf", "hello.conf"]


# --- proxy:disable / proxy:enable --------------------------------------------------


def test_a_disabled_proxy_deploys_the_app_unrouted(host: Host, run: Any) -> None:
    host.deploy()
    disabled = run("proxy:disable", "hello")
    assert disabled.code == 0, disabled.err
    assert "not routed" in disabled.out
    assert "Application deployed: hello" in disabled.out
    assert host.vhosts() == ["0-appliance-global.conf"]
    assert host.json("apps:report", "hello")["proxy"] == "none (disabled)"
    report = host.json("proxy:report", "hello")
    assert report["proxy_enabled"] is False and report["proxy_computed_type"] is None
    assert run("ps:restart", "hello").code == 0  # still deploys, unrouted
    assert "nothing to do" in run("proxy:disable", "hello").out
    missing = run("proxy:show-config", "hello")
    assert missing.code == 1 and "hello is not routed (proxy:enable hello)" in missing.err
    assert run("proxy:enable", "hello").code == 0
    assert host.vhosts() == ["0-appliance-global.conf", "hello.conf"]
    assert run("proxy:show-config", "hello").out.startswith("# Managed by appliance for hello")


def test_disabling_an_app_that_was_never_deployed_only_records_it(host: Host, run: Any) -> None:
    assert run("proxy:disable", "hello").code == 0
    assert App("hello").settings.get("proxy", "disabled") is True
    assert host.nginx_calls() == [] and not App("hello").settings.get("core", "release")


# --- the hooks ---------------------------------------------------------------


def test_hook_appliance_app_proxy(host: Host, run: Any, root: Path) -> None:
    def decided() -> str | None:
        return boot.open_appliance().hook.appliance_app_proxy(app=App("hello"))

    assert decided() == "nginx"
    host.install_fake_proxy()
    assert run("proxy:set-global", "fake").code == 0
    assert decided() == "fake"
    assert run("proxy:set", "hello", "nginx").code == 0
    assert decided() == "nginx"
    assert run("proxy:set-global").code == 0
    assert run("proxy:disable", "hello").code == 0
    assert decided() is None
    # An outside plugin's decision wins over the built-in (trylast) default.
    install(
        root,
        "pinned-proxy",
        "from appliance.api import hookimpl\n\n\n@hookimpl\n"
        "def appliance_app_proxy(app):\n    return 'fake'\n",
    )
    assert decided() == "fake"


def test_hook_appliance_proxy_names(host: Host, run: Any, root: Path) -> None:
    unknown = run("proxy:set", "hello", "fake")
    assert unknown.code == 1 and "no installed plugin is a proxy named 'fake'" in unknown.err
    assert "known: nginx" in unknown.err
    assert "invalid proxy name" in run("proxy:set", "hello", "Fake;rm").err
    assert run("proxy:set-global", "fake").code == 1
    host.install_fake_proxy()
    assert run("proxy:set", "hello", "fake").code == 0
    assert App("hello").settings.get("proxy", "selected") == "fake"
    # A trigger executable answers too (its stdout is the JSON list).
    trigger = root / "plugins" / "caddy" / "triggers" / "appliance_proxy_names"
    trigger.parent.mkdir(parents=True)
    (trigger.parent.parent / "plugin.toml").write_text('name = "caddy"\nversion = "1"\n')
    trigger.write_text("#!/bin/sh\necho '[\"caddy\"]'\n")
    trigger.chmod(0o755)
    names = boot.open_appliance().hook.appliance_proxy_names()
    assert sorted(n for found in names for n in found) == ["caddy", "fake", "nginx"]
    assert run("proxy:set-global", "caddy").code == 0
    assert api.global_settings().get("proxy", "selected") == "caddy"


def test_hook_appliance_proxy_report(host: Host, run: Any) -> None:
    report = host.json("proxy:report", "hello")
    assert report == {
        "proxy_enabled": True,
        "proxy_type": None,
        "proxy_global_type": "nginx",
        "proxy_computed_type": "nginx",
        "vhost": "none (not deployed)",
        "targets": [],
        "urls": ["http://hello.example.test/"],
    }
    host.deploy()
    text = run("proxy:report", "hello").out
    assert "=====> hello proxy information" in text
    assert "Targets:" in text and "127.0.0.1:5001" in text
    host.install_fake_proxy()
    assert run("apps:create", "other").code == 0
    assert run("proxy:set", "other", "fake").code == 0
    every = host.json("proxy:report")
    assert every["hello"]["vhost"].endswith("/nginx/hello.conf")
    assert every["other"]["fake_targets"] == [] and "vhost" not in every["other"]


def test_hook_appliance_proxy_config(host: Host, run: Any) -> None:
    missing = run("proxy:show-config", "hello")
    assert missing.code == 1 and "no nginx config yet" in missing.err
    host.deploy()
    config = run("proxy:show-config", "hello").out
    assert "server 127.0.0.1:5001 max_fails=0;" in config
    host.install_fake_proxy()
    assert run("proxy:set", "hello", "fake").code == 0
    assert run("proxy:show-config", "hello").out == "route 127.0.0.1:5002\n"


def test_hook_appliance_proxy_validate(host: Host, run: Any, root: Path) -> None:
    missing = run("proxy:validate", "hello")
    assert missing.code == 1 and "not routed yet" in missing.err
    host.deploy()
    vhost = root / "nginx" / "hello.conf"
    deployed = vhost.read_text()
    override = root / "apps" / "hello" / "templates" / "nginx" / "app.conf.j2"
    override.parent.mkdir(parents=True)
    override.write_text("bogus {{ app }};\n")
    calls = len(host.nginx_calls())
    (root / "nginx-fails").touch()
    invalid = run("proxy:validate", "hello")
    assert invalid.code == 1 and 'unknown directive "bogus"' in invalid.err
    assert host.nginx_calls()[calls:] == ["-t -q"]  # tested, never reloaded
    assert vhost.read_text() == deployed  # the running config is as it was
    (root / "nginx-fails").unlink()
    assert "configuration is valid" in run("proxy:validate", "hello").out
    assert vhost.read_text() == deployed
    host.install_fake_proxy()
    assert run("proxy:set", "hello", "fake").code == 0
    assert run("proxy:validate", "hello").code == 0
    (root / "fake-invalid").touch()
    assert "bad route" in run("proxy:validate", "hello").err


def test_hook_appliance_proxy_logs(host: Host, run: Any, tmp_path: Path) -> None:
    logs = tmp_path / "nginx-logs"
    logs.mkdir()
    api.global_settings().set("proxy-nginx", "log_dir", str(logs))
    missing = run("proxy:logs", "hello")
    assert missing.code == 1 and "first request" in missing.err
    (logs / "hello-access.log").write_text("".join(f"GET /{i}\n" for i in range(5)))
    (logs / "hello-error.log").write_text("upstream timed out\n")
    assert run("proxy:logs", "hello", "-n", "2").out == "GET /3\nGET /4\n"
    assert run("proxy:logs", "hello", "--error").out == "upstream timed out\n"
    host.install_fake_proxy()
    assert run("proxy:set", "hello", "fake").code == 0
    assert run("proxy:logs", "hello", "--error", "-n", "0").out == (
        "hello error lines=0 follow=False\n"
    )
    assert run("proxy:disable", "hello").code == 0
    assert "hello is not routed" in run("proxy:logs", "hello").err


def test_hook_appliance_proxy_removed(host: Host, run: Any) -> None:
    host.install_fake_proxy()
    assert run("proxy:set", "hello", "fake").code == 0
    host.deploy()
    assert run("proxy:disable", "hello").code == 0
    assert host.fake_calls()[-1] == {"hook": "removed", "app": "hello"}
    # nginx is told about the fake proxy's app too, and leaves it alone.
    assert host.vhosts() == [] and host.nginx_calls() == []
    assert run("proxy:enable", "hello").code == 0
    assert [c["hook"] for c in host.fake_calls()][-2:] == ["prepare", "update"]


def test_the_template_watcher_leaves_another_proxys_apps_alone(host: Host, run: Any) -> None:
    class Daemon:
        """What the watcher uses of the daemon: its appliance and its log."""

        def __init__(self) -> None:
            self.appliance = boot.open_appliance()
            self.logged: list[str] = []

        def log(self, message: str, plugin: str) -> None:
            self.logged.append(message)

    appliance = boot.open_appliance()
    watch = appliance.registry.import_module(appliance.registry.get("proxy-nginx"), "watch")
    host.deploy()
    override = host.root / "templates" / "nginx" / "app.conf.j2"
    override.parent.mkdir(parents=True)
    override.write_text("# overridden for {{ app }}\n")
    watcher = watch.TemplateWatcher(Daemon())
    watcher.changed([str(override)])
    vhost = host.root / "nginx" / "hello.conf"
    assert vhost.read_text() == "# overridden for hello\n"
    host.install_fake_proxy()
    App("hello").settings.set("proxy", "selected", "fake")  # as if no switch had happened
    override.write_text("# changed again\n")
    calls = len(host.nginx_calls())
    watch.TemplateWatcher(Daemon()).changed([str(override)])
    assert vhost.read_text() == "# overridden for hello\n" and len(host.nginx_calls()) == calls
