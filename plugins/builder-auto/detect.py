"""What a source tree is written in, and how to install and start it.

`detect(source)` reads only the dependency manifests and a few marker files, never
runs anything, and returns a `Plan` for the language's Dockerfile template, or None.
Everything taken from the source that reaches a Dockerfile (a file name, a binary
name, a folder) is checked against a strict pattern first; dependency lists never
reach the Dockerfile, only the files that hold them.

Order, first match wins: a `.static` marker, `go.mod`, `requirements.txt` /
`pyproject.toml`, `package.json`, `index.html`. `builder-auto:set APP language X`
forces one.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.api import UserError, tree

LANGUAGES = ("python", "node", "static", "go")

# A relative path inside the source: no "..", no leading "/" or "-", plain characters.
SAFE_PATH = re.compile(r"^(?!-)(?!.*(?:^|/)\.\.(?:/|$))[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")

MAX_INCLUDES = 50  # requirements files pulled in with -r / -c

LOCKFILES = (
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
    ("yarn.lock", "yarn"),
    ("pnpm-lock.yaml", "pnpm"),
)
NOT_STARTABLE = "echo 'builder-auto: no web command: add a Procfile with a web: line' >&2; exit 1"


@dataclass
class Plan:
    language: str
    reason: str  # set by detect()
    manifests: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    cmd_rule: str = ""
    deps_after_code: bool = False
    # python
    installer: str = ""  # pip-requirements, pip-pyproject, uv
    install_project: bool = False
    python_version: str | None = None
    # node
    package_manager: str = ""
    pm_setup: str = ""
    install: str = ""
    build_script: bool = False
    run_build: str = ""
    prune: str = ""
    node_engine: str | None = None
    # static
    root: str = "."
    # go
    binary: str | None = None
    vendor: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def cmd_json(self) -> str:
        return json.dumps(self.cmd)

    @property
    def summary(self) -> str:
        how = {
            "python": self.installer,
            "node": self.package_manager,
            "static": f"root {self.root}",
            "go": "go modules",
        }[self.language]
        return f"{self.language} ({how})"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None, [], False)}


def sniff(source: Path, language: str | None = None) -> tuple[str, str] | None:
    """The language and why, from which files exist: cheap, and no error for a broken
    manifest (the build's to report, and a Dockerfile may win anyway); a marker that is
    a link leaving the tree is refused (`appliance.tree`)."""
    if language:
        return language, _reason(source, language) or f"language set to {language}"
    for candidate in ("static", "go", "python", "node"):
        reason = _reason(source, candidate, marker_only=candidate == "static")
        if reason:
            return candidate, reason
    if tree.is_file(source, "index.html"):
        return "static", "found index.html (static site)"
    return None


def detect(source: Path, language: str | None = None) -> Plan | None:
    """The plan for `source`, or None when nothing here is recognised. With
    `language`, that language's rules apply (an error if its files are missing)."""
    found = sniff(source, language)
    if found is None:
        return None
    if found[0] not in LANGUAGES:
        raise UserError(f"unknown language {found[0]!r}: use one of {', '.join(LANGUAGES)}")
    plan = {"python": _python, "node": _node, "static": _static, "go": _go}[found[0]](source)
    plan.reason = found[1]
    return plan


def _is_python_project(source: Path) -> bool:
    """A pyproject.toml that describes a project, not only tool settings (ruff, black)
    as a Node or Go repository may carry."""
    try:
        data = tomllib.loads(tree.read_text(source, "pyproject.toml") or "")
    except (UserError, tomllib.TOMLDecodeError):
        return True  # broken: the build says why
    return "project" in data or "poetry" in data.get("tool", {})


def _reason(source: Path, language: str, marker_only: bool = False) -> str | None:
    if language == "static":
        if tree.is_file(source, ".static"):
            return "found .static (static site)"
        if not marker_only and tree.is_file(source, "index.html"):
            return "found index.html (static site)"
    elif language == "go" and tree.is_file(source, "go.mod"):
        return "found go.mod (go)"
    elif language == "python":
        if tree.is_file(source, "requirements.txt"):
            return "found requirements.txt (python)"
        if tree.is_file(source, "pyproject.toml") and tree.is_file(source, "uv.lock"):
            return "found pyproject.toml and uv.lock (python, uv)"
        if tree.is_file(source, "pyproject.toml") and _is_python_project(source):
            return "found pyproject.toml (python, pip)"
    elif language == "node" and tree.is_file(source, "package.json"):
        lockfile = next((f for f, _ in LOCKFILES if tree.is_file(source, f)), None)
        if lockfile:
            return f"found package.json and {lockfile} (node)"
        return "found package.json (node)"
    return None


def _read_toml(source: Path, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(tree.read_text(source, name) or "")
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"cannot read {name}: {exc}") from None


def _read_json(source: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads(tree.read_text(source, name) or "")
    except (ValueError, RecursionError) as exc:
        raise UserError(f"cannot read {name}: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise UserError(f"{name} must hold a JSON object")
    return data


def _first_line(source: Path, name: str) -> str:
    """The first line of a small marker file ('' when missing or not text)."""
    lines = (tree.read_text(source, name, errors="replace") or "").strip().splitlines()
    return lines[0].strip() if lines else ""


# ---------------------------------------------------------------------- python


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


def _python(source: Path) -> Plan:
    pyproject = (
        _read_toml(source, "pyproject.toml") if tree.is_file(source, "pyproject.toml") else None
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
        version = re.sub(r"^python-", "", _first_line(source, name))
        match = re.fullmatch(r"^(3\.\d{1,2})(\.\d+)?$", version)
        if match:
            plan.python_version = match.group(1)
            break
    plan.cmd, plan.cmd_rule = _python_command(source, requirements)
    return plan


def _python_command(source: Path, requirements: list[str]) -> tuple[list[str], str]:
    gunicorn = _mentions(requirements, "gunicorn")
    if gunicorn and tree.is_file(source, "wsgi.py"):
        return _sh("exec gunicorn --bind 0.0.0.0:${PORT:-5000} wsgi"), "gunicorn and wsgi.py"
    if gunicorn and tree.is_file(source, "app.py"):
        return _sh("exec gunicorn --bind 0.0.0.0:${PORT:-5000} app:app"), "gunicorn and app.py"
    for script in ("app.py", "main.py", "server.py"):
        if tree.is_file(source, script):
            return ["python", script], f"found {script}"
    return _sh(NOT_STARTABLE), "no app.py, main.py or server.py: the Procfile must say"


def _sh(command: str) -> list[str]:
    return ["/bin/sh", "-c", command]


# ------------------------------------------------------------------------ node


def _node(source: Path) -> Plan:
    if not tree.is_file(source, "package.json"):
        raise UserError("language node needs a package.json")
    package = _read_json(source, "package.json")
    scripts = package.get("scripts") if isinstance(package.get("scripts"), dict) else {}
    manager_field = str(package.get("packageManager") or "")
    lockfile, manager = next(((f, m) for f, m in LOCKFILES if tree.is_file(source, f)), (None, ""))
    if not manager:
        named = manager_field.split("@", 1)[0]
        manager = named if named in ("npm", "yarn", "pnpm") else "npm"
    plan = Plan("node", "", manifests=["package.json"] + ([lockfile] if lockfile else []),
                package_manager=manager)  # fmt: skip
    plan.build_script = bool(scripts.get("build"))
    plan.deps_after_code = any(
        scripts.get(s) for s in ("preinstall", "install", "postinstall", "prepare")
    )
    if plan.deps_after_code:
        plan.notes.append("package.json has install scripts: the code is copied before the install")
    full = plan.build_script or plan.deps_after_code  # devDependencies needed, pruned afterwards
    berry = tree.is_file(source, ".yarnrc.yml")
    if manager == "npm":
        ci = "npm ci" if lockfile else "npm install"
        plan.install = ci if full else f"{ci} --omit=dev"
        plan.run_build = "npm run build"
        plan.prune = "npm prune --omit=dev" if full else ""
    elif manager == "pnpm":
        frozen = " --frozen-lockfile" if lockfile else ""
        plan.install = f"pnpm install{frozen}" + ("" if full else " --prod")
        plan.run_build = "pnpm run build"
        plan.prune = "pnpm prune --prod" if full else ""
    elif berry:
        plan.install = "yarn install --immutable" if lockfile else "yarn install"
        plan.run_build = "yarn run build"
        plan.notes.append("yarn 2+ installs devDependencies too (no production-only install)")
    else:
        frozen = " --frozen-lockfile" if lockfile else ""
        plan.install = f"yarn install{frozen}" + ("" if full else " --production")
        plan.run_build = "yarn run build"
        plan.prune = (
            f"yarn install{frozen} --production --ignore-scripts --prefer-offline" if full else ""
        )
    if berry:
        plan.manifests.append(".yarnrc.yml")
        if tree.is_dir(source, ".yarn"):
            plan.deps_after_code = True  # yarnPath releases and plugins live there
    plan.pm_setup = _package_manager_setup(manager, manager_field)
    engines = package.get("engines") if isinstance(package.get("engines"), dict) else {}
    if engines.get("node"):
        plan.node_engine = str(engines["node"])
    plan.cmd, plan.cmd_rule = _node_command(source, package, scripts)
    return plan


def _package_manager_setup(manager: str, field_value: str) -> str:
    """corepack when package.json pins the manager (its contract), else npm -g."""
    name, _, version = field_value.partition("@")
    version = version.split("+", 1)[0]
    if manager == "npm":
        return ""
    if name == manager and VERSION.fullmatch(version):
        return (
            "if command -v corepack >/dev/null 2>&1; then corepack enable "
            f"&& corepack prepare {manager}@{version} --activate; "
            f"else npm install -g {manager}@{version}; fi"
        )
    return f"npm install -g {'yarn@1' if manager == 'yarn' else 'pnpm'}"


def _node_command(
    source: Path, package: dict[str, Any], scripts: dict[str, Any]
) -> tuple[list[str], str]:
    if scripts.get("start"):
        return ["npm", "start"], "package.json's start script"
    if tree.is_file(source, "server.js"):
        return ["npm", "start"], "server.js (what npm start runs)"
    main = package.get("main")
    if (
        isinstance(main, str)
        and SAFE_PATH.fullmatch(main.removeprefix("./"))
        and tree.is_file(source, main)
    ):
        return ["node", main.removeprefix("./")], "package.json's main"
    if tree.is_file(source, "index.js"):
        return ["node", "index.js"], "found index.js"
    return _sh(NOT_STARTABLE), "no start script, server.js, main or index.js: the Procfile must say"


# ---------------------------------------------------------------------- static


def static_command(root: str) -> list[str]:
    site = "/app" if root == "." else f"/app/{root}"
    return _sh(
        "if command -v busybox >/dev/null 2>&1 && busybox --list | grep -qx httpd; then "
        f'exec busybox httpd -f -v -p "${{PORT:-5000}}" -h {site}; '
        "elif command -v python3 >/dev/null 2>&1; then "
        f'exec python3 -m http.server "${{PORT:-5000}}" --directory {site}; '
        "else echo 'builder-auto: the base image has neither busybox httpd nor python3' >&2; "
        "exit 1; fi"
    )


def _static(source: Path) -> Plan:
    root = _first_line(source, ".static").strip("/")
    root = root or "."
    if root != "." and not SAFE_PATH.fullmatch(root):
        raise UserError(f".static names the folder to serve: {root!r} is not a plain relative path")
    if root != "." and not tree.is_dir(source, root):
        raise UserError(f".static names the folder {root!r}, which is not in the source")
    plan = Plan("static", "", root=root)
    plan.cmd, plan.cmd_rule = static_command(root), "busybox httpd, else python3 -m http.server"
    return plan


# -------------------------------------------------------------------------- go


def _go(source: Path) -> Plan:
    gomod = tree.read_text(source, "go.mod", errors="replace")
    if gomod is None:
        raise UserError("language go needs a go.mod")
    module = ""
    for line in gomod.splitlines():
        found = re.match(r'^\s*module\s+(?:"([^"]*)"|(\S+))', line)
        if found:
            module = found.group(1) if found.group(1) is not None else found.group(2)
            break
    manifests = ["go.mod"] + (["go.sum"] if tree.is_file(source, "go.sum") else [])
    plan = Plan("go", "", manifests=manifests)
    plan.vendor = tree.is_file(source, "vendor/modules.txt")
    plan.binary = _go_binary(source, module)
    if plan.binary:
        plan.cmd, plan.cmd_rule = [f"/app/bin/{plan.binary}"], "the main package's binary"
    else:
        plan.cmd = _sh(NOT_STARTABLE)
        plan.cmd_rule = "no single main package: the Procfile must say (binaries are in /app/bin)"
    return plan


def _is_main(source: Path, folder: str) -> bool:
    for name in tree.entries(source, folder):
        path = name if folder == "." else f"{folder}/{name}"
        if not name.endswith(".go") or name.endswith("_test.go") or not tree.is_file(source, path):
            continue
        for line in (tree.read_text(source, path, errors="replace") or "").splitlines():
            if line.startswith("package "):
                if line.split()[1] == "main":
                    return True
                break
    return False


def _go_binary(source: Path, module: str) -> str | None:
    """The name `go build -o DIR/ ./...` gives the main package: the last element of
    its import path, skipping a major version suffix (`example.com/tool/v2` -> tool)."""
    if _is_main(source, "."):
        parts = [p for p in module.split("/") if p]
        if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
            parts.pop()
        name = parts[-1] if parts else ""
        return name if SAFE_NAME.fullmatch(name) else None
    commands = [
        name
        for name in tree.entries(source, "cmd")
        if tree.is_dir(source, f"cmd/{name}") and _is_main(source, f"cmd/{name}")
    ]
    if len(commands) == 1 and SAFE_NAME.fullmatch(commands[0]):
        return commands[0]
    return None
