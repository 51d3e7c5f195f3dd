"""git push over SSH deploys behind nginx; a failed build leaves the old release serving."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

from .conftest import DOMAIN, FIXTURES, SSH_OPTIONS, Host, commit, make_repo


def set_message(repo: Path, text: str) -> None:
    (repo / "message.txt").write_text(text + "\n")
    commit(repo, text)


def test_push_deploy_failed_build_and_redeploy(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")

    first = host.push(repo, app)
    assert first.returncode == 0, first.stderr
    assert f"-----> Created app {app}" in first.stderr
    assert f"-----> Building {app} from Dockerfile" in first.stderr
    assert f"-----> Application deployed: http://{app}.{DOMAIN}/" in first.stderr
    assert host.get(app) == (200, f"hello v1\nhost={app}.{DOMAIN}\n")

    shutil.copy(FIXTURES / "apps" / "dockerfile-broken" / "Dockerfile", repo / "Dockerfile")
    commit(repo, "broken")
    broken = host.push(repo, app)
    assert broken.returncode != 0
    assert "docker build failed" in broken.stderr
    assert "pre-receive hook declined" in broken.stderr
    assert host.get(app)[1].startswith("hello v1\n")

    subprocess.run(["git", "-C", repo, "reset", "-q", "--hard", "HEAD~1"], check=True)
    set_message(repo, "hello v2")
    second = host.push(repo, app)
    assert second.returncode == 0, second.stderr
    assert host.get(app)[1].startswith("hello v2\n")

    report = json.loads(host.ssh("apps:report", app, "--format", "json").stdout)
    assert report["deployed_release"] == "v2"  # a failed deploy makes no release


def test_other_branches_do_not_deploy(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    subprocess.run(["git", "-C", repo, "branch", "-q", "feature"], check=True)
    pushed = host.push(repo, app, branch="feature")
    assert pushed.returncode == 0, pushed.stderr
    assert "not deploying" in pushed.stderr and "Building" not in pushed.stderr
    assert host.get(app)[0] == 404 or not host.get(app)[1].startswith("hello")
    assert host.push(repo, app).returncode == 0
    assert host.get(app)[1].startswith("hello v1\n")


def test_app_that_never_listens_is_refused(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    assert host.push(repo, app).returncode == 0
    (repo / "Dockerfile").write_text(
        (repo / "Dockerfile")
        .read_text()
        .replace('CMD ["python3", "/app/app.py"]', 'CMD ["python3", "-c", "raise SystemExit(7)"]')
    )
    commit(repo, "crashes")
    crashed = host.push(repo, app)
    assert crashed.returncode != 0
    assert "exited with status 7" in crashed.stderr
    assert "the old release serves on" in crashed.stderr
    assert host.get(app)[1].startswith("hello v1\n")
    containers = json.loads(host.ssh("ps:report", app, "--format", "json").stdout)
    assert [c["release"] for c in containers] == [1]


def test_ssh_commands(host: Host) -> None:
    app = host.new_app()
    created = host.ssh("apps:create", app)
    assert created.returncode == 0, created.stderr
    listed = host.ssh("apps:list", "--format", "json")
    assert app in json.loads(listed.stdout)
    helped = host.ssh()
    assert helped.returncode == 0 and "apps:create" in helped.stdout
    refused = host.ssh("bash", "-c", "id")
    assert refused.returncode != 0 and "not allowed" in refused.stderr
    bad = host.ssh("apps:create", "Bad_Name")
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and "invalid app name" in bad.stderr
    keys = json.loads(host.ssh("ssh-keys:list", "--format", "json").stdout)
    assert host.key_name in [k["name"] for k in keys]
    kept = host.ssh("apps:destroy", app)
    assert kept.returncode != 0 and "--force" in kept.stderr
    gone = host.ssh("apps:destroy", app, "--force")
    assert gone.returncode == 0
    assert app not in json.loads(host.ssh("apps:list", "--format", "json").stdout)


def test_destroy_removes_containers_and_vhost(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    assert host.push(repo, app).returncode == 0
    assert host.get(app)[0] == 200
    assert host.ssh("apps:destroy", app, "--force").returncode == 0
    assert not host.get(app)[1].startswith("hello")
    leftovers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=appliance.app={app}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert leftovers.strip() == ""


def test_reinstall_keeps_apps_keys_and_traffic(host: Host, tmp_path: Path) -> None:
    from .conftest import CHECKOUT, sh

    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    assert host.push(repo, app).returncode == 0
    again = sh("bash", CHECKOUT / "install.sh", "--domain", DOMAIN, timeout=900)
    assert again.returncode == 0, again.stderr
    assert "appliance 0." in again.stdout
    assert app in json.loads(host.ssh("apps:list", "--format", "json").stdout)
    assert host.get(app)[1].startswith("hello v1\n")
    set_message(repo, "hello after upgrade")
    assert host.push(repo, app).returncode == 0
    assert host.get(app)[1].startswith("hello after upgrade\n")


def test_old_images_are_pruned_but_never_a_build_in_progress(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("releases:set", app, "keep", "2").returncode == 0
    assert host.ssh("checks:set", app, "wait-to-retire", "0").returncode == 0
    for n in range(1, 6):
        set_message(repo, f"hello v{n}")
        pushed = host.push(repo, app)  # back to back: retires of earlier deploys overlap
        assert pushed.returncode == 0, pushed.stderr
        assert host.get(app)[1].startswith(f"hello v{n}\n")

    report = json.loads(host.ssh("apps:report", app, "--format", "json").stdout)
    repository = report["deployed_image"].rpartition(":")[0]  # appliance/APP-<app id>
    assert repository.startswith(f"appliance/{app}-") and len(repository) > len(app) + 20

    def tags() -> list[str]:
        listed = subprocess.run(
            ["docker", "images", "--format", "{{.Tag}}", repository],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return sorted(listed.stdout.split())

    deadline = time.monotonic() + 30
    while len(tags()) > 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    releases = json.loads(host.ssh("releases", app, "--format", "json").stdout)
    kept = sorted(r["image"].rpartition(":")[2] for r in releases[:2])
    assert tags() == kept
    rolled = host.ssh("releases:rollback", app)
    assert rolled.returncode == 0, rolled.stderr
    assert host.get(app)[1].startswith("hello v4\n")
    too_old = host.ssh("releases:rollback", app, "v1")
    assert too_old.returncode == 1 and "is not on this host" in too_old.stderr


def test_logs(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    assert host.push(repo, app).returncode == 0
    assert host.get(app, "/seen-in-logs")[0] == 200
    shown = host.ssh("logs", app, "-n", "20")
    assert shown.returncode == 0, shown.stderr
    line = next(ln for ln in shown.stdout.splitlines() if "/seen-in-logs" in ln)
    assert " web." in line and " | " in line
    quiet = host.ssh("logs", app, "--quiet", "--ps", "web")
    assert any(ln.startswith('"GET /seen-in-logs') for ln in quiet.stdout.splitlines())
    assert host.ssh("logs", app, "--ps", "Bad_Type").returncode == 1

    # -t follows: a request made after it started shows up while it runs.
    follower = subprocess.Popen(
        ["ssh", "-i", str(host.key), *SSH_OPTIONS, "appliance@127.0.0.1",
         "logs", app, "-t", "-n", "0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [lines.put(ln) for ln in follower.stdout or []], daemon=True
        ).start()
        deadline = time.monotonic() + 30
        seen = ""
        while "/followed" not in seen and time.monotonic() < deadline:
            host.get(app, "/followed")
            try:
                seen = lines.get(timeout=1)
            except queue.Empty:
                continue
        assert "/followed" in seen and " | " in seen, seen
    finally:
        follower.kill()
        follower.wait()


def test_pruning_one_app_never_touches_anothers_identical_image(host: Host, tmp_path: Path) -> None:
    first, second = host.new_app(), host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    assert host.push(repo, first).returncode == 0  # same source: the same image id
    assert host.ssh("apps:create", second).returncode == 0
    assert host.ssh("releases:set", second, "keep", "1").returncode == 0
    assert host.ssh("checks:set", second, "wait-to-retire", "0").returncode == 0
    assert host.push(repo, second).returncode == 0
    for n in (2, 3):
        set_message(repo, f"hello v{n}")
        assert host.push(repo, second).returncode == 0
    time.sleep(3)  # let the detached retires prune
    restarted = host.ssh("ps:restart", first)
    assert restarted.returncode == 0, restarted.stderr
    assert host.get(first)[1].startswith("hello v1\n")
