import socket
import time
from pathlib import Path

from appliance.registry import Registry


def commands_module():
    registry = Registry()
    return registry.import_module(registry.get("git"), "commands")


def test_a_pushers_connection_is_seen_until_it_closes(root: Path) -> None:
    commands = commands_module()
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    client_ip, client_port = client.getsockname()
    server_ip, server_port = server.getsockname()
    args = (client_ip, str(client_port), server_ip, str(server_port))
    assert commands.connection_established(*args)
    client.close()
    deadline = time.monotonic() + 2
    while commands.connection_established(*args) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not commands.connection_established(*args)
    accepted.close()
    server.close()


def test_app_names_from_git_paths(root: Path) -> None:
    from appliance import access

    for path in ("hello", "/hello", "~/hello.git", "hello.git/"):
        assert access.app_from_repo_path(path) == "hello"


def test_a_granted_key_cannot_deploy_another_apps_image(root: Path, run) -> None:
    import pytest

    from appliance.errors import UserError
    from appliance.state import App

    assert run("apps:create", "mine").code == 0 and run("apps:create", "other").code == 0
    commands = commands_module()
    with pytest.raises(UserError, match="another app's image"):
        commands.not_anothers_image(f"{App('other').image_repository()}:build-1", "mine")
    commands.not_anothers_image(f"{App('mine').image_repository()}:build-1", "mine")
    for image in ("appliance/other:build-3", "docker.io/appliance/other", "3f2a1b9c", "sha256:ab",
                  "appliance/mine-0123456789abcdef:build-3"):  # fmt: skip
        with pytest.raises(UserError):
            commands.not_anothers_image(image, "mine")
    commands.not_anothers_image("appliance/mine:build-3", "mine")
    commands.not_anothers_image("python:3.12-slim", "mine")
