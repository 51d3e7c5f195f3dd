"""Python: requirements.txt (and the files it includes), or pyproject.toml with or
without uv.lock; the Python version from .python-version or runtime.txt; gunicorn or
app.py / main.py / server.py to start."""

from __future__ import annotations

import re
from pathlib import Path

from appliance.api import UserError, tree

from .plan import NOT_STARTABLE, SAFE_PATH, Plan, first_line, read_toml, sh

MAX_INCLUDES = 50  # requirements files pulled in with -r / -c


_LOCAL_REQUIREMENT = re.compile(r"^(-e|--editable)\b|^(\.|/|file:)")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)[\s=]+(\S+)")
_FIND_LINKS = re.compile(r"^(-f|--find-links)[\s=]+(\S+)")


def _requirements(source: Path, name: str, seen: list[str]) -> tuple[list[str], bool]:
    """The requirement lines of `name` and the files it pulls in (appended to `seen`);
    True when a line installs from a local path (so the code must come first)."""
    if name in seen:
        return [], False
    seen.append(name)
    if len(seen) > MAX_INCLUDES:
        raise UserError(f"requirements files include more than {MAX_INCLUDES} others")
    text = tree.read_text(source, name)
    if text is None:
        raise UserError(f"cannot read {name}: not in the source")
    lines, local = [], False
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        included = _INCLUDE.match(line)
        if included:
            target = str(Path(name).parent / included.group(2))
            target = target[2:] if target.startswith("./") else target
            if not SAFE_PATH.fullmatch(target) or not tree.is_file(source, target):
                local = True  # a URL, or a file we cannot copy on its own
                continue
            more, more_local = _requirements(source, target, seen)
            lines += more
            local = local or more_local
        elif _LOCAL_REQUIREMENT.match(line):
            local = True
        elif _FIND_LINKS.match(line):
            local = local or "://" not in line
            lines.append(line)
        else:
            lines.append(line)
    return lines, local


def _mentions(requirements: list[str], package: str) -> bool:
    pattern = re.compile(rf"^{package}(?![A-Za-z0-9_.-])", re.IGNORECASE)
    return any(pattern.match(r.strip()) for r in requirements)


def plan_for(source: Path) -> Plan:
    pyproject = (
        read_toml(source, "pyproject.toml") if tree.is_file(source, "pyproject.toml") else None
    )
    project = (pyproject or {}).get("project")
    has_build_system = "build-system" in (pyproject or {})
    if tree.is_file(source, "requirements.txt"):
        manifests: list[str] = []
        requirements, local = _requirements(source, "requirements.txt", manifests)
        plan = Plan("python", "", manifests=manifests,
                    installer="pip-requirements", deps_after_code=local)  # fmt: skip
        if local:
            plan.notes.append(
                "requirements.txt installs from a local path: the code is copied first"
            )
    elif pyproject is not None and tree.is_file(source, "uv.lock"):
        requirements = list((project or {}).get("dependencies", []))
        plan = Plan("python", "",
                    manifests=["pyproject.toml", "uv.lock"], installer="uv",
                    install_project=has_build_system)  # fmt: skip
    elif pyproject is not None:
        if not isinstance(project, dict):
            raise UserError(
                "pyproject.toml has no [project] table: builder-auto reads the dependencies "
                "from [project] dependencies (PEP 621); add a requirements.txt or a Dockerfile"
            )
        requirements = [str(r) for r in project.get("dependencies", [])]
        plan = Plan("python", "", manifests=["pyproject.toml"],
                    installer="pip-pyproject", install_project=has_build_system)  # fmt: skip
    else:
        raise UserError("language python needs a requirements.txt or a pyproject.toml")
    for name in (".python-version", "runtime.txt"):
        version = re.sub(r"^python-", "", first_line(source, name))
        match = re.fullmatch(r"^(3\.\d{1,2})(\.\d+)?$", version)
        if match:
            plan.python_version = match.group(1)
            break
    plan.cmd, plan.cmd_rule = _python_command(source, requirements)
    return plan


def _python_command(source: Path, requirements: list[str]) -> tuple[list[str], str]:
    gunicorn = _mentions(requirements, "gunicorn")
    if gunicorn and tree.is_file(source, "wsgi.py"):
        return sh("exec gunicorn --bind 0.0.0.0:${PORT:-5000} wsgi"), "gunicorn and wsgi.py"
    if gunicorn and tree.is_file(source, "app.py"):
        return sh("exec gunicorn --bind 0.0.0.0:${PORT:-5000} app:app"), "gunicorn and app.py"
    for script in ("app.py", "main.py", "server.py"):
        if tree.is_file(source, script):
            return ["python", script], f"found {script}"
    return sh(NOT_STARTABLE), "no app.py, main.py or server.py: the Procfile must say"
