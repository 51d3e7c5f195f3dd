"""Fetching buildpacks onto the host: `git clone --depth 1` (a `#ref` is a branch or a
tag, or a commit), or a local directory copied. Argument lists only, never a shell.

Every fetch checks again where the URL points (allowed.py): a local path must be in a
directory an admin allows, a remote host must resolve to public addresses. git resolves
the name again itself; for http(s) the address checked here is pinned with curl's
`--resolve` (`http.curloptResolve`) and redirects are not followed, so only git:// and
ssh:// keep a window in which a name could resolve to another address (DNS rebinding),
and a configured http(s) proxy resolves names itself."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from appliance_plugins.builder import builds

from appliance.api import Output, UserError, hostenv

from .allowed import check_local, check_remote
from .sources import Buildpack, mask

GIT_TIMEOUT = 600
COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


def fetch(buildpack: Buildpack, dest: Path, out: Output) -> None:
    """Put the buildpack's files in `dest` (which must not exist yet)."""
    if buildpack.kind == "dir":
        source = check_local(buildpack.location)
        if not source.is_dir():
            raise UserError(f"buildpack {buildpack.shown}: no such directory")
        if not (source / "bin" / "compile").is_file():  # before copying a whole tree
            raise UserError(f"buildpack {buildpack.shown} has no bin/compile")
        try:
            # symlinks stay links: a buildpack cannot make the host copy files it points at
            shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        except (OSError, shutil.Error) as exc:
            raise UserError(
                f"buildpack {buildpack.shown} cannot be read by the appliance user "
                f"(chmod -R a+rX it): {_first(exc)}"
            ) from None
        out.info(f"Copied buildpack {buildpack.shown}")
    else:
        _clone(buildpack, dest, _where(buildpack))
        out.info(f"Fetched buildpack {buildpack.shown}")
    shutil.rmtree(dest / ".git", ignore_errors=True)
    if not (dest / "bin" / "compile").is_file():
        raise UserError(f"buildpack {buildpack.shown} has no bin/compile")


def _where(buildpack: Buildpack) -> tuple[str, list[str]]:
    """What git clones (a local repository by its real path) and the `-c` options that
    keep it there: the checked address pinned for http(s), no redirects."""
    if buildpack.location.startswith("file://"):
        real = check_local(buildpack.location.removeprefix("file://"))
        return f"file://{real}", []
    addresses = check_remote(buildpack)
    options = ["-c", "http.followRedirects=false"]
    if buildpack.scheme in ("http", "https") and addresses:
        pinned = ",".join(f"[{a}]" if ":" in a else a for a in addresses)
        options += ["-c", f"http.curloptResolve={buildpack.host}:{buildpack.port}:{pinned}"]
    return buildpack.location, options


def _clone(buildpack: Buildpack, dest: Path, where: tuple[str, list[str]]) -> None:
    location, options = where
    ref = buildpack.ref
    argv = [*options, "clone", "--quiet", "--depth", "1"]
    if ref:
        argv += ["--branch", ref]
    error = _git([*argv, "--", location, str(dest)])
    if error and ref and COMMIT.fullmatch(ref):  # a commit: clone everything, check it out
        shutil.rmtree(dest, ignore_errors=True)
        error = _git([*options, "clone", "--quiet", "--", location, str(dest)]) or _git(
            ["-C", str(dest), "checkout", "--quiet", "--detach", ref]
        )
    if error:
        raise UserError(f"cannot fetch buildpack {buildpack.shown}: {error}")


def _git(argv: list[str]) -> str | None:
    """Run git; None on success, else its last line of error."""
    env = hostenv.host_env(
        **{k.upper(): v for k, v in builds.proxy_env().items()},
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="/bin/true",
        GIT_SSH_COMMAND="ssh -o BatchMode=yes",
    )
    try:
        done = subprocess.run(
            ["git", "-c", "protocol.ext.allow=never", *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"git gave up after {GIT_TIMEOUT} s"
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return mask(lines[-1].strip()) if lines else f"git exited with status {done.returncode}"


def _first(exc: BaseException) -> str:
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        first = exc.args[0][0]
        return str(first[-1]) if first else str(exc)
    return str(exc)
