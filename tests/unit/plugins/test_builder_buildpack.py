"""The buildpack builder without Docker: bin/release YAML, where the buildpacks come
from and in which order, URL validation, fetching (local directories and local git
repositories, for real), detection and builder choice, and the buildpacks:* commands.
The build container itself is exercised by tests/e2e/test_builder_buildpack.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from appliance import state
from appliance.boot import open_appliance
from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.output import Output
from appliance.registry import Registry
from appliance.state import App

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def plugin_module(name: str | None = None) -> ModuleType:
    registry = Registry()
    return registry.import_module(registry.get("builder-buildpack"), name)


@pytest.fixture
def sources(root: Path) -> ModuleType:
    return plugin_module("sources")


@pytest.fixture
def release(root: Path) -> ModuleType:
    return plugin_module("release")


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names resolve from a table, addresses as themselves: no network in unit tests."""
    import socket

    real = socket.getaddrinfo
    table = {
        "example.com": ["93.184.215.14"],
        "github.com": ["140.82.121.4"],
        "rebind.example.com": ["93.184.215.14", "127.0.0.1"],
        "git.internal": ["10.0.0.5"],
        "localhost": ["127.0.0.1", "::1"],
    }

    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host in table:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in table[host]]
        return real(host, port, *args, flags=socket.AI_NUMERICHOST, type=socket.SOCK_STREAM)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.fixture
def local(run, root: Path, tmp_path: Path) -> str:
    """A directory local buildpacks may come from (beside the state root, not in it)."""
    allowed = tmp_path / "buildpacks"
    allowed.mkdir()
    done = run("buildpacks:set-global", "local-dirs", str(allowed))
    assert done.code == 0, done.err
    return str(allowed)


@pytest.fixture
def app(run, root: Path) -> App:
    assert run("apps:create", "hello").code == 0
    return App("hello")


def deploy_of(app: App, source: Path | None, config: dict[str, str] | None = None) -> Deploy:
    appliance = open_appliance(Output(), user="alice")
    job = Deploy(
        app=app, out=appliance.out, id=1, release=1, user="alice", appliance=appliance,
        source_dir=source,
    )  # fmt: skip
    job.config = dict(config or {})
    return job


def choose_builder(job: Deploy) -> None:
    """The builder plugin's choice, as its appliance_build_source makes it."""
    registry = job.appliance.registry
    registry.import_module(registry.get("builder"), "choice").choose_builder(job)


# --- bin/release ------------------------------------------------------------------


def test_release_yaml(release: ModuleType) -> None:
    text = """---
addons: []
# a comment
config_vars:
  PATH: /app/bin:/usr/local/bin:/usr/bin   # colons stay, the comment goes
  LANG: "en_US.UTF-8"
  QUOTED: 'it''s "fine"'
  EMPTY: ''
  ESCAPED: "a\\tb"
default_process_types:
  web: bundle exec puma -p $PORT
  worker: "python3 worker.py --name=a:b"
extra:
  ignored: yes
"""
    found = release.parse(text)
    assert found["config_vars"] == {
        "PATH": "/app/bin:/usr/local/bin:/usr/bin",
        "LANG": "en_US.UTF-8",
        "QUOTED": 'it\'s "fine"',
        "EMPTY": "",
        "ESCAPED": "a\tb",
    }
    assert found["default_process_types"] == {
        "web": "bundle exec puma -p $PORT",
        "worker": "python3 worker.py --name=a:b",
    }


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---\n",
        "default_process_types: {}\nconfig_vars: ~\n",
        "addons:\n  - heroku-postgresql\n",
    ],
)
def test_release_yaml_without_processes(release: ModuleType, text: str) -> None:
    assert release.parse(text) == {"config_vars": {}, "default_process_types": {}}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("default_process_types:\n  - web\n", "line 2: expected 'key: value'"),
        ("default_process_types:\n  web: |\n    cmd\n", "block scalars"),
        ("default_process_types: {web: cmd}\n", "must be a block"),
        ("config_vars:\n  A: 'open\n", "unterminated quote"),
    ],
)
def test_release_yaml_it_cannot_read_is_an_error(
    release: ModuleType, text: str, error: str
) -> None:
    with pytest.raises(UserError, match=error):
        release.parse(text)


