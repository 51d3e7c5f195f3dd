"""The app's `checks` settings table: which process types skip or disable checks,
the default uptime, and how long old containers drain.

    [checks]
    disabled = ["worker"]      # or ["_all_"]: no checks, old containers stop at once
    skipped = ["web"]          # no checks; the swap is otherwise unchanged
    uptime = 10                # seconds the default check waits
    wait_to_retire = 60        # read by the scheduler
"""

from __future__ import annotations

from appliance.api import App, UserError, releases, validate

TABLE = "checks"
ALL = "_all_"
DEFAULT_UPTIME = 10
DEFAULT_WAIT_TO_RETIRE = 60
OPTIONS = {"wait-to-retire": "wait_to_retire", "uptime": "uptime"}
DEFAULTS = {"wait_to_retire": DEFAULT_WAIT_TO_RETIRE, "uptime": DEFAULT_UPTIME}
# The default check holds a deploy for `uptime`; old containers drain for `wait_to_retire`.
MAX_UPTIME = 600
MAX_WAIT_TO_RETIRE = 3600
HIGHEST = {"wait_to_retire": MAX_WAIT_TO_RETIRE, "uptime": MAX_UPTIME}


def parse_types(text: str | None) -> list[str] | None:
    """`web,worker` -> ["web", "worker"]; None, "" or `_all_` -> None (every type)."""
    if not text or text == ALL:
        return None
    types = [t for t in text.split(",") if t]
    for name in types:
        if name == ALL:
            return None
        validate.process_type(name)
    return list(dict.fromkeys(types)) or None


def listed(app: App, key: str) -> list[str]:
    value = app.settings.get(TABLE, key, [])
    return [str(v) for v in value] if isinstance(value, list) else []


def status(app: App, process: str) -> str:
    """ "disabled", "skipped" or "enabled"."""
    for key in ("disabled", "skipped"):
        found = listed(app, key)
        if ALL in found or process in found:
            return key
    return "enabled"


def number(app: App, key: str) -> int:
    """The setting, bounded even when app.toml was edited by hand."""
    value = app.settings.get(TABLE, key, DEFAULTS[key])
    return int(validate.bounded(value, f"checks {key} of {app.name}", 0, HIGHEST[key], whole=True))


def wait_to_retire(app: App, process: str = "web") -> int:
    """What old containers of `process` get to drain: none when its checks are disabled."""
    return 0 if status(app, process) == "disabled" else number(app, "wait_to_retire")


def known_processes(app: App) -> list[str]:
    """web, the current release's Procfile types and those its app.json checks, and
    any type named in the settings."""
    release = releases.current(app)
    names = ["web"]
    if release:
        names += list(release.procfile)
        healthchecks = release.app_json.get("healthchecks")
        if isinstance(healthchecks, dict):
            names += [str(k) for k in healthchecks]
    names += [n for key in ("disabled", "skipped") for n in listed(app, key) if n != ALL]
    return list(dict.fromkeys(names))


def change(app: App, action: str, types: list[str] | None) -> dict[str, list[str]]:
    """Apply checks:enable, checks:skip or checks:disable to `types` (None: every type).
    Returns the new lists. A type moves out of the other list, as in Dokku."""
    lists = {key: listed(app, key) for key in ("disabled", "skipped")}
    if types is None:
        lists = {"disabled": [], "skipped": []}
        if action != "enable":
            lists[action] = [ALL]
    else:
        known = known_processes(app)
        for key in lists:
            expanded = known if ALL in lists[key] else lists[key]
            lists[key] = [n for n in expanded if n not in types]
        if action != "enable":
            lists[action] = list(dict.fromkeys(lists[action] + types))
    _save(app, lists)
    return lists


def _save(app: App, lists: dict[str, list[str]]) -> None:
    for key, value in lists.items():
        if value:
            app.settings.set(TABLE, key, value)
        else:
            app.settings.unset(TABLE, key)


def set_number(app: App, option: str, text: str | None) -> int | None:
    """`checks:set APP wait-to-retire|uptime [SECONDS]`; no SECONDS: back to the default."""
    if option not in OPTIONS:
        raise UserError(f"unknown option {option!r}: use {' or '.join(OPTIONS)}")
    if text is None:
        app.settings.unset(TABLE, OPTIONS[option])
        return None
    value = validate.whole_number(text, f"{option} (seconds)", 0, HIGHEST[OPTIONS[option]])
    app.settings.set(TABLE, OPTIONS[option], value)
    return value
