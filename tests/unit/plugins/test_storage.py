"""The storage plugin: mounts confined to the storage base (symlinks resolved), and
the root helper that creates storage directories, refusing what it must."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from appliance import templates
from appliance.host import Appliance
from appliance.registry import Registry
from appliance.state import App


def _plugin() -> Any:
    registry = Registry()
    return registry.import_module(registry.get("storage"))


def _helper() -> Any:
    path = str(templates.templates_dir() / "system" / "storage-directory")
    loader = importlib.machinery.SourceFileLoader("storage_directory", path)
    spec = importlib.util.spec_from_loader("storage_directory", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def in_use(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The bind mounts the engine reports (no engine in unit tests)."""
    found: list[tuple[str, str]] = []
    monkeypatch.setattr(_plugin().store, "sources_in_use", lambda: found)
    return found


@pytest.fixture
def base(tmp_path: Path, run, in_use: list[tuple[str, str]]) -> Path:
    storage = tmp_path / "storage"
    (storage / "data").mkdir(parents=True)
    (storage / "data2").mkdir(parents=True)
    from appliance import state

    state.global_settings().set("storage", "base", str(storage))
    assert run("apps:create", "hello").code == 0
    return storage


def test_mount_list_unmount(run, base: Path) -> None:
    mounted = run("storage:mount", "hello", f"{base}/data:/app/data")
    assert mounted.code == 0, mounted.err
    assert run("storage:mount", "hello", f"{base}/data2:/srv/ro:ro").code == 0
    listed = json.loads(run("storage:list", "hello", "--format", "json").out)
    assert listed == [
        {"host": f"{base}/data", "container": "/app/data", "mode": "rw"},
        {"host": f"{base}/data2", "container": "/srv/ro", "mode": "ro"},
    ]
    options = _plugin().appliance_container_options(App("hello"), "web", "deploy")
    assert options == {"volumes": [f"{base}/data:/app/data:rw", f"{base}/data2:/srv/ro:ro"]}
    again = run("storage:mount", "hello", f"{base}/data:/app/data")
    assert again.code != 0 and "already mounts something at /app/data" in again.err
    assert run("storage:unmount", "hello", f"{base}/data2:/srv/ro").code == 0
    assert run("storage:unmount", "hello", f"{base}/data2:/srv/ro").code != 0
    assert len(json.loads(run("storage:list", "hello", "--format", "json").out)) == 1


@pytest.mark.parametrize(
    "mount, message",
    [
        ("/etc:/etc", "not inside the storage base"),
        ("BASE/../escape:/data", "without '.' or '..'"),
        ("BASE:/data", "not inside the storage base"),
        ("relative:/data", "invalid host directory"),
        ("BASE/data:/proc/x", "cannot mount over /proc/x"),
        ("BASE/data:/", "invalid container directory"),
        ("BASE/data:/data:rx", "invalid mount"),
        ("BASE/data", "invalid mount"),
        ("BASE/missing:/data", "storage:ensure-directory missing"),
        ("BASE/link:/data", "not inside the storage base"),
        ("BASE/da ta:/data", "invalid host directory"),
    ],
)
def test_bad_mounts_are_refused(
    run, base: Path, tmp_path: Path, mount: str, message: str
) -> None:
    (base / "link").symlink_to(tmp_path)  # inside the base, but leads out of it
    result = run("storage:mount", "hello", mount.replace("BASE", str(base)))
    assert result.code != 0 and message in result.err, result.err
    assert App("hello").settings.get("storage", "mounts") is None


def test_a_symlink_swapped_in_later_fails_the_deploy(run, base: Path, tmp_path: Path) -> None:
    assert run("storage:mount", "hello", f"{base}/data:/data").code == 0
    (base / "data").rmdir()
    (base / "data").symlink_to(tmp_path)
    from appliance.errors import UserError

    with pytest.raises(UserError, match="not inside the storage base"):
        _plugin().appliance_container_options(App("hello"), "web", "deploy")


