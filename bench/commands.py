#!/usr/bin/env python3
"""Time state-only commands with many apps: `apps:list` with 200 apps, `config:get`, `--help`,
`version`, and `apps:report` of one app; then show where the import time goes.

    python3 bench/commands.py [--apps 200] [--runs 30] [--bin /usr/local/bin/appliance]

Runs against a temporary state root, so it never touches a real install.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def appliance_argv(binary: str | None) -> list[str]:
    if binary:
        return [binary]
    installed = shutil.which("appliance")
    if installed:
        return [installed]
    return [sys.executable, "-m", "appliance"]


def timed(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def describe(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    print(
        f"{name:32} median {statistics.median(samples):6.1f} ms   "
        f"p90 {p90:6.1f} ms   min {ordered[0]:6.1f} ms"
    )


def interpreter(argv: list[str]) -> str:
    """The Python that runs the appliance executable (read from its shebang)."""
    if "-m" in argv:
        return argv[0]
    return Path(argv[0]).resolve().read_text().splitlines()[0].removeprefix("#!").strip()


def import_profile(argv: list[str], env: dict[str, str]) -> None:
    python = interpreter(argv)
    result = subprocess.run(
        [python, "-X", "importtime", "-m", "appliance", "apps:list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_part, cumulative, name = line.removeprefix("import time:").split("|")
        if not cumulative.strip().isdigit():
            continue
        rows.append((int(cumulative), int(self_part), name.rstrip()))
    top = [(c, s, n.strip()) for c, s, n in rows if not n.startswith("  ")]
    total = sum(r[0] for r in top)
    ours = sum(r[0] for r in top if r[2].startswith(("appliance", "appliance_")))
    print(
        f"\nimport time of `apps:list` ({python}): {total / 1000:.1f} ms in all, "
        f"{ours / 1000:.1f} ms under appliance.*"
    )
    for cumulative, _, name in sorted(top, reverse=True)[:8]:
        print(f"  {cumulative / 1000:6.1f} ms  {name}")
    heavy = [
        n
        for n in ("docker", "paramiko", "jinja2", "pluggy")
        if any(r[2].strip() == n for r in rows)
    ]
    print(f"  heavy modules imported: {', '.join(heavy) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--bin", help="the appliance executable (default: the one on PATH)")
    parser.add_argument(
        "--checkout", help="run `python -m appliance` from this checkout (say, an older commit)"
    )
    args = parser.parse_args()
    argv = [sys.executable, "-m", "appliance"] if args.checkout else appliance_argv(args.bin)
    with tempfile.TemporaryDirectory(prefix="appliance-bench-") as tmp:
        env = {**os.environ, "APPLIANCE_ROOT": tmp, "PYTHONPATH": args.checkout or str(CHECKOUT)}
        if argv[0] != sys.executable:
            env.pop("PYTHONPATH")
        for i in range(args.apps):
            app = Path(tmp) / "apps" / f"app-{i:03d}"
            app.mkdir(parents=True)
            (app / "app.toml").write_text('[core]\ncreated_at = "2026-01-01T00:00:00Z"\n')
        print(f"{' '.join(argv)} with {args.apps} apps, {args.runs} runs each\n")
        floor = interpreter(argv)
        describe("python -c pass (floor)", timed([floor, "-c", "pass"], env, args.runs))
        describe("appliance --help", timed([*argv, "--help"], env, args.runs))
        describe("appliance version", timed([*argv, "version"], env, args.runs))
        describe(f"appliance apps:list ({args.apps})", timed([*argv, "apps:list"], env, args.runs))
        describe(
            "apps:list --format json",
            timed([*argv, "apps:list", "--format", "json"], env, args.runs),
        )
        describe("apps:report app-007", timed([*argv, "apps:report", "app-007"], env, args.runs))
        env_file = Path(tmp) / "apps" / "app-007" / "env.toml"
        env_file.write_text('[vars]\nDATABASE_URL = "postgres://db/app"\n')
        describe(
            "config:get app-007 DATABASE_URL",
            timed([*argv, "config:get", "app-007", "DATABASE_URL"], env, args.runs),
        )
        over_ssh(argv, env, Path(tmp), args)
        import_profile(argv, env)


def public_key(seed: int) -> str:
    import base64

    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes([seed]) * 32
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def fingerprint(key: str) -> str:
    import base64
    import hashlib

    digest = hashlib.sha256(base64.b64decode(key.split()[1])).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


KEY, DEV_KEY = public_key(1), public_key(2)


def over_ssh(argv: list[str], env: dict[str, str], root: Path, args: argparse.Namespace) -> None:
    """The path a key's command takes (`appliance ssh --key NAME`, as sshd runs it): the
    key's role is read, the command authorised and recorded in the audit log. Versions
    before roles ignore the store, so the same store serves a before/after comparison."""
    granted = [f"app-{i:03d}" for i in range(10)]
    (root / "ssh-keys.toml").write_text(
        f'[keys.bench-admin]\nkey = "{KEY}"\nadmin = true\n'
        f'fingerprint = "{fingerprint(KEY)}"\n'
        f'[keys.bench-dev]\nkey = "{DEV_KEY}"\nadmin = false\napps = {granted!r}\n'
        f'fingerprint = "{fingerprint(DEV_KEY)}"\n'
    )
    ssh_env = {**env, "SSH_ORIGINAL_COMMAND": "apps:list"}
    ssh_env["SSH_CONNECTION"] = "10.0.0.1 1 10.0.0.2 22"
    describe(
        f"ssh apps:list ({args.apps}), admin key",
        timed([*argv, "ssh", "--key", "bench-admin"], ssh_env, args.runs),
    )
    probe = subprocess.run([*argv, "ssh", "--key", "bench-dev"], env=ssh_env, capture_output=True)
    if probe.returncode != 0:
        print("ssh apps:list, granted key          (not supported by this version)")
        return
    describe(
        "ssh apps:list, key granted 10 apps",
        timed([*argv, "ssh", "--key", "bench-dev"], ssh_env, args.runs),
    )
    log = root / "audit" / "audit.log"
    if log.exists():
        print(f"audit log after the runs: {log.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
