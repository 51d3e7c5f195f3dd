import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from appliance import api
from appliance.api import (
    Conflict,
    Context,
    NotFound,
    Plugin,
    UserError,
    hostenv,
    installed_dir,
    read_manifest,
    validate,
)

from . import deps

_GIT_URL = re.compile(r"^(https?://|ssh://|git://|git@)[A-Za-z0-9@:/._~+-]+(#[A-Za-z0-9._/-]+)?$")


def list_plugins(ctx: Context) -> int:
    ctx.parse(formats=True)
    rows = [
        {
            "name": p.name,
            "version": p.version,
            "enabled": p.enabled,
            "builtin": p.builtin,
            "description": p.description,
            "hooks": p.declared_hooks(),
            "commands": sorted(p.commands),
            "path": str(p.path),
        }
        for p in ctx.registry.plugins.values()
    ]
    if ctx.out.json:
        ctx.out.data(rows)
        return 0
    ctx.out.table(
        ["NAME", "VERSION", "STATE", "KIND", "HOOKS", "DESCRIPTION"],
        [
            [
                r["name"],
                r["version"],
                "enabled" if r["enabled"] else "disabled",
                "built-in" if r["builtin"] else "installed",
                len(r["hooks"]),
                r["description"],
            ]
            for r in rows
        ],
    )
    return 0


def _fetch(source: str, into: Path) -> Path:
    if not source or len(source) > 1000 or not source.isprintable():
        raise UserError(f"{source[:100]!r} is neither a directory nor a git URL")
    path = Path(source).expanduser()
    try:
        readable = not path.exists() or os.access(path, os.R_OK | os.X_OK)
    except OSError:
        readable = False
    if not readable:
        import getpass

        raise UserError(
            f"cannot read {path} as user {getpass.getuser()}: make it readable "
            "(chmod -R a+rX) or install from a git URL"
        )
    if path.is_dir():
        shutil.copytree(path, into / "src", ignore=shutil.ignore_patterns(".git", "__pycache__"))
        return into / "src"
    if not _GIT_URL.fullmatch(source):
        raise UserError(f"{source!r} is neither a directory nor a git URL")
    url, _, ref = source.partition("#")
    argv = ["git", "clone", "--quiet", "--depth", "1"]
    if ref:
        argv += ["--branch", ref]
    result = subprocess.run(
        [*argv, "--", url, str(into / "src")],
        capture_output=True,
        text=True,
        check=False,
        env=hostenv.host_env(GIT_TERMINAL_PROMPT="0"),
    )
    if result.returncode != 0:
        raise UserError(f"git clone failed: {result.stderr.strip().splitlines()[-1:]}")
    shutil.rmtree(into / "src" / ".git", ignore_errors=True)
    return into / "src"


def install(ctx: Context) -> int:
    def configure(p):  # type: ignore[no-untyped-def]
        p.add_argument("source")
        p.add_argument("--name", help="install under this name instead of the manifest's")

    ns = ctx.parse(configure)
    target_root = installed_dir()
    target_root.mkdir(parents=True, exist_ok=True)
    with _store_lock(), tempfile.TemporaryDirectory(dir=target_root, prefix=".install-") as tmp:
        src = _fetch(ns.source, Path(tmp))
        manifest = read_manifest(src, builtin=False)
        name = validate.plugin_name(ns.name or manifest.name)
        existing = ctx.registry.plugins.get(name)
        if existing and existing.builtin:
            raise Conflict(f"{name!r} is a built-in plugin; choose another --name")
        staged = Path(tmp) / name
        src.rename(staged)
        plugin = _check(ctx, staged, name)
        staged_deps = deps.stage(plugin)
        try:
            ctx.appliance.verify_plugin(plugin)
            verb = _land(staged, target_root / name)
        except BaseException:
            deps.discard(staged_deps)
            raise
        deps.commit(name, staged_deps)
    ctx.appliance.reload_plugins()
    plugin = ctx.registry.get(name)
    ctx.out.section(f"{verb} plugin {plugin.name} {plugin.version}")
    if plugin.commands:
        ctx.out.info("Commands: " + ", ".join(sorted(plugin.commands)))
    if plugin.declared_hooks():
        ctx.out.info("Hooks: " + ", ".join(plugin.declared_hooks()))
    if plugin.dependencies:
        ctx.out.info("Dependencies: " + ", ".join(plugin.dependencies))
    if plugin.enabled:
        ctx.appliance.hook.appliance_plugin_installed(plugin=plugin, out=ctx.out)
    return 0


def _land(staged: Path, final: Path) -> str:
    """Move the checked plugin into place, replacing an older version whole."""
    if not final.exists():
        staged.rename(final)
        return "Installed"
    old = final.with_name(f".{final.name}.old.{time.time_ns()}")
    final.rename(old)
    staged.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return "Upgraded"


