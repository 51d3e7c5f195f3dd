#!/usr/bin/env python3
"""Build figures on an installed host, with the Flask fixture and builder-auto:

* rebuild after a code-only change: the appliance's build time (from the push's own
  `Timings:` line) against a plain `docker build` of the same generated Dockerfile
  with a warm cache (the target: at most 1.2 times);
* redeploy of an unchanged tree: push-to-live (the target: under 3 s).

    sudo python3 bench/builds.py [--runs 3]

Uses the local base image appliance-test/python (scripts/build-base-image.sh) for
the app, and removes its throwaway key and app at the end.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from push_to_live import FIXTURE as _HELLO
from push_to_live import SSH, domain, fetch, git

FLASK = _HELLO.parent / "auto-flask"
TIMINGS = re.compile(r"Timings: (.*)")


def appliance(*argv: str) -> str:
    return subprocess.run(["appliance", *argv], capture_output=True, text=True, check=True).stdout


def build_time(err: str) -> float:
    found = TIMINGS.search(err)
    assert found, err
    parts = dict(p.strip().split() for p in found.group(1).split(","))
    return float(parts["build"].rstrip("s"))


def main() -> None:
    import secrets
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="appliance-bench-"))
    key = work / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    key_name, app = f"bench-{secrets.token_hex(3)}", f"bench-{secrets.token_hex(3)}"
    subprocess.run(["appliance", "ssh-keys:add", key_name, "--admin"],
                   input=(work / "key.pub").read_text(),
                   text=True, check=True, capture_output=True)  # fmt: skip
    env = {"GIT_SSH_COMMAND": " ".join(["ssh", "-i", str(key), *SSH])}
    import os

    env = {**os.environ, **env}
    repo = work / "app"
    shutil.copytree(FLASK, repo)
    ident = ["-c", "user.email=b@example.com", "-c", "user.name=bench"]
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, *ident, "commit", "-qm", "v0")
    host = f"{app}.{domain()}"
    appliance("apps:create", app)
    appliance("builder-auto:set", app, "base-python", "appliance-test/python:latest")
    # The fixture declares no health check: the default waits 10 s of uptime. Like an
    # app with a declared check, let it be 1 s, so the figure is the appliance's own.
    appliance("checks:set", app, "uptime", "1")

    def push(message: str, empty: bool = False) -> tuple[float, str]:
        if not empty:
            with (repo / "app.py").open("a") as f:
                f.write(f"\n# {message}\n")
        git(repo, *ident, "commit", "-q", "--allow-empty", "-am", message)
        start = time.perf_counter()
        done = git(repo, "push", "-q", f"appliance@127.0.0.1:{app}", "main", env=env)
        assert done.returncode == 0, done.stderr
        while not fetch(host).startswith("hello from flask"):
            time.sleep(0.005)
        return time.perf_counter() - start, done.stderr

    plain_tags: list[str] = []
    try:
        push("first build")
        ours = [build_time(push(f"code change {i}")[1]) for i in range(args.runs)]
        unchanged = [push(f"same tree {i}", empty=True)[0] for i in range(args.runs)]

        context = work / "plain"
        shutil.copytree(repo, context, ignore=shutil.ignore_patterns(".git"))
        saved = Path("/var/lib/appliance/apps") / app / "builder-auto" / "Dockerfile"
        dockerfile = "".join(
            line for line in saved.read_text().splitlines(keepends=True)
            if not line.startswith("# Built from")
        )  # fmt: skip
        (context / ".appliance-auto").mkdir()
        (context / ".appliance-auto" / "Dockerfile").write_text(dockerfile)
        ca = "/etc/ssl/certs/ca-certificates.crt"
        shutil.copyfile(ca, context / ".appliance-auto" / "host-ca.crt")
        plain = []
        for i in range(args.runs + 1):
            with (context / "app.py").open("a") as f:
                f.write(f"\n# plain {i}\n")
            start = time.perf_counter()
            subprocess.run(
                ["docker", "build", "-q", "-f", str(context / ".appliance-auto" / "Dockerfile"),
                 "-t", f"appliance-bench/plain:{i}", str(context)],
                env={**os.environ, "DOCKER_BUILDKIT": "0"}, check=True, capture_output=True,
            )  # fmt: skip
            if i:  # the first one warms the plain builder's cache
                plain.append(time.perf_counter() - start)
            # Kept until the end: the classic builder's cache is the untagged parents of
            # its images, and the plain build's are its own (the appliance builds this
            # Dockerfile with its RUN steps reniced): removing one image would take the
            # cache with it.
            plain_tags.append(f"appliance-bench/plain:{i}")
        ratio = statistics.median(ours) / statistics.median(plain)
        print(
            f"code-only rebuild, appliance build phase: median {statistics.median(ours):.2f} s "
            f"({', '.join(f'{t:.2f}' for t in ours)})"
        )
        print(
            f"code-only rebuild, plain docker build:    median {statistics.median(plain):.2f} s "
            f"({', '.join(f'{t:.2f}' for t in plain)})"
        )
        print(f"ratio: {ratio:.2f} (target at most 1.2)")
        print(
            f"unchanged tree, push-to-live: median {statistics.median(unchanged):.2f} s "
            f"max {max(unchanged):.2f} s (target under 3 s)"
        )
    finally:
        if plain_tags:
            subprocess.run(["docker", "rmi", "-f", *plain_tags], capture_output=True)
        subprocess.run(["appliance", "apps:destroy", app, "--force"], capture_output=True)
        subprocess.run(["appliance", "ssh-keys:remove", key_name], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
