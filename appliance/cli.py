"""Entry point: argv (or SSH_ORIGINAL_COMMAND) -> command -> exit code.

Only the standard library is imported before a command is routed; a plugin's code
is imported when its command runs or one of its hooks fires.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

from appliance import __version__
from appliance.errors import UserError

if TYPE_CHECKING:
    from appliance.access import Access
    from appliance.host import Appliance
    from appliance.manifest import Command
    from appliance.registry import Registry

USAGE = "Usage: appliance [--format json] COMMAND [ARGS...]"
SSH_USAGE = "Usage: ssh appliance@HOST COMMAND [ARGS...]   |   git push appliance@HOST:APP main"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return run(argv)
    except UserError as exc:
        _fail(str(exc))
        return exc.code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:
        if os.environ.get("APPLIANCE_DEBUG"):
            raise
        _fail(f"unexpected error: {type(exc).__name__}: {exc} (APPLIANCE_DEBUG=1 shows details)")
        return 1


def _fail(message: str) -> None:
    """One line, whatever the message quotes: control characters a user typed (a
    newline, a NUL, an escape sequence) are shown escaped, never acted on."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    with contextlib.suppress(BrokenPipeError):
        print(f" !     {shown}", file=sys.stderr, flush=True)


def run(argv: list[str], via_ssh: bool = False) -> int:
    fmt = "text"
    while argv and argv[0].startswith("-"):
        flag = argv.pop(0)
        if flag == "--version":
            print(__version__)
            return 0
        if flag in ("-h", "--help"):
            argv = ["help", *argv]
            break
        if flag == "--format" and argv:
            fmt = argv.pop(0)
        elif flag.startswith("--format="):
            fmt = flag.partition("=")[2]
        else:
            raise UserError(f"unknown option {flag!r}; see 'appliance help'", code=2)
    if fmt not in ("text", "json"):
        raise UserError(f"unknown format {fmt!r}: use text or json", code=2)
    if not argv:
        argv = ["help"]
    name, args = argv[0], argv[1:]
    if name == "version":
        print(f"appliance {__version__}")
        return 0
    if name == "ssh" and not via_ssh:
        return ssh_entry(args)
    drop_privileges()
    if name == "daemon" and not via_ssh:
        from appliance import daemon

        return daemon.main(args)

    from appliance.boot import open_appliance
    from appliance.output import Output

    appliance = open_appliance(Output(fmt))
    if name == "help":
        return show_help(appliance.registry, args, via_ssh)
    return route(appliance, name, args, via_ssh)


def route(appliance: Appliance, name: str, args: list[str], via_ssh: bool) -> int:
    """Check who may run `name`, run it, and record it in the audit log."""
    from appliance import access

    user = appliance.user
    record: dict[str, object] = {"key": user, "command": name, "args": args}
    try:
        caller = access.for_caller(user, via_ssh)
        record["fingerprint"] = caller.fingerprint
        command = appliance.registry.command(name)
        if command is None:
            return _not_a_command(appliance, caller, [name, *args])
        record.update(redact=command.redact, app=access.app_named(command, args))
        access.authorize(caller, command, args)
        code = run_command(appliance, command, args, caller)
        record.update(outcome="ok" if code == 0 else "failed", code=code)
        return code
    except access.Refused:
        record.update(outcome="refused", code=1)
        raise
    except UserError as exc:
        record.update(outcome="failed", code=exc.code)
        raise
    except KeyboardInterrupt:
        record.update(outcome="interrupted", code=130)
        raise
    except SystemExit as exc:  # argparse's --help
        code = exc.code if isinstance(exc.code, int) else 1
        record.update(outcome="ok" if code == 0 else "failed", code=code)
        raise
    except BaseException as exc:
        record.update(outcome="error", code=getattr(exc, "code", 1))
        raise
    finally:
        _audit(record, via_ssh)


