import multiprocessing
import os
import time
from pathlib import Path

import pytest

from appliance import state
from appliance.errors import Conflict


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "file.toml"
    state.atomic_write(target, "one", mode=0o600)
    state.atomic_write(target, "two", mode=0o600)
    assert target.read_text() == "two"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in target.parent.iterdir()] == ["file.toml"]


def test_settings_round_trip(root: Path) -> None:
    settings = state.global_settings()
    settings.set("domains", "global", "example.com")
    settings.set("proxy-nginx", "port", 8080)
    fresh = state.global_settings()
    assert fresh.get("domains", "global") == "example.com"
    assert fresh.get("proxy-nginx", "port") == 8080
    fresh.unset("proxy-nginx", "port")
    assert state.global_settings().get("proxy-nginx", "port", 80) == 80


def _hold(path: str, seconds: float) -> None:
    with state.lock_file(Path(path), "test"):
        time.sleep(seconds)


def test_lock_times_out_with_clear_message(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    holder = multiprocessing.get_context("fork").Process(target=_hold, args=(str(lock), 2))
    holder.start()
    deadline = time.monotonic() + 5
    while not lock.exists() or not lock.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with pytest.raises(Conflict, match="busy"), state.lock_file(lock, "app x", timeout=0.3):
        pass
    holder.join()


def test_lock_is_released_when_holder_dies(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    holder = multiprocessing.get_context("fork").Process(target=_hold, args=(str(lock), 30))
    holder.start()
    while not lock.exists() or not lock.read_text():
        time.sleep(0.02)
    os.kill(holder.pid, 9)
    holder.join()
    with state.lock_file(lock, "app x", timeout=2):
        pass


def test_app_names_lists_only_real_apps(root: Path) -> None:
    for name in ("b", "a"):
        state.App(name).settings.set("core", "created_at", "now")
    (root / "apps" / ".a.destroyed.1").mkdir()
    (root / "apps" / "halfmade").mkdir()
    assert state.app_names() == ["a", "b"]


def test_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    with state.lock_file(lock, "x", timeout=0.1), state.lock_file(lock, "x", timeout=0.1):
        pass
    holder = multiprocessing.get_context("fork").Process(target=_hold, args=(str(lock), 0.1))
    holder.start()
    holder.join()
    assert holder.exitcode == 0


def test_lock_timeout_setting(run, root: Path) -> None:
    run("apps:create", "hello")
    assert state.App("hello").lock_timeout() == 600
    assert run("apps:set", "hello", "lock-timeout", "5").code == 0
    assert state.App("hello").lock_timeout() == 5
    assert run("apps:set", "hello", "lock-timeout", "0").code == 0
    assert state.App("hello").lock_timeout() is None
    assert run("apps:set", "hello", "lock-timeout", "-1").code == 1


def test_an_apps_images_live_under_a_name_other_apps_cannot_guess(root, run) -> None:
    from appliance.state import App

    assert run("apps:create", "web").code == 0
    repository = App("web").image_repository()
    assert repository == f"appliance/web-{App('web').identity()}"
    assert len(App("web").identity()) >= 16
    assert App("web").image_repositories() == [repository, "appliance/web"]
