"""The `nginx` Jinja filter of the vhost templates: every value put into an nginx
directive passes through it, and anything that could end the directive or start
another (a space, `;`, a brace, a quote, a newline) is refused."""

from __future__ import annotations

import re

from appliance.api import UserError

_NGINX_SAFE = re.compile(r"[A-Za-z0-9._:/\[\]*~^$-]+")


def nginx_token(value: object) -> str:
    """Refuse anything that could break out of an nginx directive."""
    text = str(value)
    if not _NGINX_SAFE.fullmatch(text):
        raise UserError(f"refusing to put {text!r} into an nginx config")
    return text


FILTERS = {"nginx": nginx_token}
