"""A push cancelled with Ctrl-C: the terminal sends SIGINT to git and ssh; the SSH
connection closes, and the deploy, not yet switched, removes its containers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from .conftest import Host, commit, make_repo


def test_ctrl_c_on_the_pushing_client(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "versioned")
    assert host.push(repo, app).returncode == 0
    (repo / "VERSION").write_text("2\n")
    (repo / "STARTUP_DELAY").write_text("15\n")  # the new container takes 15 s to listen
    commit(repo, "slow v2")
    push = subprocess.Popen(
        ["git", "-C", str(repo), "push", f"appliance@127.0.0.1:{app}", "main"],
        env=host.git_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    assert push.stdout is not None
    seen = ""
    for line in push.stdout:
        seen += line
        if f"Starting {app}.web" in line:
            break
    os.killpg(push.pid, signal.SIGINT)  # what Ctrl-C does
    push.wait(timeout=30)
    assert push.returncode != 0, seen

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        running = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=appliance.app={app}",
             "--filter", "label=appliance.deploy=2"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if not running:
            break
        time.sleep(0.5)
    assert not running, "the interrupted deploy's container is still there"
    assert host.get(app)[1].startswith("version=1 ")
    listed = json.loads(host.ssh("releases", app, "--format", "json").stdout)
    assert [r["release"] for r in listed] == ["v1"]

    (repo / "STARTUP_DELAY").unlink()
    commit(repo, "fast v2")
    again = host.push(repo, app)
    assert again.returncode == 0, again.stderr
    assert host.get(app)[1].startswith("version=2 ")
