"""Security findings about container options, networks and unbounded numbers, driven
over real SSH with an ordinary key: each attempt is refused with one clear line on
stderr and a non-zero exit, and nothing changes (settings, releases, Docker).

Findings (issue 10): 1 (`--cap-add CAP_CAP_SYS_ADMIN`) and 8 (security options, log
drivers, foreign networks, health-check numbers, archive bombs, from-archive to a
loopback port)."""

from __future__ import annotations

import gzip
import io
import json
import secrets
import tarfile
from pathlib import Path

import pytest

from ..conftest import FIXTURES, Host, commit, make_repo, sh

CAPABILITIES = [
    ["--cap-add", "CAP_CAP_SYS_ADMIN"],
    ["--cap-add=CAP_CAP_SYS_ADMIN"],
    ["--cap-add", "SYS_ADMIN"],
    ["--cap-add=sys_admin"],
    ["--cap-add", "cap_dac_read_search"],
    ["--cap-add=CAP_CAP_DAC_READ_SEARCH"],
    ["--cap-add", "Cap_Sys_Module"],
    ["--cap-add=SYS_PTRACE"],
    ["--cap-add=NET_ADMIN"],
    ["--cap-add=ALL"],
    ["--cap-add", "\u017fys_admin"],  # a long s: upper() makes it S
    ["--cap-add", "SYS_\u0391DMIN"],  # a Greek capital alpha
    ["--cap-add", "'SYS_ADMIN\n'"],
    ["--cap-drop", "CAP_CAP_CHOWN"],
]
SECURITY_OPTS = [
    ["--security-opt", "apparmor=docker-default"],
    ["--security-opt=apparmor=unconfined"],
    ["--security-opt", "seccomp=unconfined"],
    ["--security-opt", "label=type:spc_t"],
    ["--security-opt", "label:disable"],
    ["--security-opt", "no-new-privileges:false"],
]
LOGGING = [
    ["--log-driver", "syslog"],
    ["--log-driver=gelf"],
    ["--log-driver", "fluentd"],
    ["--log-driver", "splunk"],
    ["--log-opt", "syslog-address=tcp://127.0.0.1:22"],
    ["--log-opt", "gelf-address=udp://10.0.0.1:12201"],
    ["--log-opt", "splunk-url=https://169.254.169.254/"],
    ["--log-opt", "max-size=1000g"],
    ["--log-opt", "max-file=100000"],
]


def refused_in_one_line(result: object, *wanted: str) -> str:
    code = result.returncode  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    err = err.decode() if isinstance(err, bytes) else err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for text in wanted:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def app(host: Host) -> str:
    name = host.new_app("sec")
    created = host.ssh("apps:create", name)
    assert created.returncode == 0, created.stderr
    return name


