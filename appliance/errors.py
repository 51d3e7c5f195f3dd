"""Errors that reach the user as one line on stderr and an exit code."""


class UserError(Exception):
    """Something the user can fix: printed as one line, exit code `code`."""

    code = 1

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class NotFound(UserError):
    """A named thing (app, key, plugin, command) does not exist."""


class Conflict(UserError):
    """A named thing already exists, or the app is busy."""


class PluginError(UserError):
    """A plugin failed; the message names the plugin."""
