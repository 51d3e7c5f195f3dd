#!/usr/bin/env python3
"""The daemon with many apps on an installed host: how long until every app answers
through nginx again after all its containers are removed and after a Docker engine
restart (no command typed), `ps:report` for all apps, and the daemon's resident
memory while idle.

    sudo flock -x /tmp/e2e.lock python3 bench/daemon.py [--apps 20] [--keep]
    sudo python3 bench/daemon.py --reuse --rss-minutes 45 --sample-every 180 --keep
    sudo python3 bench/daemon.py --reuse --destroy

On a host where install.sh runs often (a test machine) the installed daemon restarts
each time; to see the memory of one long-idle daemon, run a second one against a copy
of the state root holding only the bench apps and sample it with `--pidfile`.

The first run restarts dockerd: nothing else may use the host meanwhile. Needs what
scripts/test.sh sets up (install.sh run, dockerd, nginx, sshd, the base image
appliance-test/bookworm). Apps are named bench-dN; a throwaway SSH key pushes them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
FIXTURE = CHECKOUT / "tests" / "fixtures" / "apps" / "dockerfile-hello"
DEFAULT_PIDFILE = Path("/run/appliance/daemon.pid")
PIDFILE = DEFAULT_PIDFILE
SSH = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
       "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]  # fmt: skip


def run(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def domain() -> str:
    return str(json.loads(run("appliance", "domains:report", "--format", "json").stdout)["global"])


def answers(host: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=2)
    try:
        conn.request("GET", "/", headers={"Host": host})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def until_all_answer(hosts: list[str], timeout: float = 300) -> float:
    start = time.monotonic()
    waiting = list(hosts)
    while waiting and time.monotonic() - start < timeout:
        waiting = [h for h in waiting if not answers(h)]
        if waiting:
            time.sleep(0.1)
    if waiting:
        raise SystemExit(f"{len(waiting)} app(s) did not answer within {timeout} s: {waiting}")
    return time.monotonic() - start


def daemon_pid() -> int:
    if PIDFILE == DEFAULT_PIDFILE and Path("/run/systemd/system").is_dir():
        shown = run("systemctl", "show", "--property=MainPID", "--value", "appliance-daemon")
        if shown.stdout.strip() not in ("", "0"):
            return int(shown.stdout.strip())
    return int(PIDFILE.read_text().strip())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for pid {pid}")


def uptime_min(pid: int) -> float:
    """Minutes since the process started."""
    ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    booted = float(Path("/proc/uptime").read_text().split()[0])
    return (booted - ticks / os.sysconf("SC_CLK_TCK")) / 60


def deploy_apps(names: list[str], work: Path) -> None:
    key = work / "key"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    key_name = f"bench-{secrets.token_hex(3)}"
    public = (work / "key.pub").read_text()
    added = run("appliance", "ssh-keys:add", key_name, "--admin", input=public)
    assert added.returncode == 0, added.stderr
    env = {**os.environ, "GIT_SSH_COMMAND": " ".join(["ssh", "-i", str(key), *SSH])}
    repo = work / "app"
    shutil.copytree(FIXTURE, repo)
    ident = ["-c", "user.email=b@example.com", "-c", "user.name=bench"]
    run("git", "-C", str(repo), "init", "-q", "-b", "main")
    run("git", "-C", str(repo), "add", "-A")
    run("git", "-C", str(repo), *ident, "commit", "-qm", "v1")
    try:
        for name in names:
            start = time.monotonic()
            run("appliance", "apps:create", name)
            run("appliance", "checks:set", name, "wait-to-retire", "0")
            pushed = run("git", "-C", str(repo), "push", "-q", f"appliance@127.0.0.1:{name}",
                         "main", env=env)  # fmt: skip
            assert pushed.returncode == 0, pushed.stderr
            print(f"  deployed {name} in {time.monotonic() - start:.1f} s", flush=True)
    finally:
        run("appliance", "ssh-keys:remove", key_name)


def remove_all_containers(names: list[str]) -> None:
    ids = []
    for name in names:
        ids += run("docker", "ps", "-aq", "--filter", f"label=appliance.app={name}").stdout.split()
    run("docker", "rm", "-f", *ids)


def restart_engine() -> tuple[float, float]:
    """Stop dockerd and start it again as install.sh does; returns (seconds it took to
    stop, the monotonic time it was started again)."""
    start = time.monotonic()
    if Path("/run/systemd/system").is_dir():
        run("systemctl", "stop", "docker")
        stopped = time.monotonic() - start
        again = time.monotonic()
        run("systemctl", "start", "docker")
        return stopped, again
    pid = int(run("pgrep", "-x", "-o", "dockerd").stdout.split()[0])
    os.kill(pid, signal.SIGTERM)
    while run("pgrep", "-x", "dockerd").returncode == 0:
        time.sleep(0.1)
    stopped = time.monotonic() - start
    again = time.monotonic()
    with open("/var/log/dockerd.log", "ab") as log:
        subprocess.Popen(["dockerd"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)  # fmt: skip
    return stopped, again


def median_ms(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = run(*argv)
        samples.append((time.perf_counter() - start) * 1000)
        assert result.returncode == 0, result.stderr
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="the bench-dN apps exist already")
    parser.add_argument("--keep", action="store_true", help="leave the apps deployed")
    parser.add_argument("--destroy", action="store_true", help="only destroy the apps")
    parser.add_argument("--rss-minutes", type=float, default=3)
    parser.add_argument("--sample-every", type=float, default=60)
    parser.add_argument("--pidfile", type=Path, default=DEFAULT_PIDFILE,
                        help="the daemon to sample (another instance, say)")  # fmt: skip
    args = parser.parse_args()
    global PIDFILE
    PIDFILE = args.pidfile
    names = [f"bench-d{i}" for i in range(args.apps)]
    if args.destroy:
        for name in names:
            run("appliance", "apps:destroy", name, "--force")
        return
    hosts = [f"{name}.{domain()}" for name in names]
    work = Path(tempfile.mkdtemp(prefix="appliance-bench-"))
    try:
        if not args.reuse:
            print(f"deploying {args.apps} apps", flush=True)
            deploy_apps(names, work)
            until_all_answer(hosts)
            print(f"\n{args.apps} apps, the daemon's pid {daemon_pid()}\n")

            remove_all_containers(names)
            took = until_all_answer(hosts)
            print(f"docker rm -f of every container: all {args.apps} answer after {took:.1f} s")

            stopped, again = restart_engine()
            until_all_answer(hosts)
            took = time.monotonic() - again
            print(f"Docker engine restart (stopping took {stopped:.1f} s): all {args.apps} "
                  f"answer {took:.1f} s after dockerd was started again")  # fmt: skip

            every = median_ms(["appliance", "ps:report"], 10)
            listed = json.loads(run("appliance", "ps:report", "--format", "json").stdout)
            counted = sum(1 for name in names if listed.get(name))
            print(f"ps:report (all apps, {counted} of them bench apps) median {every:.0f} ms")
            one = median_ms(["appliance", "ps:report", names[0]], 10)
            print(f"ps:report {names[0]} median {one:.0f} ms\n")

        samples = [(daemon_pid(), uptime_min(daemon_pid()), rss_mb(daemon_pid()))]
        print(f"daemon RSS now {samples[0][2]:.1f} MB; sampling every {args.sample_every:g} s "
              f"for {args.rss_minutes:g} min", flush=True)  # fmt: skip
        end = time.monotonic() + args.rss_minutes * 60
        while time.monotonic() < end:
            time.sleep(min(args.sample_every, max(0.0, end - time.monotonic())))
            try:
                pid = daemon_pid()
                samples.append((pid, uptime_min(pid), rss_mb(pid)))
            except (OSError, ValueError, SystemExit):
                print("  the daemon is restarting", flush=True)
                continue
            restarted = " (a new daemon: restarted)" if pid != samples[-2][0] else ""
            print(f"  {time.strftime('%H:%M:%S')} pid {pid} up {samples[-1][1]:.0f} min: "
                  f"RSS {samples[-1][2]:.1f} MB{restarted}", flush=True)  # fmt: skip
        values = [rss for _, _, rss in samples]
        oldest = max(samples, key=lambda s: s[1])
        print(f"daemon RSS over {args.rss_minutes:g} min: min {min(values):.1f} MB, "
              f"median {statistics.median(values):.1f} MB, max {max(values):.1f} MB; "
              f"after {oldest[1]:.0f} min up: {oldest[2]:.1f} MB")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            for name in names:
                run("appliance", "apps:destroy", name, "--force")


if __name__ == "__main__":
    main()
