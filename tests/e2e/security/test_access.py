"""Least privilege over real SSH: a granted key pushes and configures its own app and
is refused, in one line and with nothing changed, everywhere else; internal commands
are out of reach even for an admin; every attempt is in the audit log."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import pytest

from ..conftest import Host, make_repo, sh

STATE = Path("/var/lib/appliance")


@pytest.fixture(scope="module")
def granted(host: Host, tmp_path_factory: pytest.TempPathFactory):
    """A second key, not an admin, granted one app that the admin created."""
    keydir = tmp_path_factory.mktemp("granted")
    key = keydir / "id_ed25519"
    assert sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).returncode == 0
    name = f"dev-{secrets.token_hex(3)}"
    added = sh("appliance", "ssh-keys:add", name, input=(keydir / "id_ed25519.pub").read_text())
    assert added.returncode == 0, added.stderr
    assert "granted no apps yet" in added.stdout
    mine, theirs = host.new_app("mine"), host.new_app("theirs")
    for app in (mine, theirs):
        assert host.ssh("apps:create", app).returncode == 0
    assert sh("appliance", "ssh-keys:grant", name, mine).returncode == 0
    yield Host(key=key, key_name=name), mine, theirs
    sh("appliance", "ssh-keys:remove", name)


def fingerprint_of_state() -> dict[str, str]:
    watched = [STATE / "settings.toml", STATE / "ssh-keys.toml", STATE / "global-env.toml"]
    watched += sorted((STATE / "apps").glob("*/app.toml")) + sorted((STATE / "nginx").glob("*"))
    import pwd

    home = Path(pwd.getpwnam("appliance").pw_dir) / ".ssh" / "authorized_keys"
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in [*watched, home]
        if p.is_file()
    }


def audit_records(key: str) -> list[dict]:
    shown = sh("appliance", "audit:log", "--key", key, "-n", "200", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_a_granted_key_pushes_and_configures_its_app(host: Host, granted, tmp_path) -> None:
    dev, mine, theirs = granted
    repo = make_repo(tmp_path, "dockerfile-hello")
    pushed = dev.push(repo, mine)
    assert pushed.returncode == 0, pushed.stderr
    assert host.get(mine)[1].startswith("hello v1\n")
    configured = dev.ssh("config:set", mine, "GREETING=hi")
    assert configured.returncode == 0, configured.stderr
    assert dev.ssh("config:get", mine, "GREETING").stdout.strip() == "hi"
    assert json.loads(dev.ssh("apps:list", "--format", "json").stdout) == [mine]
    logs = dev.ssh("logs", mine, "-n", "5")
    assert logs.returncode == 0, logs.stderr
    admin_sees = json.loads(host.ssh("apps:list", "--format", "json").stdout)
    assert {mine, theirs} <= set(admin_sees)

    refused_push = dev.push(repo, theirs)
    assert refused_push.returncode != 0
    assert f"not allowed for key {dev.key_name}: app '{theirs}' is not granted to it" in (
        refused_push.stderr
    )
    records = audit_records(dev.key_name)
    pushes = [r for r in records if r["command"] == "git-receive-pack"]
    assert [(r["app"], r["outcome"]) for r in pushes[-2:]] == [(mine, "ok"), (theirs, "refused")]
    config = next(r for r in records if r["command"] == "config:set")
    assert config["args"] == [mine, "GREETING=<redacted>"] and config["source"] == "127.0.0.1"
    assert config["fingerprint"].startswith("SHA256:")


REFUSED = [
    ("apps:report", "{theirs}"),
    ("config:set", "{theirs}", "A=1"),
    ("config:set", "--global", "A=1"),
    ("config:set", "{mine}", "--global", "A=1"),
    ("ssh-keys:add", "evil", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZvbw"),
    ("ssh-keys:grant", "{key}", "{theirs}"),
    ("builder:set-global", "http-proxy", "http://attacker:3128"),
    ("domains:set-global", "attacker.example"),
    ("storage:mount", "{mine}", "/var/lib/appliance-storage/x:/x"),
    ("network:set", "{mine}", "initial-network", "bridge"),
    ("docker-options:add", "{theirs}", "deploy", "--cap-add", "CAP_CAP_SYS_ADMIN"),
    ("apps:destroy", "{mine}", "--force"),
    ("apps:create", "fresh-{key}"),
    ("plugin:list",),
    ("audit:log",),
    ("bash",),
]


def test_a_granted_key_is_refused_elsewhere_with_nothing_changed(host: Host, granted) -> None:
    dev, mine, theirs = granted
    before = fingerprint_of_state()
    for argv in REFUSED:
        words = [w.format(mine=mine, theirs=theirs, key=dev.key_name) for w in argv]
        result = dev.ssh(*words)
        assert result.returncode == 1, (words, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "not allowed" in lines[0], (words, result.stderr)
    assert fingerprint_of_state() == before
    refused = [r for r in audit_records(dev.key_name) if r["outcome"] == "refused"]
    assert {r["command"] for r in refused} >= {argv[0] for argv in REFUSED}


def test_cap_sys_admin_is_refused_even_on_its_own_app(granted) -> None:
    dev, mine, _ = granted
    for cap in ("CAP_CAP_SYS_ADMIN", "SYS_ADMIN", "cap_dac_read_search"):
        result = dev.ssh("docker-options:add", mine, "deploy", "--cap-add", cap)
        assert result.returncode != 0, result.stdout
    report = dev.ssh("docker-options:report", mine, "--format", "json")
    assert "SYS_ADMIN" not in report.stdout.upper() and "DAC_READ" not in report.stdout.upper()


def test_internal_commands_cannot_be_reached_even_by_an_admin(host: Host, granted) -> None:
    _, mine, _ = granted
    victim = STATE / "settings.toml"
    before = victim.read_bytes()
    attack = f"0 --output={victim} refs/heads/main\n"
    hook = host.ssh("git:hook", "pre-receive", mine, stdin=attack)
    assert hook.returncode == 1 and "command not allowed: 'git:hook'" in hook.stderr
    retire = host.ssh("scheduler-docker:retire", mine, "--before", "1")
    assert retire.returncode == 1 and "command not allowed" in retire.stderr
    ca = host.ssh("builder:set-global", "ca-bundle", "/etc/ssh/ssh_host_ed25519_key")
    assert ca.returncode == 1 and "runs only on the host" in ca.stderr
    assert victim.read_bytes() == before
    assert "git:hook" not in host.ssh("help").stdout


def test_a_key_allowed_to_create_apps_owns_what_it_creates(host: Host, granted) -> None:
    dev, _, _ = granted
    assert sh("appliance", "ssh-keys:grant", dev.key_name, "--create").returncode == 0
    app = host.new_app("created")
    try:
        created = dev.ssh("apps:create", app)
        assert created.returncode == 0, created.stderr
        shown = sh("appliance", "ssh-keys:report", dev.key_name, "--format", "json")
        report = json.loads(shown.stdout)
        assert app in report["apps"]
        assert dev.ssh("apps:report", app).returncode == 0
    finally:
        sh("appliance", "ssh-keys:revoke", dev.key_name, "--create")


def test_findings_a_granted_key_can_reach_are_refused_for_it_too(host: Host, granted) -> None:
    dev, mine, _ = granted
    before = fingerprint_of_state()
    attempts = [
        ("docker-options:add", mine, "deploy", "--security-opt", "apparmor=unconfined"),
        ("docker-options:add", mine, "deploy", "--security-opt", "label=type:spc_t"),
        ("docker-options:add", mine, "deploy", "--log-driver", "syslog"),
        ("docker-options:add", mine, "deploy", "--log-opt", "syslog-address=udp://10.0.0.1:514"),
        ("git:from-archive", mine, "http://127.0.0.1:22/x.tar.gz"),
        ("buildpacks:add", mine, "/var/lib/appliance-storage"),
        ("checks:set", mine, "wait-to-retire", "1e300"),
        ("ps:scale", mine, "web=1000000000000000000"),
    ]
    for argv in attempts:
        result = dev.ssh(*argv)
        assert result.returncode in (1, 2), (argv, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1, (argv, result.stderr)
    assert fingerprint_of_state() == before


def test_a_granted_key_cannot_build_from_another_apps_image(host: Host, granted, tmp_path) -> None:
    """The engine's image store is shared: another app's images live under a name with
    its random id, so `FROM appliance/THEIRS:build-N` finds nothing to build on."""
    dev, mine, theirs = granted
    repo = make_repo(tmp_path, "dockerfile-hello")
    deployed = host.push(repo, theirs)
    assert deployed.returncode == 0, deployed.stderr
    report = json.loads(host.ssh("apps:report", theirs, "--format", "json").stdout)
    image = report["deployed_image"]
    assert image.startswith(f"appliance/{theirs}-")
    tag = image.rpartition(":")[2]  # build-N: guessable, unlike the repository
    (repo / "Dockerfile").write_text(f"FROM appliance/{theirs}:{tag}\nCMD cat /app/*\n")
    from ..conftest import commit

    commit(repo, "steal")
    target = f"appliance@127.0.0.1:{mine}"  # forced: mine has another history already
    stolen = sh("git", "-C", repo, "push", "--force", target, "main:main", env=dev.git_env())
    assert stolen.returncode != 0
    assert "pre-receive hook declined" in stolen.stderr
    assert f"appliance/{theirs}" in stolen.stderr  # the base image was not found
