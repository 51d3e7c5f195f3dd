"""The RUN instructions of a Dockerfile, rewritten for a build: flags added to every
RUN (a build secret's mount), and a prefix to every shell-form command (lowering the
step's CPU and IO priority, pointing tools at a CA bundle).

What is left alone, so that the Dockerfile means what its author wrote:

* exec-form commands (`RUN ["cmd", "arg"]`) get the flags but no prefix: there is
  no shell to run one;
* heredoc RUNs (`RUN <<EOF`), their bodies, and heredoc bodies of COPY and ADD;
* every command when a SHELL instruction names something other than a POSIX shell;
* the whole file when it sets another escape character than the backslash.

The user's RUN flags stay in front of the command (`RUN --mount=... cmd` becomes
`RUN OUR-FLAGS --mount=... PREFIX cmd`), also when they continue over several lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# Run first in each shell-form step: the shell lowers its own CPU and IO priority,
# which every process it starts inherits. Images without renice or ionice, and
# shells under `set -e`, build as before.
PRIORITY = "{ renice -n 10 -p $$; ionice -c 2 -n 7 -p $$; } >/dev/null 2>&1 || true; "

POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh"})

_DIRECTIVE = re.compile(r"^#\s*(\w+)\s*=\s*(\S+)\s*$")
_INSTRUCTION = re.compile(r"^(\s*)([A-Za-z]+)(\s+|$)(.*)$", re.DOTALL)
_CONTINUED = re.compile(r"\\[ \t]*$")
_FLAG = re.compile(r"--[A-Za-z][\w-]*(?:=\S*)?(?:\s+|$)")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_INSTRUCTIONS = frozenset({"run", "copy", "add"})


@dataclass
class _Instruction:
    keyword: str  # lowercase; "" for blank and comment lines outside instructions
    lines: list[str] = field(default_factory=list)  # with their line endings
    heredoc: bool = False


def rewrite(text: str, *, flags: Sequence[str] = (), prefix: str = "") -> str:
    """`text` with `flags` after every RUN keyword and `prefix` before every
    shell-form command (see the module's docstring for what is left alone)."""
    lines = text.splitlines(keepends=True)
    if _custom_escape(lines):
        return text
    instructions = _parse(lines)
    if prefix and not _posix_shells(instructions):
        prefix = ""
    if not flags and not prefix:
        return text
    added = "".join(f"{flag} " for flag in flags)
    result: list[str] = []
    for instruction in instructions:
        if instruction.keyword == "run" and not instruction.heredoc:
            result.extend(_rewrite_run(instruction.lines, added, prefix))
        else:
            result.extend(instruction.lines)
    return "".join(result)


def hide(line: str, injected: Sequence[str]) -> str:
    """A line of build output with the injected text taken out again, so the pusher
    sees the RUN lines as they are in the Dockerfile."""
    for piece in injected:
        if piece:
            line = line.replace(piece, "")
    return line


def injected(flags: Sequence[str] = (), prefix: str = "") -> list[str]:
    """The pieces `rewrite(flags=..., prefix=...)` adds, as `hide` takes them out."""
    return [*(f"{flag} " for flag in flags), prefix]


def _custom_escape(lines: list[str]) -> bool:
    for line in lines:
        found = _DIRECTIVE.match(line.strip())
        if not found:
            return False
        if found.group(1).lower() == "escape" and found.group(2) != "\\":
            return True
    return False


def _is_blank_or_comment(body: str) -> bool:
    return not body.strip() or body.lstrip().startswith("#")


def _parse(lines: list[str]) -> list[_Instruction]:
    """Group physical lines into instructions: continuation lines (and the blank and
    comment lines among them) and heredoc bodies belong to their instruction."""
    parsed: list[_Instruction] = []
    current: _Instruction | None = None
    terminators: list[tuple[str, bool]] = []
    for line in lines:
        body = line.rstrip("\r\n")
        if terminators:
            assert current is not None
            current.lines.append(line)
            word, strip_tabs = terminators[0]
            if (body.lstrip("\t") if strip_tabs else body) == word:
                terminators.pop(0)
                if not terminators:
                    current = None
            continue
        if current is None:
            found = _INSTRUCTION.match(body)
            if _is_blank_or_comment(body) or not found:
                parsed.append(_Instruction("", [line]))
                continue
            current = _Instruction(found.group(2).lower())
            parsed.append(current)
        elif _is_blank_or_comment(body):
            current.lines.append(line)
            continue
        current.lines.append(line)
        if current.keyword in _HEREDOC_INSTRUCTIONS:
            for marker in _HEREDOC.finditer(body):
                current.heredoc = True
                terminators.append((marker.group(3), marker.group(1) == "-"))
        if not _CONTINUED.search(body) and not terminators:
            current = None
    return parsed


def _posix_shells(instructions: list[_Instruction]) -> bool:
    """False when a SHELL instruction names a shell that a POSIX prefix may not suit."""
    for instruction in instructions:
        if instruction.keyword != "shell":
            continue
        text = "".join(
            _CONTINUED.sub("", line.rstrip("\r\n")) for line in instruction.lines
        ).strip()
        try:
            argv = json.loads(text[len("shell") :].strip())
        except ValueError:
            return False
        if not argv or not isinstance(argv[0], str):
            return False
        if argv[0].rsplit("/", 1)[-1] not in POSIX_SHELLS:
            return False
    return True


def _split_flags(text: str) -> tuple[str, str]:
    """`--mount=... --network=none cmd` -> ("--mount=... --network=none ", "cmd")."""
    position = 0
    while found := _FLAG.match(text, position):
        position = found.end()
    return text[:position], text[position:]


def _rewrite_run(lines: list[str], added: str, prefix: str) -> list[str]:
    result: list[str] = []
    command_seen = False
    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if number == 0:
            found = _INSTRUCTION.match(body)
            assert found is not None
            indent, keyword, space, rest = found.groups()
            space = space or " "
            head = f"{indent}{keyword}{space}{added}"
        elif command_seen or _is_blank_or_comment(body):
            result.append(line)
            continue
        else:
            rest = body.lstrip()
            head = body[: len(body) - len(rest)]
        flags, command = _split_flags(rest)
        if command and not _CONTINUED.fullmatch(command):
            command_seen = True
            if prefix and not command.startswith("["):
                command = prefix + command
        result.append(f"{head}{flags}{command}{ending}")
    return result