def options(host: Host, app: str) -> dict[str, list[str]]:
    shown = host.ssh("docker-options:report", app, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


@pytest.mark.parametrize("words", CAPABILITIES + SECURITY_OPTS + LOGGING, ids=repr)
def test_host_reaching_docker_options_are_refused(host: Host, app: str, words: list[str]) -> None:
    before = options(host, app)
    for phase in ("deploy", "run", "deploy,run"):
        refused_in_one_line(host.ssh("docker-options:add", app, phase, *words))
    assert options(host, app) == before == {"build": [], "deploy": [], "run": []}


def test_refused_capability_is_named_with_what_is_allowed(host: Host, app: str) -> None:
    line = refused_in_one_line(
        host.ssh("docker-options:add", app, "deploy", "--cap-add", "CAP_SYS_ADMIN"),
        "--cap-add SYS_ADMIN is not allowed", "NET_BIND_SERVICE", "CHOWN", "IPC_LOCK",
    )  # fmt: skip
    assert "SYS_ADMIN, " not in line  # not offered among the allowed ones


def test_allowed_options_are_kept_normalised(host: Host, app: str) -> None:
    added = host.ssh(
        "docker-options:add", app, "deploy", "--cap-drop=all", "--cap-add", "cap_chown",
        "--cap-add=Net_Bind_Service", "--security-opt", "no-new-privileges=true",
        "--log-driver", "local", "--log-opt", "max-size=10m",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert options(host, app)["deploy"] == [
        "--cap-drop=ALL", "--cap-add=CHOWN", "--cap-add=NET_BIND_SERVICE",
        "--security-opt=no-new-privileges", "--log-driver=local", "--log-opt=max-size=10m",
    ]  # fmt: skip


def test_allowed_options_reach_docker_normalised(host: Host, tmp_path: Path) -> None:
    app = host.new_app("sec")
    assert host.ssh("apps:create", app).returncode == 0
    added = host.ssh(
        "docker-options:add", app, "deploy", "--cap-drop=cap_net_raw", "--cap-add", "Cap_Chown",
        "--security-opt=no-new-privileges:true", "--log-driver=local", "--log-opt=max-size=10m",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    pushed = host.push(make_repo(tmp_path, "dockerfile-hello"), app)
    assert pushed.returncode == 0, pushed.stderr
    found = sh("docker", "ps", "-q", "--filter", f"label=appliance.app={app}").stdout.split()
    assert found
    config = json.loads(sh("docker", "inspect", found[0]).stdout)[0]["HostConfig"]
    assert config["CapAdd"] == ["CHOWN"] and config["CapDrop"] == ["NET_RAW"]
    assert config["SecurityOpt"] == ["no-new-privileges"]
    assert config["LogConfig"] == {"Type": "local", "Config": {"max-size": "10m"}}


def test_networks_the_appliance_did_not_make_are_refused(
    host: Host, app: str, tmp_path: Path
) -> None:
    foreign = f"e2e-tenant-{secrets.token_hex(3)}"
    ours = f"e2e-ours-{secrets.token_hex(3)}"
    made = sh("docker", "network", "create", foreign)
    assert made.returncode == 0, made.stderr
    network_id = made.stdout.strip()
    try:
        before = host.ssh("network:report", app, "--format", "json").stdout
        for phase in ("initial-network", "attach-post-create", "attach-post-deploy"):
            for name in (foreign, network_id[:12], network_id):
                refused_in_one_line(host.ssh("network:set", app, phase, name))
            refused_in_one_line(host.ssh("network:set", app, phase, "host"),
                                "invalid network name")  # fmt: skip
        refused_in_one_line(host.ssh("network:set", app, "initial-network", foreign),
                            "was not created by network:create")  # fmt: skip
        refused_in_one_line(host.ssh("network:destroy", foreign, "--force"),
                            "was not created by network:create")  # fmt: skip
        refused_in_one_line(host.ssh("network:create", foreign), "already exists")
        assert host.ssh("network:report", app, "--format", "json").stdout == before
        assert sh("docker", "network", "inspect", foreign).returncode == 0  # still there

        # A network set while it was ours, then replaced by one made outside the
        # appliance under the same name: the next container is not put on it.
        assert host.ssh("network:create", ours).returncode == 0
        chosen = host.ssh("network:set", app, "attach-post-create", ours)
        assert chosen.returncode == 0, chosen.stderr
        assert sh("docker", "network", "rm", ours).returncode == 0
        assert sh("docker", "network", "create", ours).returncode == 0
        repo = make_repo(tmp_path, "dockerfile-hello")
        pushed = host.push(repo, app)
        assert pushed.returncode != 0
        assert f"network {ours!r} was not created by network:create" in pushed.stderr
        assert sh("docker", "ps", "-q", "--filter", f"label=appliance.app={app}").stdout == ""
    finally:
        sh("docker", "network", "rm", foreign)
        sh("docker", "network", "rm", ours)


def test_health_check_numbers_from_app_json_are_bounded(host: Host, tmp_path: Path) -> None:
    app = host.new_app("sec")
    repo = make_repo(tmp_path, "checks-good")
    good = host.push(repo, app)
    assert good.returncode == 0, good.stderr
    assert host.get(app)[1].startswith("checks v1\n")
    for field, value, message in [
        ("wait", "1e300", "web[0].wait must be a number from 0 to 60, got 1e+300"),
        ("attempts", "1000000000000000000", "web[0].attempts must be a whole number from 1 to"),
        ("timeout", "NaN", "web[0].timeout must be a number from 0 to 120, got nan"),
    ]:
        spec = json.loads((FIXTURES / "apps" / "checks-good" / "app.json").read_text())
        spec["healthchecks"]["web"][0][field] = "NUMBER"
        (repo / "app.json").write_text(json.dumps(spec).replace('"NUMBER"', value))
        (repo / "message.txt").write_text("checks v2\n")
        commit(repo, f"{field} {value}")
        refused = host.push(repo, app)
        assert refused.returncode != 0 and message in refused.stderr, refused.stderr
        assert host.get(app)[1].startswith("checks v1\n")  # the old release serves on
    for command, message in [
        (("checks:set", app, "wait-to-retire", "1e300"), "wait-to-retire (seconds) must be"),
        (("checks:set", app, "uptime", "99999999"), "uptime (seconds) must be"),
        (("ps:scale", app, "web=1000000"), "count of web must be a whole number from 0 to 50"),
        (("releases:set", app, "keep", "-1"), "keep must be a whole number from 1 to 1000"),
        (("apps:set", app, "lock-timeout", "1e9"), "lock-timeout (seconds) must be"),
    ]:
        refused_in_one_line(host.ssh(*command), message)
    assert host.get(app)[1].startswith("checks v1\n")


def test_from_archive_refuses_internal_urls(host: Host) -> None:
    app = host.new_app("sec")
    for url in ("http://127.0.0.1:22/x.tar.gz", "http://localhost:80/x.tgz",
                "http://169.254.169.254/latest/meta-data/", "http://[::1]:22/x",
                "http://10.0.0.1/x.tgz"):  # fmt: skip
        refused_in_one_line(host.ssh("git:from-archive", app, url), "refusing to fetch from")
    assert host.ssh("apps:report", app).returncode != 0  # not even created


def _header_only(name: str, size: int) -> bytes:
    """A tar member whose header claims `size` bytes, with none of them."""
    member = tarfile.TarInfo(name)
    member.size = size
    return member.tobuf(tarfile.GNU_FORMAT)


@pytest.mark.parametrize(
    "data, message",
    [
        (gzip.compress(_header_only("zeros.bin", 8 << 30) + bytes(4096)),
         "the archive unpacks to more than 1024 MiB (the limit)"),
        (gzip.compress(b"".join(_header_only(f"f{i}", 0) for i in range(100_001)) + bytes(1024)),
         "the archive has more than 100000 members (the limit)"),
    ],
    ids=["8-GiB-file", "100001-members"],
)  # fmt: skip
def test_archive_bombs_are_refused_and_nothing_deploys(
    host: Host, data: bytes, message: str
) -> None:
    assert len(data) < 1 << 20
    app = host.new_app("sec")
    refused_in_one_line(host.ssh_bytes("git:from-archive", app, "-", stdin=data), message)
    assert host.ssh("apps:report", app).returncode != 0  # nothing created, nothing deployed


def test_archive_special_members_are_refused(host: Host) -> None:
    app = host.new_app("sec")
    for kind, link in ((tarfile.SYMTYPE, "/etc"), (tarfile.LNKTYPE, "/etc/shadow"),
                       (tarfile.CHRTYPE, ""), (tarfile.FIFOTYPE, "")):  # fmt: skip
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            member = tarfile.TarInfo("evil")
            member.type, member.linkname = kind, link
            archive.addfile(member)
        refused = host.ssh_bytes("git:from-archive", app, "-", stdin=buffer.getvalue())
        refused_in_one_line(refused, "refusing archive entry 'evil'")
    assert host.ssh("apps:report", app).returncode != 0