@pytest.mark.parametrize(
    "first, second",
    [
        ("data", "data/sub"),  # a source inside another
        ("data/sub", "data"),  # a source around another
        ("data", "data"),  # the same source twice
    ],
)
@pytest.mark.parametrize("same_app", [True, False])
def test_nested_sources_are_refused(
    run, base: Path, first: str, second: str, same_app: bool
) -> None:
    (base / "data" / "sub").mkdir()
    other = "hello" if same_app else "other"
    if not same_app:
        assert run("apps:create", "other").code == 0
    assert run("storage:mount", "hello", f"{base}/{first}:/one").code == 0
    before = App(other).settings.get("storage", "mounts")
    refused = run("storage:mount", other, f"{base}/{second}:/two")
    assert refused.code != 0
    assert f"is nested with {base}/{first}:/one:rw mounted by hello" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert App(other).settings.get("storage", "mounts") == before


def test_a_source_still_mounted_by_a_container_is_not_nested_into(
    run, base: Path, in_use: list[tuple[str, str]]
) -> None:
    (base / "data" / "sub").mkdir()
    in_use.append(("gone.web.1-d3", str(base / "data")))
    refused = run("storage:mount", "hello", f"{base}/data/sub:/sub")
    assert refused.code != 0 and "still mounted by container gone.web.1-d3" in refused.err


def test_a_nested_mount_of_an_old_install_is_refused_and_reported(run, base: Path) -> None:
    (base / "data" / "sub").mkdir()
    assert run("apps:create", "other").code == 0
    assert run("storage:mount", "hello", f"{base}/data:/data").code == 0
    App("other").settings.set("storage", "mounts", [f"{base}/data/sub:/host:rw"])
    from appliance.errors import UserError

    for name in ("hello", "other"):
        with pytest.raises(UserError, match=r"nested with .* storage:unmount"):
            _plugin().appliance_container_options(App(name), "web", "restore")
    shown = json.loads(run("storage:report", "--format", "json").out)
    assert len(shown["problems"]) == 2
    assert "storage:unmount other" in run("storage:report", "other").out


def test_a_symlink_in_a_source_component_is_refused(run, base: Path, tmp_path: Path) -> None:
    (base / "data" / "sub").mkdir()
    assert run("storage:mount", "hello", f"{base}/data/sub:/data").code == 0
    (base / "data" / "sub").rmdir()
    (base / "data").rename(base / "real")
    (base / "real" / "sub").mkdir()
    (base / "data").symlink_to(base / "real")  # still inside the base once resolved
    from appliance.errors import UserError

    with pytest.raises(UserError, match="is a symlink"):
        _plugin().appliance_container_options(App("hello"), "web", "restore")


def test_set_global_base(run) -> None:
    assert run("storage:set-global", "base", "relative/dir").code != 0
    assert run("storage:set-global", "base", "/").code != 0
    assert run("storage:set-global", "base", "/srv/storage").code == 0
    shown = json.loads(run("storage:report", "--format", "json").out)
    assert shown == {"base": "/srv/storage", "problems": []}
    assert run("storage:set-global", "base").code == 0
    assert json.loads(run("storage:report", "--format", "json").out)["base"] == (
        "/var/lib/appliance-storage"
    )


@pytest.mark.parametrize("owner", ["nobody", "-1", "70000", "1000:1000"])
def test_ensure_directory_refuses_bad_owners(run, owner: str) -> None:
    result = run("storage:ensure-directory", "data", "--chown", owner)
    assert result.code != 0 and "invalid --chown" in result.err


@pytest.mark.parametrize("name", ["..", ".hidden", "a/b", "", "x" * 101])
def test_ensure_directory_refuses_bad_names(run, name: str) -> None:
    result = run("storage:ensure-directory", name)
    assert result.code != 0 and "invalid directory name" in result.err


