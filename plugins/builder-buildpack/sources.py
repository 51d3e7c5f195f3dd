"""Which buildpacks build an app, on which stack image, and which buildpack URLs are safe.

The buildpacks come from the first of these that names any (Dokku's order: a
`BUILDPACK_URL` always wins):

1. the `BUILDPACK_URL` config var (`config:set APP BUILDPACK_URL=...`);
2. `BUILDPACK_URL` in the repository's `.env` file;
3. the app's list (`buildpacks:add`, `buildpacks:set`);
4. the repository's `.buildpacks` file, one URL a line, in order;
5. `app.json`'s `buildpacks` (`[{"url": ...}]`).

A buildpack URL is a git URL (`https://`, `http://`, `ssh://`, `git://`, `user@host:path`,
`file:///path`) with an optional `#ref`, an absolute local path (a directory, or a git
repository when a `#ref` is given), or the GitHub shorthand `ORG/NAME`
(`heroku/python` is `https://github.com/heroku/heroku-buildpack-python.git`). Nothing
else reaches `git` or the file system: every URL is matched against strict patterns
and passed in argument lists, never to a shell. Where a URL may point (which local
directories, which hosts) is allowed.py's business.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from appliance import api
from appliance.api import App, UserError, tree

TABLE = "builder-buildpack"
DEFAULT_STACK = "heroku/heroku:24-build"
MAX_BUILDPACKS = 20
MAX_URL = 500

_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?"
_USERINFO = r"(?:[A-Za-z0-9._~%!$&'()*+,;=-]+(?::[A-Za-z0-9._~%!$&'()*+,;=-]+)?@)?"
_PATH = r"[A-Za-z0-9._~%+@=,/-]*"
_REF = r"(?:#(?P<ref>[A-Za-z0-9._/+-]{1,200}))?"

REMOTE = re.compile(
    rf"^(?P<url>(?P<scheme>https?|ssh|git)://{_USERINFO}(?P<host>{_HOST})"
    rf"(?::(?P<port>[0-9]{{1,5}}))?/{_PATH}){_REF}$"
)
SCP = re.compile(rf"^(?P<url>[A-Za-z0-9._-]{{1,64}}@(?P<host>{_HOST}):(?!/){_PATH}){_REF}$")
PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}
FILE = re.compile(rf"^(?P<url>file://(?P<path>/{_PATH})){_REF}$")
LOCAL = re.compile(rf"^(?P<path>/{_PATH}){_REF}$")
_ORG = r"(?P<org>[A-Za-z0-9][A-Za-z0-9-]{0,38})"
SHORTHAND = re.compile(rf"^{_ORG}/(?P<name>[A-Za-z0-9._-]{{1,100}}){_REF}$")
IMAGE = re.compile(r"^[a-z0-9]+(?:[._/:@-][A-Za-z0-9_.-]+)*$")
CONFIG_LINE = re.compile(r"^\s*(?:export\s+)?BUILDPACK_URL\s*=\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class Buildpack:
    """One validated buildpack URL: `kind` is "git" (cloned) or "dir" (copied)."""

    url: str  # as the user wrote it
    kind: str
    location: str  # what git clones, or the directory copied
    ref: str | None = None
    scheme: str = ""  # of a remote git URL: https, http, ssh (also user@host:path), git
    host: str = ""  # the host a remote git URL makes the appliance connect to
    port: int = 0

    @property
    def shown(self) -> str:
        """The URL without a password, for output."""
        return mask(self.url)


def mask(text: str) -> str:
    """Hide the password of any `scheme://user:password@host` in `text`."""
    return re.sub(r"(://[^/:@\s]+):[^/@\s]+@", r"\1:***@", text)


def parse_url(text: str) -> Buildpack:
    """Validate a buildpack URL and say how to fetch it; UserError when it is refused."""
    url = text  # file readers strip their lines; a value typed with spaces is refused
    if not url or len(url) > MAX_URL or any(c.isspace() for c in url):
        raise UserError(f"invalid buildpack URL {text!r}")
    if url.startswith("-"):
        raise UserError(f"invalid buildpack URL {text!r}")
    match = REMOTE.fullmatch(url)
    if match:
        scheme = match.group("scheme")
        port = int(match.group("port") or PORTS[scheme])
        if not 0 < port < 65536:
            raise UserError(f"invalid port in buildpack URL {text!r}")
        ref = _ref(match.group("ref"), url)
        return Buildpack(url, "git", match.group("url"), ref, scheme, match.group("host"), port)
    match = SCP.fullmatch(url)
    if match:
        ref = _ref(match.group("ref"), url)
        return Buildpack(url, "git", match.group("url"), ref, "ssh", match.group("host"), 22)
    match = FILE.fullmatch(url)
    if match:
        path = _local_path(match.group("path"), url)
        return Buildpack(url, "git", f"file://{path}", _ref(match.group("ref"), url))
    match = LOCAL.fullmatch(url)
    if match:
        path = _local_path(match.group("path"), url)
        ref = _ref(match.group("ref"), url)
        if ref:
            return Buildpack(url, "git", f"file://{path}", ref)
        return Buildpack(url, "dir", path)
    match = SHORTHAND.fullmatch(url)
    if match:
        org = match.group("org")
        org = "heroku" if org == "heroku-community" else org
        name = match.group("name").removesuffix(".git")
        location = f"https://github.com/{org}/heroku-buildpack-{name}.git"
        ref = _ref(match.group("ref"), url)
        return Buildpack(url, "git", location, ref, "https", "github.com", 443)
    raise UserError(
        f"invalid buildpack URL {text!r}: use a git URL (https://, ssh://, git://, "
        "user@host:path, file:///path) with an optional #ref, an absolute path, or ORG/NAME"
    )


def _ref(ref: str | None, url: str) -> str | None:
    if ref is None:
        return None
    if ref.startswith(("-", "/")) or ".." in ref or ref.endswith(("/", ".lock")):
        raise UserError(f"invalid ref in buildpack URL {url!r}")
    return ref


def _local_path(path: str, url: str) -> str:
    parts = path.rstrip("/").split("/")[1:]
    if ".." in parts or "." in parts or "" in parts:
        raise UserError(f"invalid buildpack path in {url!r}: use a plain absolute path")
    return str(PurePosixPath(path))


def read_dotenv(text: str) -> str | None:
    """`BUILDPACK_URL` from a `.env` file (`KEY=value`, optional `export` and quotes)."""
    found = None
    for line in text.splitlines():
        match = CONFIG_LINE.match(line)
        if not match:
            continue
        value = match.group("value")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.sub(r"\s+#.*$", "", value)
        found = value.strip() or None
    return found


def read_buildpacks_file(text: str) -> list[str]:
    """`.buildpacks`: one URL a line; blank lines and `#` comments are skipped."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def read_app_json(app_json: dict[str, Any]) -> list[str]:
    found = app_json.get("buildpacks") or []
    if not isinstance(found, list):
        raise UserError('app.json: "buildpacks" must be a list of {"url": ...}')
    urls = []
    for item in found:
        url = item.get("url") if isinstance(item, dict) else item
        if not isinstance(url, str) or not url.strip():
            raise UserError('app.json: each of "buildpacks" needs a "url"')
        urls.append(url.strip())
    return urls


