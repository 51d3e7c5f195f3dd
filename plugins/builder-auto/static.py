"""A static site: the folder `.static` names (or the top), served by busybox httpd
or Python's http.server, whichever the base image has."""

from __future__ import annotations

from pathlib import Path

from appliance.api import UserError, tree

from .plan import SAFE_PATH, Plan, first_line, sh


def static_command(root: str) -> list[str]:
    site = "/app" if root == "." else f"/app/{root}"
    return sh(
        "if command -v busybox >/dev/null 2>&1 && busybox --list | grep -qx httpd; then "
        f'exec busybox httpd -f -v -p "${{PORT:-5000}}" -h {site}; '
        "elif command -v python3 >/dev/null 2>&1; then "
        f'exec python3 -m http.server "${{PORT:-5000}}" --directory {site}; '
        "else echo 'builder-auto: the base image has neither busybox httpd nor python3' >&2; "
        "exit 1; fi"
    )


def plan_for(source: Path) -> Plan:
    root = first_line(source, ".static").strip("/")
    root = root or "."
    if root != "." and not SAFE_PATH.fullmatch(root):
        raise UserError(f".static names the folder to serve: {root!r} is not a plain relative path")
    if root != "." and not tree.is_dir(source, root):
        raise UserError(f".static names the folder {root!r}, which is not in the source")
    plan = Plan("static", "", root=root)
    plan.cmd, plan.cmd_rule = static_command(root), "busybox httpd, else python3 -m http.server"
    return plan
