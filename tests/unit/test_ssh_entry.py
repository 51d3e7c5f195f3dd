import json

import pytest


def public_key(seed: int) -> str:
    import base64

    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes([seed]) * 32
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def store_keys(**roles: dict) -> None:
    """Keys in the store: `alice={"admin": True}`, `bob={"apps": ["a"]}`."""
    from appliance import access

    keys = {
        name: access.Key(name, public_key(n), role.get("admin", False),
                         set(role.get("apps", ())), role.get("create", False))
        for n, (name, role) in enumerate(roles.items())
    }  # fmt: skip
    access.save_keys(keys)


@pytest.fixture
def ssh(run, monkeypatch, root):
    store_keys(alice={"admin": True})

    def _ssh(command: str, key: str = "alice", stdin: str = ""):
        monkeypatch.setenv("SSH_ORIGINAL_COMMAND", command)
        return run("ssh", "--key", key, stdin=stdin)

    return _ssh


def test_no_command_prints_help(ssh) -> None:
    result = ssh("")
    assert result.code == 0 and "ssh appliance@HOST" in result.out and "apps:list" in result.out


def test_appliance_command_runs_as_key_user(ssh, run) -> None:
    assert ssh("apps:create hello").code == 0
    report = json.loads(run("apps:report", "hello", "--format", "json").out)
    assert report["app_name"] == "hello"
    from appliance.state import App

    assert App("hello").settings.get("core", "created_by") == "alice"
    assert json.loads(ssh("--format json apps:list").out) == ["hello"]
    assert json.loads(ssh("appliance apps:list --format json").out) == ["hello"]


@pytest.mark.parametrize(
    "command",
    ["bash", "sh -c id", "ssh --key root", "scp -t /tmp", "rm -rf /", "/bin/sh"],
)
def test_other_commands_are_refused(ssh, command: str) -> None:
    result = ssh(command)
    assert result.code != 0 and "not allowed" in result.err


def test_unparseable_command(ssh) -> None:
    result = ssh("apps:create 'unterminated")
    assert result.code == 1 and "cannot parse" in result.err


def test_shell_metacharacters_are_just_arguments(ssh, root) -> None:
    result = ssh("apps:create 'x; touch /tmp/pwned'")
    assert result.code == 1 and "invalid app name" in result.err
    assert not (root / "apps").exists() or not any((root / "apps").iterdir())


@pytest.mark.parametrize("path", ["'../etc'", "'Hello'", "'a/b'"])
def test_git_paths_are_validated(ssh, path: str) -> None:
    result = ssh(f"git-receive-pack {path}")
    assert result.code == 1 and "invalid app name" in result.err


def test_git_upload_pack_needs_existing_app(ssh) -> None:
    result = ssh("git-upload-pack 'ghost'")
    assert result.code == 1 and "does not exist" in result.err


def test_bad_key_name(run, monkeypatch) -> None:
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "apps:list")
    assert run("ssh", "--key", "a b").code == 1


def test_plugin_management_is_refused_over_ssh(ssh) -> None:
    result = ssh("plugin:install https://example.com/evil.git")
    assert result.code == 1 and "only on the host" in result.err
    assert ssh("plugin:list").code == 0
