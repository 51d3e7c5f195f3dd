"""Docker options from an allow-list, each checked strictly and turned into keyword
arguments of the Docker SDK's `containers.create`.

An option another command owns is refused with a pointer to it; an option that
reaches into the host (devices, powerful capabilities, unconfined security
profiles) is accepted only from someone on the host itself, never over SSH.
Capabilities, security options and log drivers come from closed allow-lists
(`policy`), compared after normalisation; the normalised value is what is kept."""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.api import UserError

from . import policy

PHASES = ("build", "deploy", "run")
BUILD_FLAGS = ("--add-host", "--shm-size")

OWNED_ELSEWHERE = {
    ("-v", "--volume", "--mount", "--volumes-from"): "use storage:mount",
    ("-m", "--memory", "--memory-swap", "--memory-reservation", "--cpus", "--cpu-shares",
     "--cpu-quota", "--cpu-period", "--cpuset-cpus", "-c"): "use resource:limit",
    ("--network", "--net", "--network-alias", "--net-alias", "--link"): "use network:set",
    ("-p", "--publish", "-P", "--publish-all", "--expose"):
        "ports are the proxy's: the app listens on $PORT (see domains:add)",
    ("-e", "--env", "--env-file"): "use config:set",
    ("--name", "-h", "--hostname", "--label", "-l", "--label-file"):
        "the scheduler names and labels containers",
    ("--restart",): "use ps:set APP restart-policy",
    ("--rm", "-d", "--detach", "-i", "-t", "--entrypoint"): "the scheduler decides this",
}  # fmt: skip
NEVER = {"--privileged": "--privileged gives a container the whole host: never allowed"}

HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")  # noqa: E501
SIZE = re.compile(r"^\d{1,12}[bkmg]?$")
PATH = re.compile(r"^(/[A-Za-z0-9._@+-]+)+$")
TMPFS_OPTS = re.compile(r"^[a-z]+(=[A-Za-z0-9]+)?(,[a-z]+(=[A-Za-z0-9]+)?)*$")
ULIMIT = re.compile(r"^([a-z]{2,12})=(-?\d{1,12})(?::(-?\d{1,12}))?$")
SYSCTL = re.compile(r"^((?:net|kernel)\.[a-z0-9_.]{1,120})=([A-Za-z0-9_.-]{1,120})$")
USER = re.compile(r"^[a-z_0-9][a-z0-9_-]{0,31}(:[a-z_0-9][a-z0-9_-]{0,31})?$")
SIGNAL = re.compile(r"^(SIG)?[A-Z0-9]{2,8}$|^\d{1,2}$")
DEVICE = re.compile(r"^(/dev/[A-Za-z0-9._/-]+)(:(/dev/[A-Za-z0-9._/-]+))?(:[rwm]{1,3})?$")


@dataclass(frozen=True)
class Option:
    flag: str
    value: str | None = None

    def __str__(self) -> str:
        return self.flag if self.value is None else f"{self.flag}={self.value}"


@dataclass(frozen=True)
class Rule:
    takes_value: bool
    to_kwargs: Callable[[str | None], dict[str, Any]]
    host_only: Callable[[str | None], bool] = lambda value: False
    normalise: Callable[[str | None], str | None] = lambda value: value


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise UserError(f"{text!r} is not an IP address") from None


def _match(pattern: re.Pattern[str], value: str | None, what: str) -> re.Match[str]:
    found = pattern.fullmatch(value or "")
    if not found:
        raise UserError(f"invalid {what} {value!r}")
    return found


def _add_host(value: str | None) -> dict[str, Any]:
    host, sep, address = (value or "").partition(":")
    if not sep or not HOSTNAME.fullmatch(host):
        raise UserError(f"invalid --add-host {value!r}: use HOST:IP")
    return {"extra_hosts": {host: address if address == "host-gateway" else _ip(address)}}


def _ulimit(value: str | None) -> dict[str, Any]:
    found = _match(ULIMIT, value, "--ulimit (NAME=SOFT[:HARD])")
    soft = int(found.group(2))
    hard = int(found.group(3)) if found.group(3) else soft
    return {"ulimits": [{"name": found.group(1), "soft": soft, "hard": hard}]}


def _tmpfs(value: str | None) -> dict[str, Any]:
    path, _, opts = (value or "").partition(":")
    bad_opts = bool(opts) and not TMPFS_OPTS.fullmatch(opts)
    if not PATH.fullmatch(path) or ".." in path.split("/") or bad_opts:
        raise UserError(f"invalid --tmpfs {value!r}: use /PATH[:size=64m,mode=1777]")
    return {"tmpfs": {path: opts}}


def _cap(key: str, name: Callable[[str | None], str]) -> Callable[[str | None], dict[str, Any]]:
    return lambda value: {key: [name(value)]}


def _key_value(flag: str, pattern: re.Pattern[str], key: str) -> Callable[..., dict[str, Any]]:
    def convert(value: str | None) -> dict[str, Any]:
        found = _match(pattern, value, f"{flag} (KEY=VALUE)")
        return {key: {found.group(1): found.group(2)}}

    return convert


def _log_opt(value: str | None) -> dict[str, Any]:
    key, text = policy.log_opt(value)
    return {"log_config": {"config": {key: text}}}


def _int(key: str, low: int, high: int) -> Callable[[str | None], dict[str, Any]]:
    def convert(value: str | None) -> dict[str, Any]:
        if not re.fullmatch(r"-?\d{1,9}", value or "") or not low <= int(value or 0) <= high:
            raise UserError(f"invalid {key.replace('_', '-')} {value!r}: {low} to {high}")
        return {key: int(value or 0)}

    return convert