def test_procfile_text(release: ModuleType) -> None:
    assert release.procfile_text({"web": "a b", "worker": "c"}) == "web: a b\nworker: c\n"


# --- buildpack URLs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind", "location", "ref"),
    [
        ("https://github.com/heroku/heroku-buildpack-python.git", "git",
         "https://github.com/heroku/heroku-buildpack-python.git", None),
        ("https://github.com/heroku/heroku-buildpack-ruby.git#v142", "git",
         "https://github.com/heroku/heroku-buildpack-ruby.git", "v142"),
        ("https://user:token@git.example.com:8443/team/bp#feature/x", "git",
         "https://user:token@git.example.com:8443/team/bp", "feature/x"),
        ("ssh://git@example.com/bp.git", "git", "ssh://git@example.com/bp.git", None),
        ("git://example.com/bp.git#1a2b3c4", "git", "git://example.com/bp.git", "1a2b3c4"),
        ("git@github.com:me/bp.git#main", "git", "git@github.com:me/bp.git", "main"),
        ("file:///srv/buildpacks/tiny.git#v1", "git", "file:///srv/buildpacks/tiny.git", "v1"),
        ("/srv/buildpacks/tiny", "dir", "/srv/buildpacks/tiny", None),
        ("/srv/buildpacks/tiny/", "dir", "/srv/buildpacks/tiny", None),
        ("/srv/buildpacks/tiny.git#main", "git", "file:///srv/buildpacks/tiny.git", "main"),
        ("heroku/python", "git", "https://github.com/heroku/heroku-buildpack-python.git", None),
        ("heroku-community/apt#v1", "git", "https://github.com/heroku/heroku-buildpack-apt.git",
         "v1"),
    ],
)  # fmt: skip
def test_accepted_urls(sources: ModuleType, url: str, kind: str, location: str, ref: Any) -> None:
    found = sources.parse_url(url)
    assert (found.kind, found.location, found.ref) == (kind, location, ref)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "-uhttps://example.com/bp",
        "--upload-pack=touch /tmp/x",
        "ext::sh -c touch% /tmp/pwned",
        "https://example.com/bp;rm -rf /",
        "https://example.com/bp$(id)",
        "https://example.com/bp`id`",
        "https://example.com/a b",
        "https://example.com/bp#-branch",
        "https://example.com/bp#a..b",
        "https://example.com/bp#/abs",
        "https://-example.com/bp",
        "ftp://example.com/bp",
        "file://relative/path",
        "relative/path/to/bp",
        "./bp",
        "../bp",
        "/srv/../etc",
        "/srv/./bp",
        "C:\\bp",
        "https://example.com/bp\n/x",
        "x" * 600,
    ],
)
def test_refused_urls(sources: ModuleType, url: str) -> None:
    with pytest.raises(UserError):
        sources.parse_url(url)


def test_passwords_are_masked(sources: ModuleType) -> None:
    found = sources.parse_url("https://me:s3cret@git.example.com/bp.git#main")
    assert found.shown == "https://me:***@git.example.com/bp.git#main"
    assert "s3cret" not in sources.mask("fatal: https://me:s3cret@git.example.com/ not found")


@pytest.fixture
def allowed(root: Path) -> ModuleType:
    return plugin_module("allowed")


def test_local_buildpacks_only_from_directories_an_admin_allows(
    allowed: ModuleType, run, local: str, root: Path, tmp_path: Path
) -> None:
    top = Path(local)
    (top / "tiny").mkdir()
    assert allowed.check_local(f"{top}/tiny") == (top / "tiny").resolve()
    assert allowed.check_local(local) == top.resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (top / "out").symlink_to(elsewhere)  # a link leaving the allowed directory
    (top / "etc").symlink_to("/etc")
    (tmp_path / "in").symlink_to(top / "tiny")  # a link into it is fine: the target counts
    for refused in (str(elsewhere), f"{top}/out", f"{top}/etc", "/etc", f"{top}/../elsewhere",
                    f"{top}/tiny/../../elsewhere", f"{top}x"):  # fmt: skip
        with pytest.raises(UserError, match="buildpacks:set-global local-dirs"):
            allowed.check_local(refused)
    assert allowed.check_local(str(tmp_path / "in")) == (top / "tiny").resolve()
    with pytest.raises(UserError, match="never allowed"):
        allowed.check_local("/var/lib/appliance-storage/other-app")  # the storage base
    assert run("buildpacks:set-global", "local-dirs").code == 0  # reset: none allowed
    with pytest.raises(UserError, match="an admin allows"):
        allowed.check_local(f"{top}/tiny")


