#!/usr/bin/env python3
"""Push-to-live on an installed host: how long from `git push` until nginx serves the
new version, and how much of it is the appliance's own overhead (everything but
`docker build` and the container start). Also times commands over SSH.

    sudo python3 bench/push_to_live.py [--runs 5]

Needs what scripts/test.sh sets up: install.sh run, dockerd, nginx and sshd up,
and the base image appliance-test/bookworm. Creates a throwaway key and app and
removes both at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
FIXTURE = CHECKOUT / "tests" / "fixtures" / "apps" / "dockerfile-hello"
SSH = [
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "BatchMode=yes",
]
TIMINGS = re.compile(r"Timings: (.*)")


def domain() -> str:
    out = subprocess.run(
        ["appliance", "domains:report", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    return json.loads(out)["global"]


def fetch(host: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=5)
    try:
        conn.request("GET", "/", headers={"Host": host})
        return conn.getresponse().read().decode()
    except OSError:
        return ""
    finally:
        conn.close()


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="appliance-bench-"))
    key = work / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    key_name = f"bench-{secrets.token_hex(3)}"
    app = f"bench-{secrets.token_hex(3)}"
    subprocess.run(
        ["appliance", "ssh-keys:add", key_name, "--admin"],
        input=(work / "key.pub").read_text(),
        text=True,
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "GIT_SSH_COMMAND": " ".join(["ssh", "-i", str(key), *SSH])}
    repo = work / "app"
    shutil.copytree(FIXTURE, repo)
    git(repo, "init", "-q", "-b", "main")
    ident = ["-c", "user.email=b@example.com", "-c", "user.name=bench"]
    host = f"{app}.{domain()}"
    try:
        git(repo, "add", "-A")
        git(repo, *ident, "commit", "-qm", "v0")
        first = git(repo, "push", "-q", f"appliance@127.0.0.1:{app}", "main", env=env)
        assert first.returncode == 0, first.stderr
        totals, overheads, phases = [], [], []
        for run in range(1, args.runs + 1):
            message = f"hello bench {run}"
            (repo / "message.txt").write_text(message + "\n")
            git(repo, *ident, "commit", "-qam", message)
            start = time.perf_counter()
            pushed = subprocess.Popen(
                ["git", "-C", str(repo), "push", "-q", f"appliance@127.0.0.1:{app}", "main"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            while not fetch(host).startswith(message):
                if pushed.poll() not in (None, 0):
                    raise SystemExit(
                        f"push failed: {pushed.stderr.read() if pushed.stderr else ''}"
                    )
                time.sleep(0.005)
            live = time.perf_counter() - start
            _, err = pushed.communicate()
            found = TIMINGS.search(err)
            assert found, err
            parts = dict(
                (name, float(value.rstrip("s")))
                for name, value in (p.strip().split() for p in found.group(1).split(","))
            )
            overhead = live - parts.get("build", 0) - parts.get("start", 0)
            totals.append(live)
            overheads.append(overhead)
            phases.append(parts)
            print(
                f"run {run}: live after {live:.2f} s  (build {parts['build']:.2f} s, "
                f"start {parts['start']:.2f} s, switch {parts['switch']:.2f} s, "
                f"overhead {overhead:.2f} s)"
            )
        print(f"\npush-to-live  median {statistics.median(totals):.2f} s   max {max(totals):.2f} s")
        print(
            f"overhead      median {statistics.median(overheads):.2f} s   "
            f"(everything but docker build and container start)"
        )

        samples: dict[str, list[float]] = {"version": [], "apps:list": []}
        for _ in range(10):
            for command in samples:
                t0 = time.perf_counter()
                subprocess.run(
                    ["ssh", "-i", str(key), *SSH, "appliance@127.0.0.1", command],
                    capture_output=True,
                    check=True,
                )
                samples[command].append((time.perf_counter() - t0) * 1000)
        for command, values in samples.items():
            print(f"ssh appliance@127.0.0.1 {command:10} median {statistics.median(values):.0f} ms")
    finally:
        subprocess.run(["appliance", "apps:destroy", app, "--force"], capture_output=True)
        subprocess.run(["appliance", "ssh-keys:remove", key_name], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
