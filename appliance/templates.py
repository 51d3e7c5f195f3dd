"""One Jinja environment for every template, with per-app and host-wide overrides.

A template such as `build/python.Dockerfile.j2` is looked up, first match wins, in:

1. `<root>/apps/<app>/templates/` (the app's overrides, with `overrides_for=APP`);
2. `<root>/templates/` (the host's overrides);
3. the rendering plugin's own `templates/` folder (with `plugin_dir=`);
4. the built-in `templates/`.

A plugin that renders a template of its own passes its folder, and any Jinja
filters its templates use (`filters={"name": function}`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance import state
from appliance.errors import UserError


def templates_dir() -> Path:
    """The built-in templates: `templates/` of a checkout, else the installed package
    data (the proxy's, the generated Dockerfiles, the root helpers install.sh installs)."""
    top = Path(__file__).resolve().parent.parent
    if (top / "pyproject.toml").is_file() and (top / "templates").is_dir():
        return top / "templates"
    spec = importlib.util.find_spec("appliance_templates")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the built-in templates are missing: reinstall appliance")
    return Path(next(iter(spec.submodule_search_locations)))


def search_path(overrides_for: str | None = None, plugin_dir: Path | None = None) -> list[Path]:
    """The folders `render` looks in, first match wins."""
    search = []
    if overrides_for:
        search.append(state.root() / "apps" / overrides_for / "templates")
    search.append(state.root() / "templates")
    if plugin_dir is not None:
        search.append(plugin_dir / "templates")
    search.append(templates_dir())
    return search


def render(
    name: str,
    overrides_for: str | None = None,
    *,
    plugin_dir: Path | None = None,
    filters: dict[str, Callable[..., Any]] | None = None,
    **context: Any,
) -> str:
    """Render `name`, looking first in the overrides of the app `overrides_for`, then
    the host's, then `plugin_dir`'s `templates/` folder, then the built-in templates."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path(overrides_for, plugin_dir)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(filters or {})
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise UserError(f"template {name}: {exc}") from exc