def test_the_state_root_and_the_storage_base_are_never_allowed(
    allowed: ModuleType, run, root: Path, tmp_path: Path
) -> None:
    base = tmp_path / "storage"
    (base / "other-app").mkdir(parents=True)
    (root / "apps" / "other").mkdir(parents=True)
    settings = tmp_path / "settings"
    settings.mkdir()
    from appliance import state

    state.global_settings().set("storage", "base", str(base))
    for listed in (str(root), str(root / "apps"), str(base), str(base / "other-app"),
                   str(tmp_path), "/"):  # fmt: skip
        refused = run("buildpacks:set-global", "local-dirs", listed)
        assert refused.code == 1 and refused.err.count("\n") == 1, (listed, refused.err)
    assert allowed.local_dirs() == []
    # listed before the storage base moved under it: still refused at every check
    state.global_settings().set("builder-buildpack", "local_dirs", [str(tmp_path)])
    for path in (root / "apps" / "other", base / "other-app", base, tmp_path):
        with pytest.raises(UserError, match="never allowed"):
            allowed.check_local(str(path))
    link = settings / "innocent"
    link.symlink_to(root / "apps")
    with pytest.raises(UserError, match="never allowed"):
        allowed.check_local(str(link / "other"))


def test_set_global_validates_its_entries(allowed: ModuleType, run, local: str) -> None:
    assert allowed.local_dirs() == [local]
    for bad in ("relative", f"{local}/../x", f"{local}/missing", "/etc/passwd", ",", "a b"):
        result = run("buildpacks:set-global", "local-dirs", bad)
        assert result.code in (1, 2) and result.err.count("\n") == 1, (bad, result.err)
    assert allowed.local_dirs() == [local]
    hosts = "git.internal,10.0.0.5,10.1.0.0/16,fd00::/8"
    done = run("buildpacks:set-global", "private-hosts", hosts)
    assert done.code == 0, done.err
    assert allowed.private_hosts() == ["git.internal", "10.0.0.5", "10.1.0.0/16", "fd00::/8"]
    for bad in ("host-", "a_b", "a/b", "10.0.0.0/33", "x" * 300, ",".join(["h"] * 21)):
        result = run("buildpacks:set-global", "private-hosts", bad)
        assert result.code == 1 and result.err.count("\n") == 1, (bad, result.err)
    assert run("buildpacks:set-global", "nope", "x").code == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:22/x.git",
        "http://2130706433/x.git",
        "http://0177.0.0.1/x.git",
        "http://0x7f.1/x.git",
        "https://localhost/x.git",
        "git://10.0.0.5/x.git",
        "ssh://git@192.168.1.1/x.git",
        "git@172.16.0.1:x.git",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/x.git",
        "http://0.0.0.0/x.git",
        "http://224.0.0.1/x.git",
        "https://rebind.example.com/x.git",  # one public address is not enough
        "https://git.internal/x.git",
    ],
)
def test_private_hosts_are_refused(allowed: ModuleType, sources: ModuleType, dns: None,
                                   url: str) -> None:  # fmt: skip
    with pytest.raises(UserError, match=r"not a public address.*private-hosts"):
        allowed.check(sources.parse_url(url))


