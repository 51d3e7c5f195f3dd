"""Keys, grants and scopes: who may run what, enforced by the core, and audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance import access, audit
from appliance.manifest import read_manifest
from appliance.registry import Registry
from tests.unit.test_ssh_entry import public_key, store_keys


@pytest.fixture
def ssh(run, monkeypatch: pytest.MonkeyPatch, root: Path):
    def _ssh(key: str, command: str, stdin: str = ""):
        monkeypatch.setenv("SSH_ORIGINAL_COMMAND", command)
        monkeypatch.setenv("SSH_CONNECTION", "203.0.113.9 50000 127.0.0.1 22")
        return run("ssh", "--key", key, stdin=stdin)

    return _ssh


@pytest.fixture
def team(root: Path, run) -> None:
    """An admin, a key granted `blog`, a key that may create apps; apps blog and shop."""
    store_keys(admin={"admin": True}, bob={"apps": ["blog"]}, carol={"create": True})
    for app in ("blog", "shop"):
        assert run("apps:create", app).code == 0


def records(**match: str) -> list[dict]:
    return [e for e in audit.read() if all(e.get(k) == v for k, v in match.items())]


def test_a_granted_key_uses_its_app_and_nothing_else(team, ssh) -> None:
    assert ssh("bob", "apps:report blog --format json").code == 0
    assert json.loads(ssh("bob", "apps:list --format json").out) == ["blog"]
    refused = {
        "apps:report shop": "app 'shop' is not granted to it",
        "apps:report": "without an app acts on the host",
        "apps:destroy blog --force": "acts on the host",
        "apps:create other": "app 'other' is not granted to it",
        "ssh-keys:add eve": "acts on the host",
        "ssh-keys:grant bob shop": "acts on the host",
        "config:set --global A=1": "acts on the host",
        "config:set blog --global A=1": "config:set --global acts on the host",
        "builder:set-global http-proxy http://x": "acts on the host",
        "storage:mount blog /var/lib/appliance/storage/x:/x": "acts on the host",
        "network:set blog initial-network n": "acts on the host",
        "plugin:list": "acts on the host",
        "audit:log": "acts on the host",
        "git-receive-pack 'shop'": "app 'shop' is not granted to it",
        "git-upload-pack '~/shop.git'": "app 'shop' is not granted to it",
        "some-shell-verb x": "command not allowed",
    }
    for command, reason in refused.items():
        result = ssh("bob", command)
        assert result.code == 1, command
        assert result.err.strip() in (
            f"!     not allowed for key bob: {reason}",
            f"!     {reason}: 'some-shell-verb'; see 'ssh appliance@HOST help'",
        ) or reason in result.err, (command, result.err)
        assert len(result.err.strip().splitlines()) == 1, result.err
    logged = records(key="bob", outcome="refused")
    assert len(logged) == len(refused)
    assert {e["source"] for e in logged} == {"203.0.113.9"}
    assert all(e["fingerprint"].startswith("SHA256:") for e in logged)


def test_option_abbreviations_cannot_widen_a_command(team, ssh) -> None:
    result = ssh("bob", "config:show blog --glob")
    assert result.code == 2 and "unrecognized arguments: --glob" in result.err


def test_internal_commands_are_refused_over_ssh_even_for_an_admin(team, ssh, root) -> None:
    for command in ("git:hook pre-receive blog", "scheduler-docker:retire blog --before 1"):
        result = ssh("admin", command, stdin="0 --output=/tmp/x refs/heads/main\n")
        assert result.code == 1 and "command not allowed" in result.err
    result = ssh("admin", "builder:set-global ca-bundle /etc/ssh/ssh_host_ed25519_key")
    assert result.code == 1 and "runs only on the host" in result.err
    assert "ca-bundle" not in (root / "settings.toml").read_text() if (
        root / "settings.toml"
    ).exists() else True


def test_a_key_allowed_to_create_apps_is_granted_each_it_creates(team, ssh, run) -> None:
    assert ssh("carol", "apps:create mine").code == 0
    assert access.load_keys()["carol"].apps == {"mine"}
    assert ssh("carol", "apps:report mine --format json").code == 0
    assert ssh("carol", "apps:report blog").code == 1
    assert ssh("carol", "apps:create blog").code == 1  # exists: not hers to take
    assert run("apps:destroy", "mine", "--force").code == 0
    assert access.load_keys()["carol"].apps == set()


def test_a_destroyed_app_takes_its_grants_with_it(team, run) -> None:
    assert run("apps:destroy", "blog", "--force").code == 0
    assert run("apps:create", "blog").code == 0
    assert access.load_keys()["bob"].apps == set()


def test_removed_or_unknown_keys_get_nothing(team, ssh) -> None:
    result = ssh("mallory", "apps:list")
    assert result.code == 1 and "the key is not authorised" in result.err


def test_grant_revoke_report_and_roles(team, run) -> None:
    assert run("ssh-keys:grant", "bob", "shop").code == 0
    assert access.load_keys()["bob"].apps == {"blog", "shop"}
    assert run("ssh-keys:revoke", "bob", "blog").code == 0
    report = json.loads(run("ssh-keys:report", "bob", "--format", "json").out)
    assert report["apps"] == ["shop"] and report["role"] == "granted"
    assert report["fingerprint"].startswith("SHA256:")
    assert run("ssh-keys:grant", "bob", "ghost").code == 1
    assert "is an admin" in run("ssh-keys:grant", "admin", "shop").err
    assert run("ssh-keys:set-role", "bob", "admin").code == 0
    assert access.load_keys()["bob"].admin
    added = run("ssh-keys:add", "dave", stdin=public_key(99))
    assert added.code == 0 and not access.load_keys()["dave"].admin


def test_the_last_admin_cannot_demote_itself_over_ssh(root, ssh) -> None:
    store_keys(admin={"admin": True})
    result = ssh("admin", "ssh-keys:set-role admin granted")
    assert result.code == 1 and "last admin key" in result.err
    assert access.load_keys()["admin"].admin


def test_keys_stored_before_roles_stay_admins(root: Path) -> None:
    (root / "ssh-keys.toml").write_text(f'[keys]\nold = "{public_key(3)}"\n')
    assert access.load_keys()["old"].admin


def test_audit_records_redact_secrets(team, ssh, run) -> None:
    ssh("bob", "config:set blog --no-restart DATABASE_URL=postgres://u:hunter2@db/x A=b")
    run("builder:set-global", "http-proxy", "http://user:s3cret@proxy:3128")
    run("apps:report", "blog", "--api-token", "t0ken", "PASSWORD=pw")
    text = audit.path().read_text()
    for secret in ("hunter2", "s3cret", "t0ken", "=pw"):
        assert secret not in text
    entry = records(key="bob", command="config:set")[-1]
    assert entry["args"][2] == "DATABASE_URL=<redacted>" and entry["app"] == "blog"
    assert oct(audit.path().stat().st_mode & 0o777) == "0o600"


def test_audit_log_command_filters(team, ssh, run) -> None:
    ssh("bob", "apps:report shop")
    ssh("bob", "apps:report blog")
    shown = json.loads(run("audit:log", "--key", "bob", "--format", "json").out)
    assert [(e["app"], e["outcome"]) for e in shown] == [("shop", "refused"), ("blog", "ok")]
    shown = json.loads(run("audit:log", "--app", "blog", "-n", "1", "--format", "json").out)
    assert len(shown) == 1 and shown[0]["key"] == "bob"


def test_the_audit_log_rotates_by_size(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "MAX_BYTES", 300)
    for n in range(20):
        audit.record({"command": "x", "n": n})
    assert audit.path().with_name("audit.log.1").exists()
    numbers = [e["n"] for e in audit.read()]
    assert numbers == sorted(numbers) and numbers[-1] == 19


def test_every_builtin_command_declares_its_scope(root: Path) -> None:
    for command in Registry().commands().values():
        spec = _manifest_spec(command.plugin.path, command.name)
        assert "scope" in spec or spec.get("internal") is True, command.name


def test_a_manifest_typo_cannot_widen_a_scope(tmp_path: Path) -> None:
    from appliance.errors import UserError

    (tmp_path / "plugin.toml").write_text(
        'name = "x"\n[commands."x:y"]\nhandler = "m:f"\nscope = "App"\n'
    )
    with pytest.raises(UserError, match="scope must be one of"):
        read_manifest(tmp_path, builtin=False)
    (tmp_path / "plugin.toml").write_text('name = "x"\n[commands."x:y"]\nhandler = "m:f"\n')
    assert read_manifest(tmp_path, builtin=False).commands["x:y"].scope == "host"


def _manifest_spec(path: Path, name: str) -> dict:
    import tomllib

    return tomllib.loads((path / "plugin.toml").read_text())["commands"][name]
