"""What a command handler receives, and argument parsing that fails in one line."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from appliance.access import Access
from appliance.errors import UserError

if TYPE_CHECKING:
    from appliance.host import Appliance
    from appliance.manifest import Command
    from appliance.output import Output
    from appliance.registry import Registry
    from appliance.state import App


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (usage: {self.format_usage().strip()[7:]})", code=2)


class Context:
    """Handed to every command handler: `def handler(ctx: Context) -> int | None`.

    `ctx.appliance` is the running appliance (fire hooks with `ctx.appliance.hook`);
    `ctx.out`, `ctx.user` and `ctx.registry` are its output, user and plugins.
    """

    def __init__(
        self,
        command: Command,
        args: list[str],
        appliance: Appliance,
        access: Access | None = None,
    ) -> None:
        self.command = command
        self.args = args
        self.appliance = appliance
        user = appliance.user
        # What the caller may do: the core has already refused what it may not run;
        # a listing shows only `access.visible_apps()` (None: all).
        self.access = access if access is not None else Access(user, None, via_ssh=False)

    @property
    def out(self) -> Output:
        """The appliance's `Output`: what the handler prints (`ctx.appliance.out`)."""
        return self.appliance.out

    @property
    def user(self) -> str:
        """Who runs the command: the SSH key's name, or the local user (`ctx.appliance.user`)."""
        return self.appliance.user

    @property
    def registry(self) -> Registry:
        """The plugin registry (`ctx.appliance.registry`): the installed plugins and their
        commands."""
        return self.appliance.registry

    def parse(self, configure: Any = None, *, formats: bool = False) -> argparse.Namespace:
        """Parse `self.args` with an argparse parser that `configure(parser)` fills in."""
        parser = _Parser(
            prog=f"appliance {self.command.name}",
            description=self.command.help,
            add_help=True,
            allow_abbrev=False,  # `--glob` must not mean `--global`: scopes match options whole
        )
        if formats:
            parser.add_argument("--format", choices=["text", "json"], default=self.out.format)
        if configure:
            configure(parser)
        ns = parser.parse_args(self.args)
        if formats:
            self.out.format = ns.format
        return ns

    def parse_app(self, *, formats: bool = False) -> App:
        """Parse `APP` alone (with `--format` when `formats`): the app, which must exist."""
        from appliance.state import App

        ns = self.parse(lambda p: p.add_argument("app"), formats=formats)
        return App(ns.app).require()

    def parse_setting(self, keys: list[str]) -> tuple[App, str, str | None]:
        """Parse `TOPIC:set APP KEY [VALUE]`, the shape of every per-app setting
        command: the app (which must exist), the key (one of `keys`), and the value,
        None when left out (reset the key to its default)."""
        from appliance.state import App

        def configure(p: Any) -> None:
            p.add_argument("app")
            p.add_argument("key", choices=keys)
            p.add_argument("value", nargs="?")

        ns = self.parse(configure)
        return App(ns.app).require(), ns.key, ns.value

    def confirm(self, question: str, expected: str) -> bool:
        """Ask the user to type `expected`; refuses when nobody is there to answer."""
        sys.stderr.write(f' !     {question}\n !     To proceed, type "{expected}"\n> ')
        sys.stderr.flush()
        answer = sys.stdin.readline() if sys.stdin else ""
        if not answer:
            raise UserError(f"{question}: no answer on stdin; confirm with --force")
        return answer.strip() == expected