def test_private_hosts_an_admin_allows(
    allowed: ModuleType, sources: ModuleType, run, dns: None
) -> None:
    assert allowed.check_remote(sources.parse_url("heroku/python")) == ["140.82.121.4"]
    assert allowed.check_remote(sources.parse_url("http://example.com:8080/a.git")) == [
        "93.184.215.14"
    ]
    assert run("buildpacks:set-global", "private-hosts", "git.internal,10.9.0.0/16").code == 0
    assert allowed.check_remote(sources.parse_url("git://git.internal/bp.git")) == ["10.0.0.5"]
    assert allowed.check_remote(sources.parse_url("git@10.9.1.2:bp.git")) == ["10.9.1.2"]
    with pytest.raises(UserError, match="not a public address"):
        allowed.check_remote(sources.parse_url("git://10.8.0.1/bp.git"))
    # a name that does not resolve is stored (checked again at the fetch), never fetched
    unknown = sources.parse_url("https://nowhere.invalid/bp.git")
    allowed.check(unknown)
    with pytest.raises(UserError, match="cannot resolve"):
        allowed.check_remote(unknown)


# --- where the buildpacks come from ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BUILDPACK_URL=https://example.com/bp.git\n", "https://example.com/bp.git"),
        ("export BUILDPACK_URL='https://example.com/bp.git#v1'\n", "https://example.com/bp.git#v1"),
        ('A=1\nBUILDPACK_URL = "/srv/bp"\nB=2\n', "/srv/bp"),
        ("BUILDPACK_URL=/srv/bp  # local\n", "/srv/bp"),
        ("# BUILDPACK_URL=/srv/bp\nOTHER=1\n", None),
        ("BUILDPACK_URL=\n", None),
    ],
)
def test_dotenv(sources: ModuleType, text: str, expected: str | None) -> None:
    assert sources.read_dotenv(text) == expected


def test_buildpacks_file(sources: ModuleType) -> None:
    text = "https://example.com/a.git\n\n# a comment\n  /srv/b  \n"
    assert sources.read_buildpacks_file(text) == ["https://example.com/a.git", "/srv/b"]