def _string(key: str, pattern: re.Pattern[str], what: str) -> Callable[..., dict[str, Any]]:
    return lambda value: {key: _match(pattern, value, what).group(0)}


def _list(key: str, pattern: re.Pattern[str] | None, what: str) -> Callable[..., dict[str, Any]]:
    def convert(value: str | None) -> dict[str, Any]:
        return {key: [_ip(value or "") if pattern is None else _match(pattern, value, what)[0]]}

    return convert


RULES: dict[str, Rule] = {
    "--add-host": Rule(True, _add_host),
    "--dns": Rule(True, _list("dns", None, "--dns")),
    "--dns-search": Rule(True, _list("dns_search", HOSTNAME, "--dns-search domain")),
    "--dns-option": Rule(True, _list("dns_opt", re.compile(r"^[a-z0-9_-]{1,30}(:\d{1,4})?$"),
                                     "--dns-option")),
    "--shm-size": Rule(True, _string("shm_size", SIZE, "--shm-size (64m)")),
    "--ulimit": Rule(True, _ulimit),
    "--tmpfs": Rule(True, _tmpfs),
    "--cap-add": Rule(True, _cap("cap_add", policy.cap_add), normalise=policy.cap_add),
    "--cap-drop": Rule(True, _cap("cap_drop", policy.cap_drop), normalise=policy.cap_drop),
    "--security-opt": Rule(True, lambda v: {"security_opt": [policy.security_opt(v)]},
                           normalise=policy.security_opt),
    "--device": Rule(True, _list("devices", DEVICE, "--device"), lambda v: True),
    "--sysctl": Rule(True, _key_value("--sysctl", SYSCTL, "sysctls")),
    "--log-driver": Rule(True, lambda v: {"log_config": {"type": policy.log_driver(v)}},
                         normalise=policy.log_driver),
    "--log-opt": Rule(True, _log_opt, normalise=lambda v: "=".join(policy.log_opt(v))),
    "--pids-limit": Rule(True, _int("pids_limit", -1, 10_000_000)),
    "--oom-score-adj": Rule(True, _int("oom_score_adj", -1000, 1000),
                            lambda v: (v or "0").startswith("-")),
    "--user": Rule(True, _string("user", USER, "--user (NAME|UID[:GROUP])")),
    "-u": Rule(True, _string("user", USER, "-u (NAME|UID[:GROUP])")),
    "--workdir": Rule(True, lambda v: {"working_dir": _match(PATH, v, "--workdir")[0]}),
    "--group-add": Rule(True, _list("group_add", USER, "--group-add")),
    "--stop-signal": Rule(True, _string("stop_signal", SIGNAL, "--stop-signal")),
    "--init": Rule(False, lambda v: {"init": True}),
    "--read-only": Rule(False, lambda v: {"read_only": True}),
}


def supported() -> str:
    return " ".join(sorted(f for f in RULES if f.startswith("--")))


def phases(text: str) -> list[str]:
    found = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in found if p not in PHASES]
    if not found or bad:
        raise UserError(f"invalid phase {text!r}: build, deploy, run, or several: deploy,run",
                        code=2)  # fmt: skip
    return list(dict.fromkeys(found))


def _refusal(flag: str) -> str | None:
    if flag in NEVER:
        return NEVER[flag]
    for flags, pointer in OWNED_ELSEWHERE.items():
        if flag in flags:
            return f"{flag} is not a docker option here: {pointer}"
    return None


def parse(words: list[str]) -> list[Option]:
    """`["--add-host db:10.0.0.5", "--init"]` (tokens may hold several words, as a
    quoted Dokku option does) to checked options."""
    tokens = [t for word in words for t in shlex.split(word)]
    options: list[Option] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        flag, sep, inline = token.partition("=")
        if not flag.startswith("-"):
            raise UserError(f"{token!r} is not an option (they start with -)")
        refused = _refusal(flag)
        if refused:
            raise UserError(refused)
        rule = RULES.get(flag)
        if rule is None:
            raise UserError(f"unsupported docker option {flag}; supported: {supported()}")
        value: str | None = None
        if rule.takes_value:
            if sep:
                value = inline
            elif i + 1 < len(tokens):
                i += 1
                value = tokens[i]
            else:
                raise UserError(f"{flag} needs a value")
        elif sep:
            raise UserError(f"{flag} takes no value")
        flag = "--user" if flag == "-u" else flag
        rule.to_kwargs(value)  # validates
        options.append(Option(flag, rule.normalise(value)))
        i += 1
    if not options:
        raise UserError("give at least one option", code=2)
    return options


def check_build(options: list[Option]) -> None:
    """A build takes only extra hosts and a /dev/shm size."""
    other = [str(o) for o in options if o.flag not in BUILD_FLAGS]
    if other:
        raise UserError(
            f"{', '.join(other)} cannot apply to builds: only {' and '.join(BUILD_FLAGS)} do"
        )


def host_only(option: Option) -> bool:
    return RULES[option.flag].host_only(option.value)


def from_text(text: str) -> Option:
    return parse([text])[0]


def container_kwargs(options: list[Option]) -> dict[str, Any]:
    """Merged keyword arguments: lists add up, dicts merge, the last scalar wins."""
    merged: dict[str, Any] = {}
    for option in options:
        for key, value in RULES[option.flag].to_kwargs(option.value).items():
            old = merged.get(key)
            if isinstance(old, list):
                merged[key] = [*old, *(v for v in value if v not in old)]
            elif isinstance(old, dict):
                merged[key] = _deep_merge(old, value)
            else:
                merged[key] = value
    return merged


def _deep_merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    result = dict(old)
    for key, value in new.items():
        if isinstance(result.get(key), dict) and isinstance(value, dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result
