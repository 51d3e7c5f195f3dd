"""Storage, limits, networks and docker options, as a user sets them over SSH: a mount
that survives a redeploy, limits the container sees, two apps reaching each other by
`APP.web` on a shared network, an extra /etc/hosts entry, refused options."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

from .conftest import Host, commit, make_repo

FETCH = (
    "'import urllib.request as u; "
    "o = u.build_opener(u.ProxyHandler({{}})); "
    'print(o.open(\"http://{target}:5000/\", timeout=10).read().decode().strip())\''
)
LIMITS = (
    "'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes;"
    " cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us'"
)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def inspect(name: str) -> dict:
    found = subprocess.run(["docker", "inspect", name], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout)[0]


def web_container(host: Host, app: str) -> str:
    rows = json.loads(ok(host.ssh("ps:report", app, "--format", "json")))
    return next(r["name"] for r in rows if r["current"] and r["process"] == "web")


def test_storage_limits_network_and_options(host: Host, tmp_path: Path) -> None:
    first, second = host.new_app("store"), host.new_app("peer")
    network = f"e2e-net-{secrets.token_hex(3)}"
    directory = f"e2e-{secrets.token_hex(3)}"
    repo = make_repo(tmp_path, "workers")
    build_host = f"build-{secrets.token_hex(3)}.e2e.internal"  # unique: no cached layer
    with open(repo / "Dockerfile", "a") as dockerfile:
        dockerfile.write(f"RUN (getent hosts {build_host} || echo none) > /build-hosts\n")
    commit(repo, "see the build's extra host")
    created = ""
    try:
        created = ok(host.ssh("storage:ensure-directory", directory)).split()[3]
        assert Path(created).is_dir() and Path(created).stat().st_uid == 1000
        ok(host.ssh("network:create", network))
        for app in (first, second):
            ok(host.ssh("apps:create", app))
            ok(host.ssh("checks:set", app, "wait-to-retire", "0"))
            ok(host.ssh("ps:scale", app, "web=1", "worker=0"))
            # One joins when its containers are created, the other once its deploy is live.
            phase = "attach-post-deploy" if app == first else "initial-network"
            ok(host.ssh("network:set", app, phase, network))
        ok(host.ssh("storage:mount", first, f"{created}:/data"))
        ok(host.ssh("resource:limit", first, "--memory", "64m", "--cpu", "0.5"))
        extra_host = "'--add-host db.e2e.internal:10.11.12.13'"  # one word, as in Dokku
        ok(host.ssh("docker-options:add", first, "deploy,run", extra_host))
        ok(host.ssh("docker-options:add", first, "build", f"--add-host={build_host}:10.20.30.40"))

        refused = {
            ("storage:mount", first, "/etc:/etc"): "not inside the storage base",
            ("docker-options:add", first, "deploy", "-v", "/etc:/etc"): "use storage:mount",
            ("docker-options:add", first, "deploy", "--privileged"): "never allowed",
            ("docker-options:add", first, "build", "--init"): "cannot apply to builds",
            ("docker-options:add", first, "run", "--device=/dev/fuse"): "reaches into the host",
            ("network:destroy", network, "--force"): "is used by",
        }  # fmt: skip
        for command, message in refused.items():
            result = host.ssh(*command)
            assert result.returncode != 0 and message in result.stderr, (command, result.stderr)

        for app in (first, second):
            pushed = host.push(repo, app)
            assert pushed.returncode == 0, pushed.stderr

        # The web container: mount, limits, extra host, and the network with its names.
        web = inspect(web_container(host, first))
        assert f"{created}:/data:rw" in web["HostConfig"]["Binds"]
        assert web["HostConfig"]["Memory"] == web["HostConfig"]["MemorySwap"] == 64 * 2**20
        assert web["HostConfig"]["NanoCpus"] == 500_000_000
        assert "db.e2e.internal:10.11.12.13" in web["HostConfig"]["ExtraHosts"]
        aliases = web["NetworkSettings"]["Networks"][network]["Aliases"]
        assert {f"{first}.web", f"{first}.web.1"} <= set(aliases)

        # One-off containers get them too: the limits as the container sees them.
        seen = ok(host.ssh("run", first, LIMITS)).split()
        assert seen[0] == str(64 * 2**20) and seen[1] in ("50000", "50000 100000"), seen
        hosts = ok(host.ssh("run", first, "cat", "/etc/hosts"))
        assert "10.11.12.13\tdb.e2e.internal" in hosts
        assert ok(host.ssh("run", first, "cat", "/build-hosts")).split() == [
            "10.20.30.40", build_host
        ]  # the build's own extra host, seen by its RUN step
        answer = ok(host.ssh("run", first, "python3", "-c", FETCH.format(target=f"{second}.web")))
        assert answer.strip() == "dyno=web.1"

        # Storage: written from a container, written on the host, both kept by a redeploy.
        ok(host.ssh("run", first, "'echo from-run > /data/run.txt'"))
        (Path(created) / "host.txt").write_text("from-host\n")
        ok(host.ssh("ps:restart", first))
        after = ok(host.ssh("run", first, "'cat /data/run.txt /data/host.txt'"))
        assert after.split() == ["from-run", "from-host"]

        # The redeployed web container joined the network once live; peers reach it.
        name = web_container(host, first)
        assert network in inspect(name)["NetworkSettings"]["Networks"]
        reached = subprocess.run(
            ["docker", "exec", web_container(host, second), "python3", "-c",
             FETCH.format(target=f"{first}.web").strip("'")],
            capture_output=True, text=True,
        )  # fmt: skip
        assert reached.stdout.strip() == "dyno=web.1", reached.stderr
        report = json.loads(ok(host.ssh("network:report", first, "--format", "json")))
        assert report["attach-post-deploy"] == network
        listed = json.loads(ok(host.ssh("network:list", "--format", "json")))
        assert listed[network] == sorted([first, second])
        peer = inspect(web_container(host, second))["NetworkSettings"]["Networks"]
        assert list(peer) == [network]  # created on it: not on the default bridge
        assert {f"{second}.web", f"{second}.web.1"} <= set(peer[network]["Aliases"])
    finally:
        for app in (first, second):
            host.ssh("apps:destroy", app, "--force")
        destroyed = host.ssh("network:destroy", network, "--force")
        if created:
            shutil.rmtree(created, ignore_errors=True)
    assert destroyed.returncode == 0, destroyed.stderr