def test_resolution_order(sources: ModuleType, app: App, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()

    def resolve(config: dict[str, str] | None = None) -> tuple[list[str], str]:
        return sources.resolve(app, source, config or {})

    assert resolve() == ([], "")
    (source / "app.json").write_text(json.dumps({"buildpacks": [{"url": "heroku/python"}]}))
    assert resolve() == (["heroku/python"], "app.json lists buildpacks")
    (source / ".buildpacks").write_text("/srv/one\n/srv/two\n")
    assert resolve() == (["/srv/one", "/srv/two"], "found .buildpacks")
    sources.save(app, ["/srv/listed"])
    assert resolve() == (["/srv/listed"], "buildpacks set with buildpacks:add")
    (source / ".env").write_text("BUILDPACK_URL=/srv/from-env\n")
    assert resolve() == (["/srv/from-env"], "BUILDPACK_URL in .env")
    assert resolve({"BUILDPACK_URL": "/srv/config"}) == (["/srv/config"], "BUILDPACK_URL is set")


@pytest.mark.parametrize("name", [".env", ".buildpacks", "app.json"])
def test_source_files_linked_out_of_the_tree_are_refused(
    sources: ModuleType, app: App, tmp_path: Path, name: str
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("BUILDPACK_URL=/srv/secret\n")
    source = tmp_path / "source"
    source.mkdir()
    (source / name).symlink_to(secret)
    with pytest.raises(UserError, match=f"{name} in the pushed source is a symbolic link"):
        sources.resolve(app, source, {})
    (source / name).unlink()
    (source / name).symlink_to(source / "inside")  # a link inside: followed
    inside = {
        ".env": "BUILDPACK_URL=/srv/inside\n",
        ".buildpacks": "/srv/inside\n",
        "app.json": json.dumps({"buildpacks": [{"url": "/srv/inside"}]}),
    }
    (source / "inside").write_text(inside[name])
    assert sources.resolve(app, source, {})[0] == ["/srv/inside"]


def test_app_json_buildpacks_must_have_urls(sources: ModuleType) -> None:
    assert sources.read_app_json({"buildpacks": [{"url": " /srv/a "}, "/srv/b"]}) == [
        "/srv/a",
        "/srv/b",
    ]
    with pytest.raises(UserError, match="url"):
        sources.read_app_json({"buildpacks": [{"name": "x"}]})
    with pytest.raises(UserError, match="list"):
        sources.read_app_json({"buildpacks": "heroku/python"})


def test_stack(sources: ModuleType, app: App) -> None:
    assert sources.stack(app) == ("heroku/heroku:24-build", "default")
    state.global_settings().set("builder-buildpack", "stack", "example/host:1")
    assert sources.stack(app) == ("example/host:1", "global")
    app.settings.set("builder-buildpack", "stack", "example/app:2")
    assert sources.stack(app) == ("example/app:2", "app")
    assert sources.stack_name("heroku/heroku:24-build") == "heroku-24"
    assert sources.stack_name("heroku/heroku:22") == "heroku-22"
    assert sources.stack_name("appliance-test/bookworm:latest") == "bookworm"
    assert sources.stack_name("registry.example:5000/team/stack@sha256:abc") == "stack"


# --- detection and the choice of builder ----------------------------------------------


def test_detect_only_when_buildpacks_are_configured(app: App, tmp_path: Path) -> None:
    hooks = plugin_module()
    source = tmp_path / "source"
    source.mkdir()
    assert hooks.appliance_builder_detect(deploy_of(app, source)) is None
    found = hooks.appliance_builder_detect(deploy_of(app, source, {"BUILDPACK_URL": "/srv/bp"}))
    assert found == {"builder": "buildpack", "priority": 20, "reason": "BUILDPACK_URL is set"}
    (source / ".buildpacks").write_text("/srv/bp\n")
    assert hooks.appliance_builder_detect(deploy_of(app, source))["reason"] == "found .buildpacks"
    job = deploy_of(app, source)
    job.builder = "dockerfile"
    assert hooks.appliance_build(job) is None  # another builder's job


def test_build_without_buildpacks_says_how_to_add_them(app: App, tmp_path: Path) -> None:
    job = deploy_of(app, tmp_path)
    job.builder = "buildpack"  # pinned with builder:set
    with pytest.raises(UserError, match="buildpacks:add hello URL"):
        plugin_module().appliance_build(job)


def test_a_dockerfile_wins_unless_buildpack_is_pinned(app: App, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "Dockerfile").write_text("FROM scratch\n")
    (source / ".buildpacks").write_text("/srv/bp\n")
    job = deploy_of(app, source)
    choose_builder(job)
    assert job.builder == "dockerfile"
    (source / "Dockerfile").unlink()
    choose_builder(job)
    assert job.builder == "buildpack"
    assert app.settings.get("builder", "last")["reason"] == "found .buildpacks"
    (source / ".buildpacks").unlink()
    app.settings.set("builder", "selected", "buildpack")
    choose_builder(job)
    assert job.builder == "buildpack"


# --- fetching ---------------------------------------------------------------------------


def test_fetch_a_local_directory(sources: ModuleType, local: str, tmp_path: Path) -> None:
    fetch = plugin_module("fetch")
    source = Path(local) / "tiny"
    import shutil

    shutil.copytree(FIXTURES / "buildpacks" / "tiny", source)
    (source / ".git").mkdir()
    (source / "secret-link").symlink_to("/etc/shadow")
    dest = tmp_path / "fetched"
    fetch.fetch(sources.parse_url(str(source)), dest, Output())
    assert os.access(dest / "bin" / "compile", os.X_OK)
    assert (dest / "vendor" / "tiny-1.0.tar.gz").is_file()
    assert not (dest / ".git").exists()
    assert os.readlink(dest / "secret-link") == "/etc/shadow"  # copied as a link, not read

    empty = Path(local) / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no bin/compile"):
        fetch.fetch(sources.parse_url(str(empty)), tmp_path / "fetched-empty", Output())
    with pytest.raises(UserError, match="no such directory"):
        fetch.fetch(sources.parse_url(f"{local}/nope"), tmp_path / "x", Output())
    outside = tmp_path / "outside"
    shutil.copytree(source, outside)
    (Path(local) / "link").symlink_to(outside)
    for url in (str(outside), f"{local}/link", f"file://{outside}#main"):
        with pytest.raises(UserError, match="local-dirs"):  # checked again at the fetch
            fetch.fetch(sources.parse_url(url), tmp_path / "never", Output())
    assert not (tmp_path / "never").exists()


def test_fetch_a_git_repository_at_a_ref(sources: ModuleType, local: str, tmp_path: Path) -> None:
    fetch = plugin_module("fetch")
    repo = Path(local) / "tiny.git"
    import shutil

    shutil.copytree(FIXTURES / "buildpacks" / "tiny", repo)

    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t",
             *argv],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "v1")
    git("tag", "v1")
    first = git("rev-parse", "HEAD")
    (repo / "bin" / "detect").write_text("#!/bin/sh\nexit 1\n")
    git("commit", "-q", "-am", "v2")

    dest = tmp_path / "at-tag"
    fetch.fetch(sources.parse_url(f"file://{repo}#v1"), dest, Output())
    assert "tiny.txt" in (dest / "bin" / "detect").read_text()
    assert not (dest / ".git").exists()
    dest = tmp_path / "at-commit"
    fetch.fetch(sources.parse_url(f"{repo}#{first[:10]}"), dest, Output())
    assert "tiny.txt" in (dest / "bin" / "detect").read_text()
    dest = tmp_path / "at-head"
    fetch.fetch(sources.parse_url(f"file://{repo}"), dest, Output())
    assert (dest / "bin" / "detect").read_text() == "#!/bin/sh\nexit 1\n"
    with pytest.raises(UserError, match="cannot fetch buildpack"):
        fetch.fetch(sources.parse_url(f"file://{repo}#no-such-ref"), tmp_path / "x", Output())


