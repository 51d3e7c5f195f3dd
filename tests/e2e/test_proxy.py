"""The proxy commands against the real nginx, over SSH: proxy:report, show-config,
validate (`nginx -t` through sudo, nothing applied), logs, and disable/enable, which
deploy the app again unrouted and routed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from .conftest import Host, make_repo


def test_proxy_commands_with_nginx(host: Host, tmp_path: Path) -> None:
    app = host.new_app("proxy")
    repo = make_repo(tmp_path, "dockerfile-hello")
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("checks:set", app, "wait-to-retire", "0").returncode == 0
    pushed = host.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    assert host.get(app)[1].startswith("hello v1\n")

    report = json.loads(host.ssh("proxy:report", app, "--format", "json").stdout)
    assert report["proxy_computed_type"] == "nginx" and report["proxy_enabled"] is True
    assert report["vhost"].endswith(f"/nginx/{app}.conf") and len(report["targets"]) == 1
    config = host.ssh("proxy:show-config", app).stdout
    assert f"upstream appliance-{app}" in config

    validated = host.ssh("proxy:validate", app)
    assert validated.returncode == 0, validated.stderr
    assert "configuration is valid" in validated.stdout
    assert host.ssh("proxy:show-config", app).stdout == config  # nothing applied

    path = f"/proxy-{secrets.token_hex(4)}"
    assert host.get(app, path)[0] == 200
    assert path in host.ssh("proxy:logs", app, "-n", "20").stdout

    assert host.ssh("proxy:set", app, "caddy").returncode == 1  # no such proxy installed
    disabled = host.ssh("proxy:disable", app)
    assert disabled.returncode == 0, disabled.stderr
    assert "not routed" in disabled.stdout + disabled.stderr
    assert not host.get(app)[1].startswith("hello")  # nginx's default site answers
    assert host.ssh("proxy:show-config", app).returncode == 1
    enabled = host.ssh("proxy:enable", app)
    assert enabled.returncode == 0, enabled.stderr
    assert host.get(app)[1].startswith("hello v1\n")
