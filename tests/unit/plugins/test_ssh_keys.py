import json
import os
from pathlib import Path

KEY1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0aqFJqkPsVUq8s5KtKdS+qk9nOZqpIzJ0i8rDHW8xJ test"
KEY2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOjqS2gbb5bURv2u5Kl7Hxo1KuPTAqHBqTw6jSFGTNqm other"


def authorized(root: Path) -> Path:
    return Path(os.environ["HOME"]) / ".ssh" / "authorized_keys"


def test_add_list_remove(run, root: Path) -> None:
    assert run("ssh-keys:add", "alice", *KEY1.split()).code == 0
    assert run("ssh-keys:add", "bob", stdin=KEY2 + "\n").code == 0
    rows = json.loads(run("ssh-keys:list", "--format", "json").out)
    assert [r["name"] for r in rows] == ["alice", "bob"]
    assert rows[0]["fingerprint"].startswith("SHA256:")
    text = authorized(root).read_text()
    assert 'ssh --key alice",restrict,pty ssh-ed25519' in text
    assert f"APPLIANCE_ROOT={root}" in text
    assert oct(authorized(root).stat().st_mode & 0o777) == "0o600"
    assert run("ssh-keys:remove", "alice").code == 0
    assert "alice" not in authorized(root).read_text()
    assert "bob" in authorized(root).read_text()


def test_refuses_duplicates_and_junk(run) -> None:
    assert run("ssh-keys:add", "alice", stdin=KEY1).code == 0
    assert "already exists" in run("ssh-keys:add", "alice", stdin=KEY2).err
    assert "already added as 'alice'" in run("ssh-keys:add", "carol", stdin=KEY1).err
    junk = run("ssh-keys:add", "dave", stdin="not a key")
    assert junk.code == 1 and "not an OpenSSH public key" in junk.err
    with_options = run("ssh-keys:add", "eve", stdin='command="sh" ' + KEY2)
    assert with_options.code == 1
    forged = run("ssh-keys:add", "mallory", stdin="ssh-rsa " + KEY2.split()[1])
    assert forged.code == 1 and "does not match" in forged.err
    assert run("ssh-keys:add", "bad name", stdin=KEY2).code == 1
    assert run("ssh-keys:remove", "nobody").code == 1
    assert run("ssh-keys:add", "empty").code == 1