def test_fetch_checks_the_host_again_and_pins_what_it_checked(
    sources: ModuleType, dns: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetch = plugin_module("fetch")
    ran: list[list[str]] = []

    def git(argv: list[str]) -> str | None:
        ran.append(argv)
        return "stopped here"

    monkeypatch.setattr(fetch, "_git", git)
    for url in ("http://127.0.0.1:22/x.git", "http://2130706433/x.git",
                "https://rebind.example.com/x.git", "git://git.internal/x.git"):  # fmt: skip
        with pytest.raises(UserError, match="not a public address"):
            fetch.fetch(sources.parse_url(url), tmp_path / "x", Output())
    assert ran == []  # git never ran
    with pytest.raises(UserError, match="stopped here"):
        fetch.fetch(sources.parse_url("https://example.com/bp.git#v1"), tmp_path / "x", Output())
    assert ran[0][:4] == [
        "-c", "http.followRedirects=false",
        "-c", "http.curloptResolve=example.com:443:93.184.215.14",
    ]  # fmt: skip
    assert ran[0][-2:] == ["https://example.com/bp.git", str(tmp_path / "x")]
    ran.clear()
    with pytest.raises(UserError, match="stopped here"):
        fetch.fetch(sources.parse_url("git@example.com:bp.git"), tmp_path / "x", Output())
    assert not any("curloptResolve" in a for a in ran[0])  # ssh resolves the name itself


# --- commands ---------------------------------------------------------------------------


def listed(run) -> list[str]:
    result = run("buildpacks:list", "hello", "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_add_set_remove_list_clear(run, app: App, dns: None, local: str) -> None:
    assert listed(run) == []
    assert run("buildpacks:add", "hello", "heroku/python").code == 0
    assert run("buildpacks:add", "hello", f"{local}/first", "--index", "1").code == 0
    assert run("buildpacks:add", "hello", "https://example.com/last.git#v2").code == 0
    assert listed(run) == [f"{local}/first", "heroku/python", "https://example.com/last.git#v2"]
    again = run("buildpacks:add", "hello", "heroku/python")
    assert again.code == 1 and "already" in again.err

    assert run("buildpacks:set", "hello", "heroku/nodejs").code == 0  # index 1 by default
    assert run("buildpacks:set", "hello", f"{local}/third", "--index", "3").code == 0
    assert run("buildpacks:set", "hello", f"{local}/fourth", "--index", "4").code == 0  # appends
    assert listed(run) == ["heroku/nodejs", "heroku/python", f"{local}/third", f"{local}/fourth"]
    too_far = run("buildpacks:set", "hello", f"{local}/x", "--index", "9")
    assert too_far.code == 1 and "at most 5" in too_far.err

    assert run("buildpacks:remove", "hello", "heroku/python").code == 0
    assert run("buildpacks:remove", "hello", "--index", "1").code == 0
    assert listed(run) == [f"{local}/third", f"{local}/fourth"]
    assert run("buildpacks:remove", "hello", "heroku/python").code == 1
    assert run("buildpacks:remove", "hello", "--index", "7").code == 1
    assert run("buildpacks:remove", "hello").code == 2

    text = run("buildpacks:list", "hello")
    assert text.out == f"-----> hello buildpack urls\n       {local}/third\n       {local}/fourth\n"
    assert run("buildpacks:clear", "hello").code == 0
    assert listed(run) == []
    assert "buildpacks" not in app.settings.table("builder-buildpack")


@pytest.mark.parametrize(
    "argv",
    [
        ["buildpacks:add", "hello", "ext::sh -c id"],
        ["buildpacks:add", "hello", "--upload-pack=id"],
        ["buildpacks:add", "hello", "/srv/../etc"],
        ["buildpacks:set", "hello", "https://example.com/bp;id"],
        ["buildpacks:add", "hello", "/srv/bp", "--index", "0"],
        ["buildpacks:add", "nope", "/srv/bp"],
    ],
)
def test_commands_refuse_bad_input_in_one_line(
    run, app: App, dns: None, local: str, argv: list[str]
) -> None:
    result = run(*argv)
    assert result.code in (1, 2)
    assert result.err.strip().count("\n") == 0
    assert listed(run) == []


def test_set_stack(run, app: App, sources: ModuleType) -> None:
    assert run("buildpacks:set-stack", "example/host-stack:1").code == 0
    assert sources.stack(App("hello")) == ("example/host-stack:1", "global")
    assert run("buildpacks:set-stack", "hello", "appliance-test/bookworm:latest").code == 0
    assert sources.stack(App("hello")) == ("appliance-test/bookworm:latest", "app")
    assert run("buildpacks:set-stack", "hello", "--unset").code == 0
    assert sources.stack(App("hello")) == ("example/host-stack:1", "global")
    assert run("buildpacks:set-stack", "--unset").code == 0
    assert sources.stack(App("hello")) == ("heroku/heroku:24-build", "default")
    assert run("buildpacks:set-stack", "hello", "Bad Image").code == 1
    assert run("buildpacks:set-stack").code == 2
    assert run("buildpacks:set-stack", "a", "b", "c").code == 2


def test_report_and_clear_cache(run, app: App, dns: None) -> None:
    cache = app.path / "cache"
    (cache / "deep").mkdir(parents=True)
    (cache / "deep" / "blob").write_bytes(b"x" * 2048)
    run("buildpacks:add", "hello", "https://me:s3cret@example.com/bp.git")
    text = run("buildpacks:report", "hello")
    assert text.code == 0, text.err
    assert "https://me:***@example.com/bp.git" in text.out and "s3cret" not in text.out
    assert "heroku/heroku:24-build (default)" in text.out and "2.0 kB" in text.out
    data = json.loads(run("buildpacks:report", "hello", "--format", "json").out)
    assert data["cache_bytes"] == 2048 and data["last_build"] is None
    assert run("buildpacks:clear-cache", "hello").code == 0
    assert not cache.exists()


def test_the_cache_is_emptied_when_the_stack_changes(app: App) -> None:
    build = plugin_module("build")
    job = deploy_of(app, None)
    cache = build._cache_dir(job, "example/stack:1")
    (cache / "kept").write_text("x")
    assert build._cache_dir(job, "example/stack:1") == cache and (cache / "kept").exists()
    assert build._cache_dir(job, "example/stack:2") == cache and not (cache / "kept").exists()
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert App("hello").settings.get("builder-buildpack", "cache_stack") == "example/stack:2"
