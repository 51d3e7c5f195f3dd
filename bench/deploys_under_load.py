#!/usr/bin/env python3
"""Deploys under load on an installed host: do requests fail while an app is redeployed,
how much slower are they, how long does the traffic switch take, and how long does a
rollback take from the command to the old version answering.

    sudo python3 bench/deploys_under_load.py [--deploys 20] [--rate 200] [--mode alternate]

Deploys the fixture tests/fixtures/apps/versioned, measures an idle period under
browser-like load (tests/e2e/loadgen.py: keep-alive connections, a request that dies
on a reused connection before any response byte is retried once on a fresh one),
then does N consecutive deploys under the same load: by default alternately a
`git push` of a one-line change (the VERSION file) and a `config:set GREETING=...`
over SSH (`--mode push` or `--mode config` for one kind only), then rollbacks with
`releases:rollback APP` to the previous (retained) release.

Cutover per deploy, two ways: the deploy's own `Timings: ... switch X.XXs` (pushes
only: config:set prints no timings), and from outside: from the "-----> Switching
traffic" line reaching us to the first response carrying the new version.

Needs what scripts/test.sh sets up: install.sh run, dockerd, nginx and sshd up, and the
base image appliance-test/bookworm. Creates a throwaway key and app and removes both at
the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CHECKOUT))

from tests.e2e.loadgen import LoadGenerator, fields  # noqa: E402

FIXTURE = CHECKOUT / "tests" / "fixtures" / "apps" / "versioned"
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
SWITCH_LINE = "-----> Switching traffic"
TIMINGS = re.compile(r"Timings: (.*)")


@dataclass
class Run:
    """One command whose output lines are timestamped as they arrive."""

    argv: list[str]
    env: dict[str, str] | None = None
    lines: list[tuple[float, str]] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    returncode: int = 0

    def go(self) -> Run:
        self.started = time.monotonic()
        proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        readers = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (proc.stdout, proc.stderr)
        ]
        for reader in readers:
            reader.start()
        self.returncode = proc.wait(timeout=600)
        for reader in readers:
            reader.join(timeout=10)
        self.ended = time.monotonic()
        return self

    def _read(self, stream) -> None:
        pending = b""
        while chunk := stream.read1(65536):
            now = time.monotonic()
            pending += chunk
            *complete, pending = re.split(rb"[\r\n]", pending)
            self.lines.extend((now, line.decode(errors="replace")) for line in complete if line)
        if pending:
            self.lines.append((time.monotonic(), pending.decode(errors="replace")))

    def first(self, text: str) -> float | None:
        return next((t for t, line in self.lines if text in line), None)

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def timings(self) -> dict[str, float]:
        found = TIMINGS.search(self.text())
        if not found:
            return {}
        pairs = (p.strip().split() for p in found.group(1).split(","))
        return {name: float(value.rstrip("s")) for name, value in pairs}


def domain() -> str:
    out = subprocess.run(
        ["appliance", "domains:report", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)["global"]


def git(repo: Path, *args: str) -> None:
    ident = ["-c", "user.email=b@example.com", "-c", "user.name=bench"]
    subprocess.run(["git", "-C", str(repo), *ident, *args], capture_output=True, check=True)


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deploys", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200, help="requests per second")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--mode", choices=["alternate", "push", "config"], default="alternate")
    parser.add_argument("--rollbacks", type=int, default=3)
    parser.add_argument(
        "--drain", type=int, default=5, help="wait-to-retire of the app, seconds (default 5)"
    )
    parser.add_argument(
        "--no-idle-check",
        action="store_true",
        help="reuse idle connections without checking whether nginx closed them (each such "
        "close then shows as a retry)",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (sudo): it adds an SSH key and an app to the appliance")

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
    ssh = ["ssh", "-i", str(key), *SSH, "appliance@127.0.0.1"]
    repo = work / "app"
    shutil.copytree(FIXTURE, repo)
    git(repo, "init", "-q", "-b", "main")
    host = f"{app}.{domain()}"

    def push(version: int) -> Run:
        (repo / "VERSION").write_text(f"{version}\n")
        git(repo, "commit", "-qam", f"version {version}")
        return Run(["git", "-C", str(repo), "push", f"appliance@127.0.0.1:{app}", "main"], env)

    def command(*argv: str) -> Run:
        return Run([*ssh, *argv])

    load: LoadGenerator | None = None
    try:
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "version 1")
        created = command("apps:create", app).go()
        assert created.returncode == 0, created.text()
        drained = command("checks:set", app, "wait-to-retire", str(args.drain)).go()
        assert drained.returncode == 0, drained.text()
        first = Run(["git", "-C", str(repo), "push", f"appliance@127.0.0.1:{app}", "main"], env)
        assert first.go().returncode == 0, first.text()
        warm = push(2).go()  # a push with a warm build cache, to size the idle period
        assert warm.returncode == 0, warm.text()
        per_deploy = warm.ended - warm.started
        idle_for = min(max(per_deploy * args.deploys * 1.6, 10), 300)

        load = LoadGenerator(
            host,
            rate=args.rate,
            connections=args.connections,
            max_seconds=idle_for + 3600,
            check_idle=not args.no_idle_check,
        )
        load.start()
        print(
            f"app {app}: {args.deploys} deploys ({args.mode}) under {args.rate:g} req/s over "
            f"{args.connections} keep-alive connections; old containers drain {args.drain} s"
        )
        if not load.wait_for(lambda v: v.startswith("version=2 "), timeout=10):
            raise SystemExit(f"the app does not answer through nginx: {load.stats()}")
        print(f"idle period: {idle_for:.0f} s of load with no deploy ...")
        idle_start = load.now()
        time.sleep(idle_for)
        idle_end = load.now()

        version, greeting = 2, "-"
        history = [(version, greeting)]
        cutover_internal: list[float] = []
        cutover_external: list[float] = []
        kinds = {"alternate": ["push", "config"], "push": ["push"], "config": ["config"]}
        deploys_start = load.now()
        for n in range(1, args.deploys + 1):
            kind = kinds[args.mode][(n - 1) % len(kinds[args.mode])]
            before = load.latest()
            if kind == "push":
                version += 1
                run = push(version)
            else:
                greeting = f"g{n}"
                run = command("config:set", app, f"GREETING={greeting}")
            want = (str(version), greeting)
            run.go()
            if run.returncode != 0:
                raise SystemExit(f"deploy {n} ({kind}) failed:\n{run.text()}")
            history.append((version, greeting))

            def is_new(v: str, want=want, before=before) -> bool:
                f = fields(v)
                return v != before and (f.get("version"), f.get("greeting")) == want

            if not load.wait_for(is_new, timeout=15) and not load.first_seen(is_new, run.started):
                raise SystemExit(f"deploy {n}: the new version never answered")
            seen = load.first_seen(is_new, run.started)
            switch_at = run.first(SWITCH_LINE)
            external = seen.end - switch_at if seen and switch_at else None
            internal = run.timings().get("switch")
            if external is not None:
                cutover_external.append(external)
            if internal is not None:
                cutover_internal.append(internal)
            print(
                f"deploy {n:2} {kind:6} {run.ended - run.started:5.2f} s   "
                f"switch (own timing) {ms(internal):>7}   "
                f"switch line -> new version served {ms(external):>7}"
            )
        deploys_end = load.now()

        rollback_times: list[float] = []
        for n in range(1, args.rollbacks + 1):
            target = history[-2]
            before = load.latest()

            def is_target(v: str, want=target, before=before) -> bool:
                f = fields(v)
                return v != before and (f.get("version"), f.get("greeting")) == (
                    str(want[0]),
                    want[1],
                )

            started = load.now()
            run = command("releases:rollback", app).go()
            if run.returncode != 0:
                raise SystemExit(f"rollback {n} failed:\n{run.text()}")
            seen = load.wait_for(is_target, timeout=15) or load.first_seen(is_target, started)
            if seen is None:
                raise SystemExit(f"rollback {n}: the old version never answered")
            seen = load.first_seen(is_target, started) or seen
            rollback_times.append(seen.end - started)
            history.append(target)
            print(
                f"rollback {n} to version={target[0]} greeting={target[1]}: served after "
                f"{seen.end - started:.2f} s (command returned after {run.ended - started:.2f} s)"
            )
        time.sleep(args.drain + 2)  # the last old containers drain and stop under load
        load.stop()

        span = deploys_end - deploys_start
        idle = load.stats(max(idle_start, idle_end - span), idle_end)
        during = load.stats(deploys_start, deploys_end)
        whole = load.stats(deploys_start)
        print()
        print(f"{'':28}{'idle':>12}{'deploys':>12}")
        print(f"{'period':28}{min(span, idle_end - idle_start):>11.1f}s{span:>11.1f}s")
        for label, key in (("requests", "requests"), ("rate (req/s)", "rate")):
            print(f"{label:28}{idle[key]:>12}{during[key]:>12}")
        for label, key in (("failed", "failures"),):
            print(f"{label:28}{len(idle[key]):>12}{len(during[key]):>12}")
        for label, key in (
            ("non-2xx", "non_2xx"),
            ("retried on a fresh conn.", "retries"),
            ("latency p50 (ms)", "p50_ms"),
            ("latency p99 (ms)", "p99_ms"),
            ("latency max (ms)", "max_ms"),
        ):
            print(f"{label:28}{idle[key]:>12}{during[key]:>12}")
        print()
        print(
            f"from the first deploy to the end (rollbacks and the last drain included): "
            f"{whole['requests']} requests, {len(whole['failures'])} failed, "
            f"{whole['non_2xx']} non-2xx, {whole['retries']} retried, "
            f"{load.stale} idle connections found closed and replaced"
        )
        for failure in whole["failures"][:10]:
            print(f"  failed: {failure}")
        flaps = load.flaps()
        expected = args.deploys + args.rollbacks + 1
        print(
            f"versions served: {len(load.versions())} (expected {expected}), "
            f"flaps back to an older one: {len(flaps)}"
        )
        print(
            f"cutover p50: own timing {ms(median(cutover_internal))} "
            f"({len(cutover_internal)} pushes), "
            f"switch line -> new version served {ms(median(cutover_external))} "
            f"({len(cutover_external)} deploys)"
        )
        print(
            f"rollback end to end (command -> old version served): p50 "
            f"{ms(median(rollback_times))}, max {ms(max(rollback_times, default=None))}"
        )
    except SystemExit:
        if load is not None:
            load.stop()
            print(f"load until then: {load.summary()}", file=sys.stderr)
        raise
    finally:
        if load is not None:
            load.stop()
        subprocess.run(["appliance", "apps:destroy", app, "--force"], capture_output=True)
        subprocess.run(["appliance", "ssh-keys:remove", key_name], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