def _check(ctx: Context, path: Path, name: str) -> Plugin:
    """The staged plugin's manifest, under `name`, checked before anything lands:
    its hooks exist, its exec commands and public modules are there."""
    import tomli_w

    manifest = api.read_toml(path / "plugin.toml")
    manifest["name"] = name
    (path / "plugin.toml").write_text(tomli_w.dumps(manifest))
    plugin = read_manifest(path, builtin=False)
    hooks = ctx.appliance.hook_names()
    for hook in plugin.declared_hooks():
        if hook not in hooks:
            raise UserError(f"plugin {name}: {hook!r} is not a hook (see docs/plugins.md)")
    for command in plugin.commands.values():
        if command.exec and not (path / command.exec).is_file():
            raise UserError(f"plugin {name}: command {command.name} runs missing {command.exec}")
    for module in plugin.public:
        relative = Path(*module.split("."))
        if (
            not (path / relative.with_suffix(".py")).is_file()
            and not (path / relative / "__init__.py").is_file()
        ):
            raise UserError(f"plugin {name}: public module {module} is missing")
    return plugin


def install_dependencies(ctx: Context) -> int:
    """Install the Python dependencies of one installed plugin, or of all, again."""
    ns = ctx.parse(lambda p: p.add_argument("name", nargs="?"))
    named = ns.name is not None
    chosen = [ctx.registry.get(ns.name)] if named else list(ctx.registry.plugins.values())
    with _store_lock():
        for plugin in chosen:
            if not plugin.dependencies:
                if named:
                    ctx.out.info(f"{plugin.name} declares no dependencies")
                continue
            deps.commit(plugin.name, deps.stage(plugin))
            ctx.out.section(
                f"Installed the dependencies of {plugin.name}: {', '.join(plugin.dependencies)}"
            )
    return 0


def _store_lock():  # type: ignore[no-untyped-def]
    return api.lock_file(api.root() / "plugins.lock", "the plugin store", timeout=60)


def _write_disabled(name: str, disabled: bool) -> None:
    """Record the plugin's state; the caller holds the store lock."""
    path = api.root() / "plugins.toml"
    data = api.read_toml(path)
    names = set(data.get("disabled", []))
    names = names | {name} if disabled else names - {name}
    data["disabled"] = sorted(names)
    api.write_toml(path, data)


def _set_disabled(name: str, disabled: bool) -> None:
    with _store_lock():
        _write_disabled(name, disabled)


def enable(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("name"))
    plugin = ctx.registry.get(ns.name)
    missing = [r for r in plugin.requires if r not in ctx.registry.plugins]
    if missing:
        raise UserError(f"plugin {plugin.name} requires {', '.join(missing)}: install it first")
    off = [r for r in plugin.requires if not ctx.registry.plugins[r].enabled]
    if off:
        raise UserError(f"plugin {plugin.name} requires {', '.join(off)}: enable it first")
    _set_disabled(plugin.name, False)
    ctx.out.section(f"Enabled plugin {plugin.name}")
    return 0


def disable(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("name"))
    plugin = ctx.registry.get(ns.name)
    if plugin.name == "plugin":
        raise UserError("the plugin manager cannot disable itself")
    _refuse_if_required(ctx, plugin, "disable")
    _set_disabled(plugin.name, True)
    ctx.out.section(f"Disabled plugin {plugin.name}")
    return 0


def uninstall(ctx: Context) -> int:
    ns = ctx.parse(lambda p: p.add_argument("name"))
    plugin = ctx.registry.plugins.get(ns.name)
    if plugin is None:
        raise NotFound(f"plugin {ns.name!r} is not installed")
    if plugin.builtin:
        raise UserError(f"{plugin.name} is built in: disable it with plugin:disable instead")
    _refuse_if_required(ctx, plugin, "uninstall")
    if plugin.enabled:
        ctx.appliance.hook.appliance_plugin_uninstalled(plugin=plugin, out=ctx.out)
    with _store_lock():
        trash = plugin.path.with_name(f".{plugin.name}.removed.{time.time_ns()}")
        plugin.path.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
        deps.remove(plugin.name)
        _write_disabled(plugin.name, False)
    ctx.out.section(f"Uninstalled plugin {plugin.name}")
    return 0


def _refuse_if_required(ctx: Context, plugin: Plugin, verb: str) -> None:
    users = ctx.registry.required_by(plugin.name)
    if users:
        raise UserError(
            f"cannot {verb} plugin {plugin.name}: enabled plugin {', '.join(users)} "
            f"requires it (disable {'them' if len(users) > 1 else 'it'} first)"
        )
