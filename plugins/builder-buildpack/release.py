"""What `bin/release` prints: a small YAML document, read without a YAML library.

Only the two maps the appliance honours are read, each a block of `key: value` lines:

    ---
    addons: []
    config_vars:
      LANG: en_US.UTF-8
    default_process_types:
      web: bundle exec puma -p $PORT

Values may be plain, 'single quoted' or "double quoted"; `{}` is an empty map. Other
top-level keys (`addons`) are skipped. A line inside the two maps that is not a
`key: value` pair is an error naming the line, never silently dropped.
"""

from __future__ import annotations

import re

from appliance.api import UserError

WANTED = ("config_vars", "default_process_types")
_TOP = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*:(?:\s+(?P<rest>.*?))?\s*$")
_ITEM = re.compile(r"^(?P<key>\"[^\"]*\"|'[^']*'|[^\s:#'\"][^:]*?)\s*:(?:\s+(?P<value>.*?))?\s*$")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "/": "/", "0": "\0", "r": "\r"}


def parse(text: str) -> dict[str, dict[str, str]]:
    """`{"config_vars": {...}, "default_process_types": {...}}` from bin/release's output."""
    found: dict[str, dict[str, str]] = {name: {} for name in WANTED}
    section: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        if not line[0].isspace():
            match = _TOP.match(line)
            if not match:
                section = None
                continue
            key, rest = match.group("key"), _drop_comment(match.group("rest") or "")
            section = key if key in WANTED else None
            if section and rest not in ("", "{}", "~", "null"):
                raise UserError(
                    f"bin/release line {number}: {key} must be a block of 'key: value' "
                    f"lines, got {rest!r}"
                )
            continue
        if section is None:
            continue
        match = _ITEM.match(stripped)
        if not match:
            raise UserError(f"bin/release line {number}: expected 'key: value', got {stripped!r}")
        key = _scalar(match.group("key"), number)
        found[section][key] = _scalar(match.group("value") or "", number)
    return found


def _drop_comment(text: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", text).strip()


def _scalar(text: str, number: int) -> str:
    text = text.strip()
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise UserError(f"bin/release line {number}: unterminated quote in {text!r}")
        return text[1:-1].replace("''", "'")
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"'):
            raise UserError(f"bin/release line {number}: unterminated quote in {text!r}")
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])
    if text in ("|", ">", "|-", ">-"):
        raise UserError(f"bin/release line {number}: block scalars are not supported")
    text = _drop_comment(text)
    return "" if text in ("~", "null") else text


def procfile_text(processes: dict[str, str]) -> str:
    return "".join(f"{name}: {command}\n" for name, command in processes.items())
