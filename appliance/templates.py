"""One Jinja environment for every template, with per-app and host-wide overrides.

A template `nginx/app.conf.j2` is looked up, first match wins, in
`<root>/apps/<app>/templates/`, `<root>/templates/`, then the built-in `templates/`.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from appliance import state
from appliance.errors import UserError

_NGINX_SAFE = re.compile(r"^[A-Za-z0-9._:/\[\]*~^$-]+$")


def templates_dir() -> Path:
    """The built-in templates: `templates/` of a checkout, else the installed package
    data (`nginx/`, `build/`, `system/`: the root helpers install.sh installs)."""
    top = Path(__file__).resolve().parent.parent
    if (top / "pyproject.toml").is_file() and (top / "templates").is_dir():
        return top / "templates"
    spec = importlib.util.find_spec("appliance_templates")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the built-in templates are missing: reinstall appliance")
    return Path(next(iter(spec.submodule_search_locations)))


def nginx_token(value: object) -> str:
    """Refuse anything that could break out of an nginx directive."""
    text = str(value)
    if not _NGINX_SAFE.fullmatch(text):
        raise UserError(f"refusing to put {text!r} into an nginx config")
    return text


def render(name: str, overrides_for: str | None = None, **context: Any) -> str:
    """Render `name`, looking first in the overrides of the app `overrides_for`."""
    import jinja2

    search = []
    if overrides_for:
        search.append(state.root() / "apps" / overrides_for / "templates")
    search += [state.root() / "templates", templates_dir()]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["nginx"] = nginx_token
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise UserError(f"template {name}: {exc}") from exc
