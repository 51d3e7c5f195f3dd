"""The `.env` format of config:export and config:import, and the `export KEY='value'`
lines of config:show --export.

What `dump` writes, `parse` reads back exactly: every value double-quoted, with `\\`,
`"`, newline, carriage return and tab escaped; unicode as is. `parse` also reads what
people write by hand: `export ` prefixes, `#` comments, unquoted values (an inline
comment needs a space before its `#`), single quotes (literal) and double quotes (the
escapes above, plus `\\$` and `\\'`), both of which may span lines. Nothing is
expanded: `$OTHER` stays `$OTHER`.
"""

from __future__ import annotations

import re

from appliance.api import UserError

from . import store

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=[ \t]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$", "'": "'"}
_QUOTED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def dump(values: dict[str, str]) -> str:
    return "".join(f"{key}={quote(value)}\n" for key, value in values.items())


def quote(value: str) -> str:
    return '"' + "".join(_QUOTED.get(ch, ch) for ch in value) + '"'


def shell_export(values: dict[str, str]) -> str:
    """Lines `export KEY='value'` that `sh` reads back exactly (a `'` becomes `'\\''`)."""
    return "".join(
        f"export {key}='{value.replace(chr(39), chr(39) + chr(92) + chr(39) + chr(39))}'\n"
        for key, value in values.items()
    )


def parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    pos, line = 0, 1
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        current = text[pos:end]
        if not current.strip() or current.lstrip().startswith("#"):
            pos, line = end + 1, line + 1
            continue
        found = _ASSIGNMENT.match(current)
        if not found:
            raise UserError(f".env line {line}: expected KEY=VALUE")
        key = store.config_key(found.group(1))
        start = pos + found.end()
        if start < len(text) and text[start] in "\"'":
            value, after = _quoted(text, start, line)
        else:
            value, after = _unquoted(text[start:end]), end
        rest_end = text.find("\n", after)
        rest_end = len(text) if rest_end < 0 else rest_end
        rest = text[after:rest_end].strip()
        if rest and not rest.startswith("#"):
            raise UserError(f".env line {line}: unexpected text after the value of {key}")
        values[key] = value
        line += text.count("\n", pos, rest_end) + 1
        pos = rest_end + 1
    return values


def _unquoted(raw: str) -> str:
    comment = re.search(r"\s#", raw)
    if comment:
        raw = raw[: comment.start()]
    return raw.strip()


def _quoted(text: str, start: int, line: int) -> tuple[str, int]:
    """The value of a quoted string at `text[start]`, and the index after its closing
    quote."""
    quote_char = text[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        ch = text[pos]
        if ch == quote_char:
            return "".join(chars), pos + 1
        if ch == "\\" and quote_char == '"' and pos + 1 < len(text):
            following = text[pos + 1]
            chars.append(_ESCAPES.get(following, "\\" + following))
            pos += 2
            continue
        chars.append(ch)
        pos += 1
    raise UserError(f".env line {line}: the quote {quote_char} is never closed")
