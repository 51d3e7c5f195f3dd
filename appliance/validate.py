"""Strict patterns for every name that may reach a path, a template or a command line."""

import re

from appliance.errors import UserError

__all__ = [
    "APP_NAME",
    "CONFIG_KEY",
    "KEY_NAME",
    "PLUGIN_NAME",
    "PROCESS_TYPE",
    "app_name",
    "bounded",
    "branch",
    "domain",
    "key_name",
    "plugin_name",
    "process_type",
    "whole_number",
]
"""What plugins may use, through `appliance.api`; the rest is the core's."""

APP_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
APP_NAME_MAX = 30
KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PROCESS_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
BRANCH = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}(?<![./])$")
DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
CONFIG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def app_name(name: str) -> str:
    """`name` when it is a valid app name (lowercase letters, digits and single dashes,
    starting with a letter, at most 30 characters), else UserError saying so."""
    if not name:
        raise UserError("app name is empty")
    if len(name) > APP_NAME_MAX or not APP_NAME.fullmatch(name):
        raise UserError(
            f"invalid app name {name!r}: use lowercase letters, digits and single dashes, "
            f"starting with a letter, at most {APP_NAME_MAX} characters"
        )
    return name


def key_name(name: str) -> str:
    """`name` when it is a valid SSH key name (letters, digits, `.`, `_`, `@`, `-`; at
    most 64 characters), else UserError."""
    if not KEY_NAME.fullmatch(name):
        raise UserError(
            f"invalid key name {name!r}: use letters, digits, '.', '_', '@' and '-', "
            "at most 64 characters"
        )
    return name


def plugin_name(name: str) -> str:
    """`name` when it is a valid plugin name (lowercase letters, digits and single
    dashes, at most 50 characters), else UserError."""
    if len(name) > 50 or not PLUGIN_NAME.fullmatch(name):
        raise UserError(f"invalid plugin name {name!r}: use lowercase letters, digits and dashes")
    return name


def process_type(name: str) -> str:
    """`name` when it is a valid Procfile process type (lowercase letters, digits and
    dashes, at most 63 characters), else UserError."""
    if not PROCESS_TYPE.fullmatch(name):
        raise UserError(
            f"invalid process type {name!r}: use lowercase letters, digits and dashes, "
            "at most 63 characters"
        )
    return name


def branch(name: str) -> str:
    """`name` when it is a safe git branch name (no leading dash, no `..`, no trailing
    `.` or `/`; at most 200 characters), else UserError."""
    if not BRANCH.fullmatch(name):
        raise UserError(f"invalid branch name {name!r}")
    return name


def domain(name: str) -> str:
    """The domain in canonical form (lowercase, no trailing dot) when it is valid: labels
    of letters, digits and inner dashes, 253 characters at most; else UserError."""
    candidate = name.lower().rstrip(".")
    labels = candidate.split(".")
    if (
        not candidate
        or len(candidate) > 253
        or not all(DOMAIN_LABEL.fullmatch(label) for label in labels)
    ):
        raise UserError(f"invalid domain {name!r}")
    return candidate


WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")


def bounded(value: object, field: str, low: float, high: float, *, whole: bool = False) -> float:
    """A number read from a repository (app.json) or a setting, inside [low, high]: bools,
    strings, NaN and infinities are refused, and fractions where `whole`. Returns an int
    for a whole number."""
    kind = "a whole number" if whole else "a number"
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if (
        number is None
        or number != number  # NaN
        or not low <= number <= high
        or (whole and number != int(number))
    ):
        raise UserError(f"{field} must be {kind} from {low:g} to {high:g}, got {_short(value)}")
    return int(number) if number == int(number) else float(number)


def whole_number(text: str, field: str, low: int, high: int) -> int:
    """A count or a number of seconds typed on a command line: ASCII digits only (no
    sign, no `1_000`, no other script's digits), inside [low, high]."""
    if not WHOLE_NUMBER.fullmatch(text) or not low <= int(text) <= high:
        raise UserError(
            f"{field} must be a whole number from {low} to {high}, got {_short(text)}"
        )
    return int(text)


def _short(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:37]}..."
