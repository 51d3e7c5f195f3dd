import json
import subprocess
import sys
from pathlib import Path

from appliance import __version__


def test_help_lists_commands(run) -> None:
    result = run("--help")
    assert result.code == 0
    assert "apps:create" in result.out and "ssh-keys:add" in result.out
    assert "git:hook" not in result.out  # hidden


def test_help_for_a_topic(run) -> None:
    result = run("help", "apps")
    assert "apps:list" in result.out and "ssh-keys" not in result.out


def test_version(run) -> None:
    assert run("version").out.strip() == f"appliance {__version__}"
    assert run("--version").out.strip() == __version__


def test_unknown_command_is_one_line(run) -> None:
    result = run("nope:nothing")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "unknown command" in result.err


def test_bad_app_name_is_one_line_exit_1(run) -> None:
    result = run("apps:create", "Bad_Name")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "invalid app name" in result.err
    assert "Traceback" not in result.err


def test_usage_error_exit_2(run) -> None:
    result = run("apps:create")
    assert result.code == 2 and "usage" in result.err


def test_apps_lifecycle(run, root: Path) -> None:
    assert run("apps:create", "hello").code == 0
    assert (root / "apps" / "hello" / "repo.git" / "HEAD").is_file()
    again = run("apps:create", "hello")
    assert again.code == 1 and "already exists" in again.err
    listed = run("apps:list", "--format", "json")
    assert json.loads(listed.out) == ["hello"]
    assert "hello" in run("apps:list").out
    report = json.loads(run("apps:report", "hello", "--format", "json").out)
    assert report["app_name"] == "hello" and report["deployed_release"] == "never deployed"
    refused = run("apps:destroy", "hello")
    assert refused.code == 1 and "--force" in refused.err
    assert run("apps:list", "--format", "json").out.strip() == '[\n  "hello"\n]'
    wrong = run("apps:destroy", "hello", stdin="other\n")
    assert wrong.code == 1 and (root / "apps" / "hello").is_dir()
    assert run("apps:destroy", "hello", stdin="hello\n").code == 0
    assert json.loads(run("apps:list", "--format", "json").out) == []


def test_destroy_missing_app(run) -> None:
    result = run("apps:destroy", "ghost", "--force")
    assert result.code == 1 and "does not exist" in result.err


def test_global_domain(run) -> None:
    assert run("domains:set-global", "Example.com").code == 0
    assert json.loads(run("domains:report", "--format", "json").out)["global"] == "example.com"
    assert run("domains:set-global", "bad domain").code == 1


def test_traceback_only_with_debug(run, monkeypatch) -> None:
    from appliance import cli

    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(cli, "show_help", boom)
    result = run("help")
    assert result.code == 1 and "kaput" in result.err and "Traceback" not in result.err


def test_help_imports_no_heavy_module(root: Path) -> None:
    code = (
        "import sys; from appliance import cli; cli.main(['apps:list']); "
        "bad = [m for m in ('docker', 'paramiko', 'jinja2', 'pluggy') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