def _audit(record: dict[str, object], via_ssh: bool) -> None:
    from appliance import audit

    args = record.pop("args")
    values = record.pop("redact", "") == "values"
    record["args"] = audit.redact(list(args), values=values)  # type: ignore[call-overload]
    record["via"] = "ssh" if via_ssh else "local"
    record["source"] = audit.source_address() if via_ssh else "local"
    audit.record(record)


def _not_a_command(appliance: Appliance, caller: Access, argv: list[str]) -> int:
    """Over SSH, an admin's other commands go to the appliance_ssh_command hook (a
    plugin's own SSH verbs); nothing else runs."""
    from appliance import access

    name = argv[0]
    if not caller.via_ssh:
        raise UserError(f"unknown command {name!r}; see 'appliance help'")
    if caller.admin:
        code = appliance.hook.appliance_ssh_command(
            argv=argv, user=caller.user, out=appliance.out
        )
        if code is not None:
            return int(code)
    raise access.Refused(f"command not allowed: {name!r}; see 'ssh appliance@HOST help'")


def run_command(
    appliance: Appliance, command: Command, args: list[str], caller: Access | None = None
) -> int:
    from appliance import access
    from appliance.command import Context

    if command.exec:
        return run_exec(command, args, appliance.user)
    ctx = Context(
        command=command,
        args=args,
        appliance=appliance,
        access=caller or access.for_caller(appliance.user, False),
    )
    result = appliance.registry.handler(command)(ctx)
    return int(result or 0)


def run_exec(command: Command, args: list[str], user: str) -> int:
    import subprocess

    from appliance import hostenv, state

    assert command.exec
    exe = command.plugin.path / command.exec
    env = hostenv.host_env(APPLIANCE_ROOT=str(state.root()), APPLIANCE_USER=user)
    return subprocess.run([str(exe), *args], env=env, check=False).returncode


def ssh_entry(args: list[str]) -> int:
    """The forced command of every authorized key: `appliance ssh --key NAME`."""
    import shlex

    from appliance import validate

    if len(args) != 2 or args[0] != "--key":
        raise UserError("usage: appliance ssh --key NAME (run by sshd)", code=2)
    os.environ["APPLIANCE_USER"] = validate.key_name(args[1])
    original = os.environ.get("SSH_ORIGINAL_COMMAND", "").strip()
    if not original:
        return run(["help"], via_ssh=True)
    try:
        argv = shlex.split(original)
    except ValueError as exc:
        raise UserError(f"cannot parse the command: {exc}") from None
    if argv and argv[0] == "appliance":
        argv = argv[1:]
    if argv and argv[0] == "ssh":
        raise UserError("command not allowed: 'ssh'")
    return run(argv, via_ssh=True)


def drop_privileges() -> None:
    """Run as the owner of the state root, so root never leaves files the
    appliance user cannot change."""
    if os.geteuid() != 0:
        return
    from appliance import state

    try:
        owner = os.stat(state.root()).st_uid
    except FileNotFoundError:
        return
    if owner == 0:
        return
    import pwd

    entry = pwd.getpwuid(owner)
    os.initgroups(entry.pw_name, entry.pw_gid)
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.environ.update(HOME=entry.pw_dir, USER=entry.pw_name, LOGNAME=entry.pw_name)


def show_help(registry: Registry, args: list[str], via_ssh: bool) -> int:
    topic = args[0] if args else None
    commands = sorted(
        (c for c in registry.commands().values() if not c.hidden),
        key=lambda c: c.name,
    )
    if topic:
        commands = [c for c in commands if c.name.split(":")[0] == topic or c.name == topic]
        if not commands:
            raise UserError(f"no commands for {topic!r}; see 'appliance help'")
    lines = [SSH_USAGE if via_ssh else USAGE, "", "Commands:"]
    width = max((len(c.name) + 1 + len(c.usage) for c in commands), default=0)
    for c in commands:
        lines.append(f"  {(c.name + ' ' + c.usage).strip().ljust(width)}  {c.help}")
    lines += ["", "Run 'appliance COMMAND --help' for a command's options."]
    print("\n".join(lines))
    return 0
