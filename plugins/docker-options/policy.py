"""Allow-lists for the options that decide what a container may do to its host:
capabilities, security options, log drivers and their options.

Every value is normalised first (surrounding blanks, case, one `CAP_` prefix) and
then compared against a closed list, so no spelling of a refused value can pass:
`CAP_CAP_SYS_ADMIN`, `\\u017fys_admin` (a long s upper-cases to S) and `SYS_ADMIN\\n` are
all refused. The value kept and handed to Docker is the normalised one."""

from __future__ import annotations

import re

from appliance.api import UserError

# Every capability the Linux kernel defines (capabilities(7)), without CAP_.
KNOWN_CAPS = frozenset({
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE",
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER",
    "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN",
    "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP",
    "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT",
    "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG",
    "WAKE_ALARM",
})  # fmt: skip
# Docker's default set (worth adding back after `--cap-drop ALL`) and the harmless IPC_LOCK.
ADDABLE_CAPS = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    "IPC_LOCK",
})  # fmt: skip
CAP_WORD = re.compile(r"[A-Za-z_]{1,48}")

NO_NEW_PRIVILEGES = "no-new-privileges"
SECURITY_OPTS = frozenset({NO_NEW_PRIVILEGES, f"{NO_NEW_PRIVILEGES}:true",
                           f"{NO_NEW_PRIVILEGES}=true"})  # fmt: skip

# Drivers that write on the host; the others (syslog, gelf, fluentd, splunk, awslogs,
# gcplogs, logentries, etwlogs...) make dockerd connect to an address the option names.
LOG_DRIVERS = ("json-file", "local", "journald", "none")
LOG_DRIVER = re.compile(r"[a-z0-9_-]{1,30}")
SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
LOG_SIZE = re.compile(r"(\d{1,10})([bkmg]?)")
LOG_SIZE_MIN, LOG_SIZE_MAX = 1 << 10, 1 << 30  # 1 KiB to 1 GiB
LOG_FILES_MAX = 100
LOG_TAG = re.compile(r"[A-Za-z0-9_.-]{1,64}")
LOG_OPT_KEYS = ("max-size", "max-file", "compress", "mode", "max-buffer-size", "tag")


def _cap_name(value: str | None, flag: str) -> str:
    """` cap_chown` -> `CHOWN`: blanks stripped, ASCII only, upper case, one CAP_ removed."""
    text = (value or "").strip(" \t")
    if not text.isascii() or not CAP_WORD.fullmatch(text):
        raise UserError(f"invalid {flag} {value!r}: a capability name such as NET_BIND_SERVICE")
    name = text.upper().removeprefix("CAP_")
    if name != "ALL" and name not in KNOWN_CAPS:
        raise UserError(f"invalid {flag} {value!r}: {name} is not a Linux capability")
    return name


def cap_add(value: str | None) -> str:
    name = _cap_name(value, "--cap-add")
    if name not in ADDABLE_CAPS:
        raise UserError(
            f"--cap-add {name} is not allowed: --cap-add takes only "
            f"{', '.join(sorted(ADDABLE_CAPS))}"
        )
    return name


def cap_drop(value: str | None) -> str:
    return _cap_name(value, "--cap-drop")


def security_opt(value: str | None) -> str:
    text = (value or "").strip(" \t")
    if text not in SECURITY_OPTS:
        raise UserError(
            f"--security-opt {value!r} is not allowed: only {NO_NEW_PRIVILEGES} "
            "(apparmor, seccomp and label options are not)"
        )
    return NO_NEW_PRIVILEGES


def log_driver(value: str | None) -> str:
    text = (value or "").strip(" \t")
    if not LOG_DRIVER.fullmatch(text) or text not in LOG_DRIVERS:
        raise UserError(
            f"--log-driver {value!r} is not allowed: only {', '.join(LOG_DRIVERS)} "
            "(drivers that send logs to an address are not)"
        )
    return text


def _size(key: str, value: str, low: int, high: int) -> str:
    found = LOG_SIZE.fullmatch(value)
    if not found or not low <= int(found[1]) * SIZE_UNITS[found[2]] <= high:
        raise UserError(f"invalid --log-opt {key}={value!r}: a size from 1k to 1g, such as 10m")
    return value


def log_opt(value: str | None) -> tuple[str, str]:
    """`max-size=10m` -> ("max-size", "10m"), the key from an allow-list, the value bounded."""
    key, sep, text = (value or "").strip(" \t").partition("=")
    if not sep or key not in LOG_OPT_KEYS:
        raise UserError(
            f"--log-opt {key!r} is not allowed: use KEY=VALUE with a key from "
            f"{', '.join(LOG_OPT_KEYS)}"
        )
    if key in ("max-size", "max-buffer-size"):
        return key, _size(key, text, LOG_SIZE_MIN, LOG_SIZE_MAX)
    if key == "max-file":
        if not re.fullmatch(r"\d{1,3}", text) or not 1 <= int(text) <= LOG_FILES_MAX:
            raise UserError(f"invalid --log-opt max-file={text!r}: 1 to {LOG_FILES_MAX}")
        return key, str(int(text))
    choices = {"compress": ("true", "false"), "mode": ("blocking", "non-blocking")}.get(key)
    if choices is not None:
        if text not in choices:
            raise UserError(f"invalid --log-opt {key}={text!r}: {' or '.join(choices)}")
        return key, text
    if not LOG_TAG.fullmatch(text):
        raise UserError(f"invalid --log-opt tag={text!r}: letters, digits, '.', '_', '-' (64)")
    return key, text