@pytest.mark.skipif(os.geteuid() != 0, reason="the helper runs as root")
def test_helper_creates_marks_and_refuses(tmp_path: Path) -> None:
    helper = _helper()
    fresh = tmp_path / "fresh-base"
    made = helper.ensure(str(fresh), "data", "1000")
    assert made == f"{fresh}/data"
    assert (fresh / ".appliance-storage").is_file()
    assert os.stat(made).st_uid == 1000 and os.stat(fresh).st_uid == 0
    (fresh / "data" / "file").write_text("x")
    os.symlink("/etc/hostname", fresh / "data" / "link")
    helper.ensure(str(fresh), "data", "2000")  # again, with another owner: recursive
    assert os.stat(fresh / "data" / "file").st_uid == 2000
    assert os.stat("/etc/hostname").st_uid == 0  # a symlink is never followed

    unmarked = tmp_path / "unmarked"
    unmarked.mkdir()
    for base, name, owner, why in [
        (str(unmarked), "data", "0", "was not made for storage"),
        ("/etc", "data", "0", "a system directory"),
        ("/usr/local/x", "data", "0", "a system directory"),
        (f"{fresh}/../fresh-base", "data", "0", "without '..'"),
        ("relative", "data", "0", "an absolute path"),
        (str(fresh), "..", "0", "invalid directory name"),
        (str(fresh), "data", "99999", "invalid owner"),
    ]:
        with pytest.raises(helper.Refused, match=why):
            helper.ensure(base, name, owner)
    os.symlink(fresh, tmp_path / "via-link")
    with pytest.raises(helper.Refused, match="symlink"):
        helper.ensure(str(tmp_path / "via-link"), "data", "0")
    (fresh / "file-not-dir").write_text("")
    with pytest.raises(helper.Refused, match="not a directory"):
        helper.ensure(str(fresh), "file-not-dir", "0")
    assert helper.main(["/etc", "x", "0"]) == 2


class _Container:
    """What scheduler-docker's start_container reads of a container, and its start."""

    def __init__(self, binds: list[str]) -> None:
        self.name = "hello.web.1-d1"
        self.labels = {"appliance.app": "hello", "appliance.process": "web"}
        self.attrs = {"HostConfig": {"Binds": binds}}
        self.started = False

    def start(self) -> None:
        self.started = True


def test_every_start_verifies_the_binds_again(run, base: Path, appliance: Appliance) -> None:
    from appliance.errors import UserError

    registry = appliance.registry
    options = registry.import_module(registry.get("scheduler-docker"), "options")
    hook = appliance.hook
    assert run("storage:mount", "hello", f"{base}/data:/data").code == 0
    fine = _Container([f"{base}/data:/data:rw"])
    options.start_container(fine, hook, App("hello"), "restore")
    assert fine.started
    stale = _Container([f"{base}/data2:/data:rw"])  # unmounted since it was made
    with pytest.raises(UserError, match="is not one hello may mount now"):
        options.start_container(stale, hook, App("hello"), "restore")
    (base / "data" / "sub").mkdir()
    App("hello").settings.set(
        "storage", "mounts", [f"{base}/data:/data:rw", f"{base}/data/sub:/host:rw"]
    )  # an old install's nested mounts
    again = _Container([f"{base}/data:/data:rw", f"{base}/data/sub:/host:rw"])
    with pytest.raises(UserError, match="storage:unmount hello"):
        options.start_container(again, hook, App("hello"), "restore")
    assert not stale.started and not again.started


def test_the_daemon_guard_leaves_build_and_one_off_containers_alone(
    root: Path, run, appliance: Appliance
) -> None:
    """A buildpack build binds its cache (not a storage mount): the guard, which stops
    containers whose mounts fail verification, must not stop the build."""
    from types import SimpleNamespace

    registry = appliance.registry
    guard = registry.import_module(registry.get("scheduler-docker"), "guard")
    assert run("apps:create", "demo").code == 0
    stopped: list[str] = []

    def container(process: str) -> Any:
        return SimpleNamespace(
            id=process, name=f"demo.{process}", status="running",
            labels={"appliance.app": "demo", "appliance.process": process},
            attrs={"HostConfig": {"Binds": [f"{root}/apps/demo/cache:/cache:rw"],
                                  "RestartPolicy": {"Name": "no"}}},
            stop=lambda timeout=10, p=process: stopped.append(p),
            update=lambda **kw: None,
        )  # fmt: skip

    found = [container(p) for p in ("build", "run", "web")]
    guard.guard(found, {"build", "run", "web"}, lambda line: None, appliance.hook)
    assert stopped == ["web"]  # only a deployed process with a foreign bind
