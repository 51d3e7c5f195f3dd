"""Strict patterns for every name that may reach a path, a template or a command line."""

import re

from appliance.errors import UserError

APP_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
APP_NAME_MAX = 30
KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PROCESS_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
BRANCH = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}(?<![./])$")
DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
CONFIG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def app_name(name: str) -> str:
    if not name:
        raise UserError("app name is empty")
    if len(name) > APP_NAME_MAX or not APP_NAME.fullmatch(name):
        raise UserError(
            f"invalid app name {name!r}: use lowercase letters, digits and single dashes, "
            f"starting with a letter, at most {APP_NAME_MAX} characters"
        )
    return name


def key_name(name: str) -> str:
    if not KEY_NAME.fullmatch(name):
        raise UserError(
            f"invalid key name {name!r}: use letters, digits, '.', '_', '@' and '-', "
            "at most 64 characters"
        )
    return name


def plugin_name(name: str) -> str:
    if len(name) > 50 or not PLUGIN_NAME.fullmatch(name):
        raise UserError(f"invalid plugin name {name!r}: use lowercase letters, digits and dashes")
    return name


def process_type(name: str) -> str:
    if not PROCESS_TYPE.fullmatch(name):
        raise UserError(
            f"invalid process type {name!r}: use lowercase letters, digits and dashes, "
            "at most 63 characters"
        )
    return name


def branch(name: str) -> str:
    if not BRANCH.fullmatch(name):
        raise UserError(f"invalid branch name {name!r}")
    return name


def domain(name: str) -> str:
    candidate = name.lower().rstrip(".")
    labels = candidate.split(".")
    if (
        not candidate
        or len(candidate) > 253
        or not all(DOMAIN_LABEL.fullmatch(label) for label in labels)
    ):
        raise UserError(f"invalid domain {name!r}")
    return candidate