def _read(source: Path | None, name: str) -> str | None:
    """A small file of the pushed tree (never through a link leaving it), or None."""
    if source is None or not tree.is_file(source, name):
        return None
    return tree.read_text(source, name, limit=100 * 1024, errors="replace")


def resolve(
    app: App,
    source: Path | None,
    config: dict[str, str],
    app_json: dict[str, Any] | None = None,
) -> tuple[list[str], str]:
    """The buildpack URLs for this build, and where they came from ([] when none)."""
    if config.get("BUILDPACK_URL", "").strip():
        return [config["BUILDPACK_URL"].strip()], "BUILDPACK_URL is set"
    dotenv = _read(source, ".env")
    from_env = read_dotenv(dotenv) if dotenv else None
    if from_env:
        return [from_env], "BUILDPACK_URL in .env"
    listed = configured(app)
    if listed:
        return listed, "buildpacks set with buildpacks:add"
    text = _read(source, ".buildpacks")
    if text is not None and read_buildpacks_file(text):
        return read_buildpacks_file(text), "found .buildpacks"
    if app_json is None and source is not None:
        raw = _read(source, "app.json")
        app_json = _json(raw) if raw else {}
    urls = read_app_json(app_json or {})
    if urls:
        return urls, "app.json lists buildpacks"
    return [], ""


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def configured(app: App) -> list[str]:
    return [str(u) for u in app.settings.get(TABLE, "buildpacks", []) or []]


def save(app: App, urls: list[str]) -> None:
    if len(urls) > MAX_BUILDPACKS:
        raise UserError(f"at most {MAX_BUILDPACKS} buildpacks")
    if urls:
        app.settings.set(TABLE, "buildpacks", urls)
    else:
        app.settings.unset(TABLE, "buildpacks")


def stack(app: App) -> tuple[str, str]:
    """The build's stack image and where it was set: app, global or default."""
    own = app.settings.get(TABLE, "stack")
    if own:
        return str(own), "app"
    host = api.global_settings().get(TABLE, "stack")
    if host:
        return str(host), "global"
    return DEFAULT_STACK, "default"


def image_ref(text: str) -> str:
    if len(text) > 255 or not IMAGE.fullmatch(text):
        raise UserError(f"invalid image reference {text!r}")
    return text


def stack_name(image: str) -> str:
    """`$STACK` for buildpacks: heroku/heroku:24-build is heroku-24; otherwise the
    image's name (appliance-test/bookworm:latest is bookworm)."""
    match = re.fullmatch(r"^(?:docker\.io/)?heroku/heroku:(\d+)(?:-build)?$", image)
    if match:
        return f"heroku-{match.group(1)}"
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0]
