"""The environment of every process the appliance starts on the host.

Built from an allow-list of the appliance's own variables, never copied from the
caller's environment and never from anything a user sets: config vars, build args and
names taken from a repository reach a build or a container as data (`--build-arg`
items, the Docker API's `buildargs` and `environment`), never as the environment of a
host program. `LD_PRELOAD`, `PATH`, `HOME`, `DOCKER_CONFIG`, `BUILDKIT_*`, `GIT_*`
and the like are therefore whatever this module says they are.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil

__all__ = [
    "PATH",
    "host_env",
    "proxy_env",
    "which",
]
"""What plugins may use, through `appliance.api`; the rest is the core's."""

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Taken from this process's environment when set: the locale, how to reach the Docker
# engine when the host points it elsewhere, where the state lives, who pushed (a
# validated key name) and from where (set by sshd).
PASSED = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "NO_COLOR",
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "APPLIANCE_ROOT",
    "APPLIANCE_USER",
    "APPLIANCE_DEBUG",
    "SSH_CONNECTION",
    "SSH_CLIENT",
)
# What git itself sets for a pre-receive hook (the quarantined objects of the push)
# and the protocol version the client asked for: needed by the git commands run
# inside a push, and by git-receive-pack.
GIT_PASSED = (
    "GIT_DIR",
    "GIT_QUARANTINE_PATH",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PROTOCOL",
)
_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
# An SSH client may send LANG and LC_* (sshd's usual AcceptEnv): a locale name only,
# never a path glibc would load a locale from.
_LOCALE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def host_env(*, git: bool = False, proxy: bool = True, **fixed: str) -> dict[str, str]:
    """The environment for a host process: a fixed PATH, the appliance user's HOME,
    the allow-listed variables above (GIT_PASSED too with `git`), the host-wide proxy
    settings (`builder:set-global http-proxy ...`) and `fixed`, the caller's own
    variables (constant names, values the appliance produced)."""
    account = _account()
    env = {"PATH": PATH, "HOME": account.pw_dir, "USER": account.pw_name,
           "LOGNAME": account.pw_name}  # fmt: skip
    for name in PASSED + (GIT_PASSED if git else ()):
        value = os.environ.get(name)
        if value is None or "\0" in value:
            continue
        if name.startswith(("LANG", "LC_")) and not _LOCALE.fullmatch(value):
            continue
        env[name] = value
    if proxy:
        env.update(proxy_settings())
    for name, value in fixed.items():
        if not _NAME.fullmatch(name):
            raise ValueError(f"not an environment variable name: {name!r}")
        env[name] = str(value)
    return env


def proxy_settings() -> dict[str, str]:
    """http_proxy, https_proxy and no_proxy (both cases) from the host-wide settings."""
    from appliance.errors import UserError

    try:
        return proxy_env()
    except (OSError, UserError):  # settings.toml unreadable: no proxy
        return {}


PROXY_KEYS = ("http_proxy", "https_proxy", "no_proxy")


def proxy_env() -> dict[str, str]:
    """The host's proxy settings for builds, upper and lower case: from settings.toml
    (`builder:set-global http-proxy URL`), else from this process's environment.
    (Here rather than in `builds`, which runs processes in this environment.)"""
    from appliance import state

    table = state.global_settings().table("builder")
    found: dict[str, str] = {}
    for key in PROXY_KEYS:
        value = table.get(key) or os.environ.get(key) or os.environ.get(key.upper())
        if value:
            found[key] = found[key.upper()] = str(value)
    return found


def which(program: str) -> str:
    """`program` looked up on the fixed PATH (never on the caller's)."""
    return shutil.which(program, path=PATH) or program


def _account() -> pwd.struct_passwd:
    try:
        return pwd.getpwuid(os.geteuid())
    except KeyError:  # a uid without a name (a container): still a sane HOME
        return pwd.struct_passwd(("appliance", "x", os.geteuid(), os.getegid(), "", "/", ""))
