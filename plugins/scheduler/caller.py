"""How the caller is connected: a terminal on both ends (`ssh -t`), a pipe or a file
on stdin, or nothing to read. The scheduler is told, and does the rest."""

from __future__ import annotations

import sys


def interactive() -> bool:
    """Is the caller on a terminal (stdin and stdout)?"""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def has_input() -> bool:
    """Is there a stdin to forward (a pipe, a file, an SSH channel), not a terminal?"""
    try:
        return not sys.stdin.isatty() and sys.stdin.fileno() >= 0
    except (AttributeError, ValueError, OSError):
        return False


def run_mode() -> str:
    """`tty`, `piped` or `attached`, as `appliance_scheduler_run` takes it."""
    if interactive():
        return "tty"
    return "piped" if has_input() else "attached"
