"""Node: package.json, the package manager from the lockfile or `packageManager`,
install, build and prune commands, and how to start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.api import UserError, tree

from .plan import NOT_STARTABLE, SAFE_PATH, VERSION, Plan, read_json, sh

LOCKFILES = (
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
    ("yarn.lock", "yarn"),
    ("pnpm-lock.yaml", "pnpm"),
)

def plan_for(source: Path) -> Plan:
    if not tree.is_file(source, "package.json"):
        raise UserError("language node needs a package.json")
    package = read_json(source, "package.json")
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
    return sh(NOT_STARTABLE), "no start script, server.js, main or index.js: the Procfile must say"
