#!/usr/bin/env python3
"""This checkout against an older one, runs alternating so that load on the machine
hits both alike: `apps:list` with 200 apps typed on the host and sent over SSH by an
admin key (what the permission check and the audit write cost), and `--help`.

    python3 bench/access.py --before /path/to/older/checkout [--runs 60]

(`git worktree add /tmp/before fda2fb1` gives the last commit before key roles;
`7e8f61a` the last before appliance.api.) Bytecode is written and reused, as in an
installed appliance.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def state_root(apps: int) -> str:
    root = tempfile.mkdtemp(prefix="appliance-bench-")
    for i in range(apps):
        app = Path(root, "apps", f"app-{i:03d}")
        app.mkdir(parents=True)
        (app / "app.toml").write_text('[core]\ncreated_at = "2026-01-01T00:00:00Z"\n')
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes([1]) * 32
    key = "ssh-ed25519 " + base64.b64encode(blob).decode()
    Path(root, "ssh-keys.toml").write_text(
        f'[keys.admin]\nkey = "{key}"\nadmin = true\nfingerprint = "SHA256:bench"\n'
    )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="an older checkout to compare with")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--apps", type=int, default=200)
    args = parser.parse_args()
    root = state_root(args.apps)
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base.update(APPLIANCE_ROOT=root, SSH_ORIGINAL_COMMAND="apps:list")
    base["SSH_CONNECTION"] = "192.0.2.1 50000 192.0.2.2 22"
    ways = {
        "apps:list on the host": ["apps:list"],
        "apps:list over SSH": ["ssh", "--key", "admin"],
        "--help": ["--help"],
    }
    checkouts = {"before": args.before, "after": str(CHECKOUT)}
    samples: dict[tuple[str, str], list[float]] = {}
    for way, argv in ways.items():
        for _ in range(args.runs + 3):  # the first runs write bytecode: dropped below
            for label, checkout in checkouts.items():
                env = {**base, "PYTHONPATH": checkout}
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "appliance", *argv], env=env,
                               stdout=subprocess.DEVNULL, check=True)  # fmt: skip
                elapsed = (time.perf_counter() - started) * 1000
                samples.setdefault((way, label), []).append(elapsed)
    print(f"{args.apps} apps, {args.runs} alternating runs each (median)")
    for way in ways:
        before = statistics.median(samples[(way, "before")][3:])
        after = statistics.median(samples[(way, "after")][3:])
        change = after - before
        print(f"{way:22} before {before:6.1f} ms   after {after:6.1f} ms   {change:+5.1f} ms")


if __name__ == "__main__":
    main()
