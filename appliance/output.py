"""What commands print: Heroku-style sections, tables, and `--format json`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

ARROW = "----->"
INDENT = " " * 7
"""Seven spaces, the indent of an `info` line under a `----->` section: for output a
plugin lines up by hand."""


class Output:
    """What a command or deploy says: `section` (`----->`), `info`, `warn`, `report`,
    `data` for `--format json`, `raw`; during a push it reaches the pusher."""

    @staticmethod
    def short_duration(seconds: float) -> str:
        """A duration as a table column shows it: 1h05m, or 4m09s under an hour."""
        minutes, secs = divmod(int(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"

    def __init__(self, fmt: str = "text", stream: TextIO | None = None) -> None:
        self.format = fmt
        self.stream = stream or sys.stdout
        self.colour = self.stream.isatty() and "NO_COLOR" not in os.environ
        self.broken = False
        self.raise_on_broken_pipe = True
        self.sinks: dict[str, Callable[[str], None]] = {}
        """Named listeners that get every line printed, warnings included, even once
        the reader has gone: a plugin keeps a copy of a deploy's output this way.
        Key them by plugin name; a sink must never raise."""

    @property
    def json(self) -> bool:
        """Whether the caller asked for `--format json`: print with `data` then, not `info`."""
        return self.format == "json"

    def _write(self, text: str) -> None:
        """Write a line now. When the reader has gone (a push cancelled with Ctrl-C),
        raise once so the work in progress stops, then drop further output; with
        `raise_on_broken_pipe` off (a deploy past its switch), never raise."""
        for sink in list(self.sinks.values()):
            sink(text)
        if self.broken:
            return
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.broken = True
            if self.raise_on_broken_pipe:
                raise

    def section(self, text: str) -> None:
        """`-----> Building hello from Dockerfile`"""
        if not self.json:
            self._write(f"{ARROW} {text}")

    def info(self, text: str) -> None:
        """Each line of `text`, indented under the last section; nothing under `--format json`."""
        if not self.json:
            for line in text.splitlines() or [""]:
                self._write(f"{INDENT}{line}")

    def raw(self, text: str) -> None:
        """`text` exactly as given (build output, logs); nothing under `--format json`."""
        if not self.json:
            self._write(text)

    def reader_gone(self) -> bool:
        """Has the reader of this output hung up (an SSH client that went away)? A
        command that waits for something to print (following a log) asks this now and
        then, instead of learning it only when the next line fails."""
        import select

        try:
            poller = select.poll()
            poller.register(self.stream.fileno(), select.POLLERR | select.POLLHUP)
            events = poller.poll(0)
        except (OSError, ValueError, AttributeError):
            return False
        return any(found & (select.POLLERR | select.POLLHUP) for _, found in events)

    def warn(self, text: str) -> None:
        """` !     text` on stderr (yellow on a terminal), in every format: something went
        wrong but the command carries on. Sinks get it too."""
        for sink in list(self.sinks.values()):
            sink(f" !     {text}")
        prefix = "\033[33m !\033[0m" if self.colour else " !"
        print(f"{prefix}     {text}", file=sys.stderr, flush=True)

    def data(self, payload: Any) -> None:
        """`payload` as indented JSON, printed whatever the format: a handler calls it when
        `json` is true (values JSON cannot hold are shown with `str`)."""
        self._write(json.dumps(payload, indent=2, sort_keys=False, default=str))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows in aligned columns under `headers` (bold on a terminal); every row has as
        many cells as there are headers. Printed in every format: under `--format json`
        call `data` instead."""
        cells = [[str(c) for c in row] for row in rows]
        widths = [len(h) for h in headers]
        for row in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        lines = [headers, *cells]
        for i, row in enumerate(lines):
            text = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            if i == 0 and self.colour:
                text = f"\033[1m{text}\033[0m"
            self._write(text)

    def report(self, title: str, fields: dict[str, Any]) -> None:
        """`=====> hello report` followed by aligned `key: value` lines."""
        self._write(f"=====> {title}")
        width = max((len(k) for k in fields), default=0) + 1
        for key, value in fields.items():
            self._write(f"       {(key + ':').ljust(width)} {value}")
