"""A `test_hook_<name>` for every hook in appliance/hookspecs.py.

Each test drives a hook the way the core fires it: small plugins are written into
`$APPLIANCE_ROOT/plugins/<name>/` (plugin.toml + __init__.py, or a trigger
executable) and found by the real Registry; the core is called as a command or a
push would call it. The built-in builder, scheduler and proxy talk to Docker and
nginx, so pipeline tests disable them and install `fake-platform` instead, which
records every call in `$APPLIANCE_ROOT/calls.jsonl`. No Docker, no nginx.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from appliance import cli, lifecycle, pipeline
from appliance.boot import open_appliance
from appliance.deploy import Container, Deploy, Target
from appliance.errors import PluginError, UserError
from appliance.host import Appliance
from appliance.output import Output
from appliance.registry import Registry
from appliance.state import App

NEEDS_DOCKER_OR_NGINX = (
    "builder-dockerfile",
    "builder-buildpack",
    "builder-auto",
    "scheduler-docker",
    "proxy-nginx",
    "checks",
)

# Shared by the test plugins: `record("appliance_x", key=value)` appends one JSON line.
RECORDER = """
import json
import os

from appliance import state
from appliance.deploy import Container, Target
from appliance.hookspecs import hookimpl

PLUGIN = __name__.rpartition(".")[2].replace("_", "-")


def record(hook, **info):
    with open(state.root() / "calls.jsonl", "a") as f:
        f.write(json.dumps({"hook": hook, "plugin": PLUGIN, **info}) + "\\n")


def maybe_fail(hook):
    if os.environ.get("FAKE_FAIL") == hook:
        raise RuntimeError(f"{hook} exploded")


def answer(hook, value):
    return None if os.environ.get("FAKE_NONE") == hook else value
"""

# Stands in for builder-dockerfile, scheduler-docker and proxy-nginx, and listens to
# every other deploy hook. FAKE_FAIL=<hook> makes that hook raise; FAKE_NONE=<hook>
# makes a decision hook answer None.
FAKE_PLATFORM = (
    RECORDER
    + """

@hookimpl
def appliance_pre_build(deploy):
    record("appliance_pre_build", source=os.path.isdir(deploy.source_dir), image=deploy.image)
    maybe_fail("appliance_pre_build")


@hookimpl
def appliance_build(deploy):
    record("appliance_build", tag=deploy.image_tag)
    maybe_fail("appliance_build")
    return answer("appliance_build", deploy.image_tag)


@hookimpl
def appliance_post_build(deploy):
    record("appliance_post_build", image=deploy.image)
    maybe_fail("appliance_post_build")


@hookimpl
def appliance_container_env(deploy):
    record("appliance_container_env")
    return {"FROM_FAKE": "1", "SHARED": "fake-platform"}


@hookimpl
def appliance_pre_deploy(deploy):
    record("appliance_pre_deploy", image=deploy.image, env=deploy.env)
    maybe_fail("appliance_pre_deploy")


@hookimpl
def appliance_scheduler_start(deploy):
    record("appliance_scheduler_start", image=deploy.image, env=deploy.env)
    maybe_fail("appliance_scheduler_start")
    port = 5000 + deploy.release
    name = f"{deploy.app.name}.web.{deploy.id}"
    deploy.containers = [Container("c1", name, "web", deploy.id, "127.0.0.1", port)]
    return answer("appliance_scheduler_start", [Target("127.0.0.1", port)])


@hookimpl
def appliance_proxy_prepare(deploy):
    record("appliance_proxy_prepare", targets=[str(t) for t in deploy.targets])
    maybe_fail("appliance_proxy_prepare")


@hookimpl
def appliance_deploy_checks(deploy):
    record("appliance_deploy_checks", containers=[c.name for c in deploy.containers])
    maybe_fail("appliance_deploy_checks")


@hookimpl
def appliance_proxy_update(deploy):
    record("appliance_proxy_update", targets=[str(t) for t in deploy.targets])
    maybe_fail("appliance_proxy_update")
    return True


@hookimpl
def appliance_scheduler_abort(deploy):
    record("appliance_scheduler_abort", release=deploy.release)
    return True


@hookimpl
def appliance_scheduler_retire(deploy):
    live = deploy.app.settings.get("core", "release")
    record("appliance_scheduler_retire", release=deploy.release, live=live)
    return True


@hookimpl
def appliance_post_deploy(deploy):
    record("appliance_post_deploy", release=deploy.release)
    maybe_fail("appliance_post_deploy")


@hookimpl
def appliance_deploy_failed(deploy, error):
    record("appliance_deploy_failed", release=deploy.release, error=error)


@hookimpl
def appliance_app_urls(app):
    return [f"http://{app.name}.test/"]


@hookimpl
def appliance_run_oneoff(deploy, command, commit):
    record("appliance_run_oneoff", command=command, commit=commit, image=deploy.image)
    deploy.out.info(f"ran {command}")
    code = 7 if os.environ.get("FAKE_FAIL") == "appliance_run_oneoff" else 0
    return {"exit_code": code, "image": f"{deploy.image}-committed" if commit else None}
"""
)

PIPELINE = [
    "appliance_container_env",
    "appliance_pre_build",
    "appliance_build",
    "appliance_post_build",
    "appliance_pre_deploy",
    "appliance_scheduler_start",
    "appliance_proxy_prepare",
    "appliance_deploy_checks",
    "appliance_proxy_update",
    "appliance_scheduler_retire",
    "appliance_post_deploy",
]


def add_plugin(
    root: Path,
    name: str,
    code: str = "",
    hooks: list[str] | None = None,
    triggers: dict[str, str] | None = None,
) -> Path:
    """Write an installed plugin the way plugin:install leaves one."""
    folder = root / "plugins" / name
    folder.mkdir(parents=True)
    if hooks is None:
        hooks = sorted(set(_defined_hooks(code)))
    toml = f'name = "{name}"\nversion = "0.0.1"\nhooks = {json.dumps(hooks)}\n'
    (folder / "plugin.toml").write_text(toml)
    if code:
        (folder / "__init__.py").write_text(textwrap.dedent(code))
    for hook, script in (triggers or {}).items():
        exe = folder / "triggers" / hook
        exe.parent.mkdir(exist_ok=True)
        exe.write_text(textwrap.dedent(script).lstrip())
        exe.chmod(0o755)
    return folder


def _defined_hooks(code: str) -> list[str]:
    return [
        line.split()[1].partition("(")[0]
        for line in code.splitlines()
        if line.startswith("def appliance_")
    ]


def calls(root: Path, hook: str | None = None) -> list[dict[str, Any]]:
    path = root / "calls.jsonl"
    if not path.is_file():
        return []
    found = [json.loads(line) for line in path.read_text().splitlines()]
    return [c for c in found if hook is None or c["hook"] == hook]


def hooks_called(root: Path) -> list[str]:
    return [c["hook"] for c in calls(root)]


class Platform:
    """An app `hello` on a host whose builder, scheduler and proxy are fake-platform."""

    def __init__(self, root: Path, tmp_path: Path) -> None:
        self.root = root
        self.source = tmp_path / "source"
        self.source.mkdir()
        (self.source / "app.txt").write_text("hello\n")
        self.app = lifecycle.create_app(self.appliance(), "hello")
        self.app.settings.set("builder", "selected", "fake")  # fake-platform builds anything

    def appliance(self) -> Appliance:
        """A fresh appliance acting for alice (one per command, as the CLI builds)."""
        return open_appliance(Output(), user="alice")

    def deploy(self, image: str | None = None, **kwargs: Any) -> Deploy:
        """Deploy the way git:hook does (or git:from-image, given `image`)."""
        if image is not None:
            return pipeline.deploy_image(self.appliance(), App("hello"), image, summary="test")
        kwargs.setdefault("rev", "0123456789abcdef0123456789abcdef01234567")
        return pipeline.deploy_source(
            self.appliance(), App("hello"), self.source, summary="test", **kwargs
        )

    def redeploy(self) -> Deploy:
        """What a config change does: the current image again, as a new release."""
        return pipeline.redeploy(self.appliance(), App("hello"), summary="test")

    def release(self) -> Any:
        return App("hello").settings.get("core", "release")


@pytest.fixture
def platform(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Platform:
    for name in NEEDS_DOCKER_OR_NGINX:
        if name in Registry().plugins:
            assert cli.main(["plugin:disable", name]) == 0
    add_plugin(root, "fake-platform", FAKE_PLATFORM)
    platform = Platform(root, tmp_path)
    capsys.readouterr()
    return platform


@pytest.fixture
def fail(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    return lambda hook: monkeypatch.setenv("FAKE_FAIL", hook)


@pytest.fixture
def answer_none(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    return lambda hook: monkeypatch.setenv("FAKE_NONE", hook)


# --- the deploy pipeline, hook by hook ------------------------------------------


def test_successful_deploy_fires_pipeline_hooks_in_order(platform: Platform, root: Path) -> None:
    job = platform.deploy()
    assert hooks_called(root) == PIPELINE
    assert job.release == 1 and job.previous_release is None
    assert job.image == job.image_tag
    assert {"build", "start", "checks", "switch", "total"} <= set(job.timings)
    app = App("hello")
    assert app.settings.get("core", "release") == 1
    assert app.settings.get("core", "image") == job.image
    assert app.settings.get("core", "rev") == "0123456789abcdef0123456789abcdef01234567"

    second = platform.deploy()
    assert (second.release, second.previous_release) == (2, 1)
    assert platform.release() == 2


def test_hook_appliance_pre_build(platform: Platform, root: Path, fail) -> None:
    platform.deploy()
    assert calls(root, "appliance_pre_build")[0] == {
        "hook": "appliance_pre_build",
        "plugin": "fake-platform",
        "source": True,
        "image": None,
    }
    fail("appliance_pre_build")
    with pytest.raises(PluginError, match="plugin fake-platform: appliance_pre_build failed"):
        platform.deploy()
    assert hooks_called(root)[len(PIPELINE) :] == [
        "appliance_container_env",
        "appliance_pre_build",
        "appliance_deploy_failed",
    ]
    assert platform.release() == 1


def test_hook_appliance_build(platform: Platform, root: Path, fail) -> None:
    job = platform.deploy()
    assert job.image == calls(root, "appliance_build")[0]["tag"] == job.image_tag

    fail("appliance_build")
    with pytest.raises(PluginError, match=r"appliance_build failed: RuntimeError: .* exploded"):
        platform.deploy()
    after = hooks_called(root)[len(PIPELINE) :]
    assert after == [
        "appliance_container_env",
        "appliance_pre_build",
        "appliance_build",
        "appliance_deploy_failed",
    ]
    assert "appliance_scheduler_start" not in after and platform.release() == 1


def test_hook_appliance_build_source(
    platform: Platform, root: Path, run, capsys: pytest.CaptureFixture[str]
) -> None:
    """The built-in builder plugin answers last: a plugin that turns the source into an
    image itself takes the build over; one that answers None leaves it to the builder."""
    add_plugin(
        root,
        "prebuilt",
        triggers={
            "appliance_build_source": """
                #!/bin/sh
                cat > "$APPLIANCE_ROOT/build-source-stdin.json"
                if [ -f "$APPLIANCE_SOURCE_DIR/prebuilt.txt" ]; then
                    echo '"registry.example/prebuilt:1"'
                fi
            """
        },
    )
    first = platform.deploy()  # no answer: the builder plugin picks fake-platform
    assert first.image == first.image_tag and len(calls(root, "appliance_build")) == 1
    assert "Using the fake builder (pinned with builder:set)" in capsys.readouterr().out
    payload = json.loads((root / "build-source-stdin.json").read_text())
    assert list(payload) == ["deploy"] and payload["deploy"]["app"] == "hello"

    (platform.source / "prebuilt.txt").write_text("yes\n")
    second = platform.deploy()
    assert second.image == "registry.example/prebuilt:1"
    assert len(calls(root, "appliance_build")) == 1  # no builder was asked
    assert "Using the" not in capsys.readouterr().out
    assert calls(root, "appliance_post_build")[-1]["image"] == "registry.example/prebuilt:1"
    assert App("hello").settings.get("core", "image") == "registry.example/prebuilt:1"

    (platform.source / "prebuilt.txt").unlink()
    assert run("plugin:disable", "builder").code == 0
    with pytest.raises(UserError, match="no plugin builds source for hello"):
        platform.deploy()
    assert platform.release() == 2 and "appliance_post_build" not in hooks_called(root)[-3:]


def test_no_builder_recognises_the_source(platform: Platform, root: Path, answer_none) -> None:
    answer_none("appliance_build")
    with pytest.raises(UserError, match="builder 'fake' is not installed or did not build"):
        platform.deploy()
    assert "appliance_post_build" not in hooks_called(root)
    App("hello").settings.unset("builder", "selected")
    with pytest.raises(UserError, match="no builder can build hello"):
        platform.deploy()


def test_hook_appliance_builder_detect(platform: Platform, root: Path, run) -> None:
    """The lowest priority wins unless the app pins a builder; the choice is remembered."""
    App("hello").settings.unset("builder", "selected")
    add_plugin(
        root,
        "two-builders",
        RECORDER
        + """
@hookimpl
def appliance_builder_detect(deploy):
    record("appliance_builder_detect")
    return {"builder": "slow", "priority": 50, "reason": "always"}
""",
        triggers={
            "appliance_builder_detect": """
                #!/bin/sh
                echo '{"builder": "quick", "priority": 5, "reason": "found quick.txt"}'
            """,
            "appliance_build": """
                #!/bin/sh
                python3 -c 'import json, sys
                print(json.load(sys.stdin)["deploy"]["builder"] + ":img")'
            """,
        },
    )
    job = platform.deploy()
    assert (job.builder, job.image) == ("quick", "quick:img")
    assert App("hello").settings.get("builder", "last") == {
        "builder": "quick",
        "reason": "found quick.txt",
    }
    App("hello").settings.set("builder", "selected", "slow")
    assert platform.deploy().image == "slow:img"


def test_a_shell_trigger_answers_a_decision_hook(
    platform: Platform, root: Path, answer_none, capsys: pytest.CaptureFixture[str]
) -> None:
    answer_none("appliance_build")  # fake-platform declines; the trigger decides
    add_plugin(
        root,
        "sh-builder",
        triggers={
            "appliance_build": """
                #!/bin/sh
                set -e
                cat > "$APPLIANCE_ROOT/build-stdin.json"
                echo "$# $1 $APPLIANCE_HOOK $APPLIANCE_PLUGIN $APPLIANCE_APP" \\
                    "$APPLIANCE_RELEASE $APPLIANCE_USER $APPLIANCE_SOURCE_DIR" \\
                    > "$APPLIANCE_ROOT/argv"
                echo "building $1" >&2
                printf '"registry.example/%s:v%s"\\n' "$1" "$APPLIANCE_RELEASE"
            """
        },
    )
    job = platform.deploy()
    assert job.image == "registry.example/hello:v1"
    assert App("hello").settings.get("core", "image") == "registry.example/hello:v1"
    assert calls(root, "appliance_post_build")[0]["image"] == "registry.example/hello:v1"
    argv = (root / "argv").read_text().split()
    assert argv == [
        "1",
        "hello",
        "appliance_build",
        "sh-builder",
        "hello",
        "1",
        "alice",
        str(platform.source),
    ]
    payload = json.loads((root / "build-stdin.json").read_text())
    assert list(payload) == ["deploy"]
    assert payload["deploy"]["app"] == "hello"
    assert payload["deploy"]["image_tag"] == job.image_tag
    assert payload["deploy"]["source_dir"] == str(platform.source)
    assert "building hello" in capsys.readouterr().err


def test_a_failing_trigger_stops_the_deploy(platform: Platform, root: Path) -> None:
    add_plugin(
        root,
        "sh-check",
        triggers={
            "appliance_pre_deploy": """
                #!/bin/sh
                echo "checking" >&2
                echo "disk is full" >&2
                exit 3
            """
        },
    )
    with pytest.raises(PluginError, match="plugin sh-check: appliance_pre_deploy failed: disk is"):
        platform.deploy()
    assert "appliance_scheduler_start" not in hooks_called(root)
    assert platform.release() is None


def test_hook_appliance_post_build(platform: Platform, root: Path, fail) -> None:
    job = platform.deploy()
    assert calls(root, "appliance_post_build")[0]["image"] == job.image_tag
    fail("appliance_post_build")
    with pytest.raises(PluginError, match="appliance_post_build failed"):
        platform.deploy()
    assert hooks_called(root)[-2:] == ["appliance_post_build", "appliance_deploy_failed"]


def test_hook_appliance_container_env(platform: Platform, root: Path) -> None:
    add_plugin(
        root,
        "zz-env",
        RECORDER
        + """
@hookimpl
def appliance_container_env(deploy):
    return {"SHARED": "zz-env", "DATABASE_URL": f"postgres://db/{deploy.app.name}"}
""",
    )
    job = platform.deploy()
    expected = {"FROM_FAKE": "1", "SHARED": "zz-env", "DATABASE_URL": "postgres://db/hello"}
    assert job.env == expected
    assert calls(root, "appliance_pre_deploy")[0]["env"] == expected
    assert calls(root, "appliance_scheduler_start")[0]["env"] == expected


def test_hook_appliance_pre_deploy(platform: Platform, root: Path, fail) -> None:
    job = platform.deploy(image="registry.example/prebuilt:3")
    assert hooks_called(root)[0] == "appliance_container_env"  # no source: no build hooks
    assert calls(root, "appliance_pre_deploy")[0]["image"] == "registry.example/prebuilt:3"
    assert job.image == "registry.example/prebuilt:3"

    fail("appliance_pre_deploy")
    with pytest.raises(PluginError, match="appliance_pre_deploy failed"):
        platform.deploy(image="registry.example/prebuilt:4")
    assert hooks_called(root)[-2:] == ["appliance_pre_deploy", "appliance_deploy_failed"]
    assert hooks_called(root).count("appliance_scheduler_start") == 1  # nothing started
    assert "appliance_scheduler_abort" not in hooks_called(root)
    assert App("hello").settings.get("core", "image") == "registry.example/prebuilt:3"


def test_hook_appliance_scheduler_start(platform: Platform, root: Path, fail, answer_none) -> None:
    job = platform.deploy()
    assert [str(t) for t in job.targets] == ["127.0.0.1:5001"]
    assert calls(root, "appliance_scheduler_start")[0]["image"] == job.image
    assert calls(root, "appliance_proxy_update")[0]["targets"] == ["127.0.0.1:5001"]

    fail("appliance_scheduler_start")
    with pytest.raises(PluginError, match="appliance_scheduler_start failed"):
        platform.deploy()
    assert hooks_called(root)[-3:] == [
        "appliance_scheduler_start",
        "appliance_scheduler_abort",
        "appliance_deploy_failed",
    ]
    assert platform.release() == 1

    fail("")
    answer_none("appliance_scheduler_start")
    with pytest.raises(UserError, match="no scheduler handles hello"):
        platform.deploy(image="x:1")
    assert platform.release() == 1


def test_a_shell_trigger_can_schedule(platform: Platform, root: Path, answer_none) -> None:
    answer_none("appliance_scheduler_start")
    add_plugin(
        root,
        "sh-scheduler",
        triggers={
            "appliance_scheduler_start": """
                #!/bin/sh
                echo '["127.0.0.1:6001", "127.0.0.1:6002"]'
            """
        },
    )
    job = platform.deploy()
    assert job.targets == [Target("127.0.0.1", 6001), Target("127.0.0.1", 6002)]
    assert calls(root, "appliance_proxy_update")[0]["targets"] == [str(t) for t in job.targets]


def test_hook_appliance_scheduler_abort(platform: Platform, root: Path, fail) -> None:
    first = platform.deploy()
    fail("appliance_proxy_update")
    with pytest.raises(PluginError, match="appliance_proxy_update failed"):
        platform.deploy()
    assert hooks_called(root)[len(PIPELINE) :] == [
        "appliance_container_env",
        "appliance_pre_build",
        "appliance_build",
        "appliance_post_build",
        "appliance_pre_deploy",
        "appliance_scheduler_start",
        "appliance_proxy_prepare",
        "appliance_deploy_checks",
        "appliance_proxy_update",
        "appliance_scheduler_abort",
        "appliance_deploy_failed",
    ]
    assert calls(root, "appliance_scheduler_abort")[0]["release"] == 2
    app = App("hello")
    assert app.settings.get("core", "release") == 1  # the old release still serves
    assert app.settings.get("core", "image") == first.image


def test_hook_appliance_proxy_update(platform: Platform, root: Path, fail) -> None:
    platform.deploy()
    platform.deploy()
    assert [c["targets"] for c in calls(root, "appliance_proxy_update")] == [
        ["127.0.0.1:5001"],
        ["127.0.0.1:5002"],
    ]
    fail("appliance_proxy_update")
    with pytest.raises(PluginError, match="plugin fake-platform: appliance_proxy_update failed"):
        platform.deploy()
    assert platform.release() == 2
    assert "appliance_scheduler_retire" not in hooks_called(root)[2 * len(PIPELINE) :]


def test_hook_appliance_scheduler_retire(platform: Platform, root: Path) -> None:
    platform.deploy()
    platform.deploy()
    retired = calls(root, "appliance_scheduler_retire")
    # Fired once traffic has moved: the new release is already recorded as live.
    assert [(c["release"], c["live"]) for c in retired] == [(1, 1), (2, 2)]
    assert hooks_called(root).index("appliance_scheduler_retire") > hooks_called(root).index(
        "appliance_proxy_update"
    )


def test_hook_appliance_post_deploy(
    platform: Platform, root: Path, fail, capsys: pytest.CaptureFixture[str]
) -> None:
    add_plugin(
        root,
        "notifier",
        triggers={
            "appliance_post_deploy": """
                #!/bin/sh
                echo "-----> notified: $1 v$APPLIANCE_RELEASE is live"
            """
        },
    )
    fail("appliance_post_deploy")
    job = platform.deploy()  # an isolated event: the failure is only a warning
    assert job.release == 1 and platform.release() == 1
    captured = capsys.readouterr()
    assert "plugin fake-platform: appliance_post_deploy failed: " in captured.err
    assert "appliance_post_deploy exploded" in captured.err
    assert "-----> notified: hello v1 is live" in captured.out  # the others still run
    assert "Application deployed: http://hello.test/" in captured.out
    assert "appliance_deploy_failed" not in hooks_called(root)


def test_hook_appliance_deploy_failed(
    platform: Platform, root: Path, fail, capsys: pytest.CaptureFixture[str]
) -> None:
    add_plugin(
        root,
        "broken-notifier",
        RECORDER
        + """
@hookimpl
def appliance_deploy_failed(deploy, error):
    raise RuntimeError("the chat server is down")
""",
    )
    fail("appliance_build")
    with pytest.raises(PluginError) as raised:
        platform.deploy()
    (failed,) = calls(root, "appliance_deploy_failed")
    assert failed["release"] == 1
    assert failed["error"] == str(raised.value)
    assert "appliance_build failed: RuntimeError: appliance_build exploded" in failed["error"]
    assert "plugin broken-notifier: appliance_deploy_failed failed" in capsys.readouterr().err


def test_hook_appliance_proxy_prepare(platform: Platform, root: Path, fail) -> None:
    job = platform.deploy()
    order = hooks_called(root)
    assert order.index("appliance_proxy_prepare") < order.index("appliance_deploy_checks")
    assert calls(root, "appliance_proxy_prepare")[0]["targets"] == [str(t) for t in job.targets]
    fail("appliance_proxy_prepare")
    with pytest.raises(PluginError, match="appliance_proxy_prepare failed"):
        platform.deploy()
    assert hooks_called(root)[-3:] == [
        "appliance_proxy_prepare",
        "appliance_scheduler_abort",
        "appliance_deploy_failed",
    ]
    assert platform.release() == 1


def test_hook_appliance_deploy_checks(platform: Platform, root: Path, fail) -> None:
    job = platform.deploy()
    assert calls(root, "appliance_deploy_checks")[0]["containers"] == [f"hello.web.{job.id}"]
    fail("appliance_deploy_checks")
    with pytest.raises(PluginError, match="appliance_deploy_checks failed"):
        platform.deploy()
    assert hooks_called(root)[-4:] == [
        "appliance_proxy_prepare",
        "appliance_deploy_checks",
        "appliance_scheduler_abort",
        "appliance_deploy_failed",
    ]
    assert platform.release() == 1  # traffic never moved


def test_hook_appliance_run_oneoff(
    platform: Platform, root: Path, fail, capsys: pytest.CaptureFixture[str]
) -> None:
    """The built-in `scripts` plugin runs app.json scripts and the Procfile's release
    process through whichever scheduler answers appliance_run_oneoff."""
    scripts = {"dokku": {"predeploy": "make assets", "postdeploy": "notify"}}
    (platform.source / "app.json").write_text(json.dumps({"scripts": scripts}))
    (platform.source / "Procfile").write_text("web: serve\nrelease: migrate\n")
    job = platform.deploy()
    built = calls(root, "appliance_build")[0]["tag"]
    oneoffs = [(c["command"], c["commit"], c["image"]) for c in calls(root, "appliance_run_oneoff")]
    assert oneoffs == [
        ("make assets", True, built),
        ("migrate", False, f"{built}-committed"),
        ("notify", False, f"{built}-committed"),
    ]
    assert job.image == f"{built}-committed"  # predeploy's changes are in the image
    assert "ran make assets" in capsys.readouterr().out

    fail("appliance_run_oneoff")  # every one-off exits 7
    with pytest.raises(UserError, match="predeploy failed with exit status 7"):
        platform.deploy()
    assert "appliance_scheduler_start" not in hooks_called(root)[len(PIPELINE) :]
    assert platform.release() == 1


# Answers the container hooks the built-in `checks` plugin fires at deploy and in
# checks:run. FAKE_FAIL=appliance_container_exec makes every command exit 1.
CONTAINERS = (
    RECORDER
    + """
@hookimpl
def appliance_app_containers(app):
    deploy_id = app.settings.get("core", "deploy")
    record("appliance_app_containers", deploy=deploy_id)
    return [Container("c9", f"{app.name}.web.{deploy_id}", "web", deploy_id, "127.0.0.1", 5009)]


@hookimpl
def appliance_container_exec(app, container, command):
    record("appliance_container_exec", container=container.name, command=command)
    if os.environ.get("FAKE_FAIL") == "appliance_container_exec":
        return [1, "not ready"]
    return [0, "ready: ok"]


@hookimpl
def appliance_container_state(app, container):
    record("appliance_container_state", container=container.name)
    return {"running": True, "restarts": 0, "exit_code": None, "uptime": 12.5}
"""
)

HEALTHCHECKS = {
    "web": [
        {"type": "startup", "name": "stays up", "uptime": 5},
        {"type": "readiness", "name": "ready", "command": ["/bin/ready", "--now"], "attempts": 1},
    ]
}


@pytest.fixture
def checked(platform: Platform, root: Path, run) -> Platform:
    """The built-in checks plugin on, checking through fake-containers' hooks."""
    assert run("plugin:enable", "checks").code == 0
    assert run("domains:set-global", "example.com").code == 0
    add_plugin(root, "fake-containers", CONTAINERS)
    (platform.source / "app.json").write_text(json.dumps({"healthchecks": HEALTHCHECKS}))
    return platform


def test_hook_appliance_container_state(checked: Platform, root: Path) -> None:
    job = checked.deploy()
    assert calls(root, "appliance_container_state")[0]["container"] == f"hello.web.{job.id}"
    app = App("hello")
    container = job.containers[0]
    state = open_appliance(Output()).hook.appliance_container_state(app=app, container=container)
    assert state == {"running": True, "restarts": 0, "exit_code": None, "uptime": 12.5}


def test_hook_appliance_container_exec(checked: Platform, root: Path, fail) -> None:
    job = checked.deploy()
    (ran,) = calls(root, "appliance_container_exec")
    assert ran == {
        "hook": "appliance_container_exec",
        "plugin": "fake-containers",
        "container": f"hello.web.{job.id}",
        "command": ["/bin/ready", "--now"],
    }
    fail("appliance_container_exec")
    with pytest.raises(UserError, match='check "ready" of web failed'):
        checked.deploy()
    assert hooks_called(root)[-2:] == ["appliance_scheduler_abort", "appliance_deploy_failed"]
    assert checked.release() == 1


def test_hook_appliance_container_logs(checked: Platform, root: Path, fail) -> None:
    add_plugin(
        root,
        "sh-logs",
        triggers={
            "appliance_container_logs": """
                #!/bin/sh
                cat > "$APPLIANCE_ROOT/logs-stdin.json"
                echo "booting $1"
                echo "listening on $APPLIANCE_APP"
            """
        },
    )
    fail("appliance_container_exec")
    with pytest.raises(UserError) as failed:
        checked.deploy()
    assert "booting hello" in str(failed.value) and "listening on hello" in str(failed.value)
    payload = json.loads((root / "logs-stdin.json").read_text())
    assert payload["app"]["name"] == "hello" and payload["lines"] > 0
    assert payload["container"]["name"] == "hello.web.1"
    assert payload["container"]["process"] == "web"
    # Text that is not JSON comes back as a plain string.
    container = Container(**payload["container"])
    hook = open_appliance(Output()).hook
    logs = hook.appliance_container_logs(app=App("hello"), container=container, lines=2)
    assert logs == "booting hello\nlistening on hello"


def test_hook_appliance_app_containers(checked: Platform, root: Path, run) -> None:
    job = checked.deploy()
    result = run("checks:run", "hello")
    assert result.code == 0, result.err
    assert calls(root, "appliance_app_containers") == [
        {"hook": "appliance_app_containers", "plugin": "fake-containers", "deploy": job.id}
    ]
    assert calls(root, "appliance_container_exec")[-1]["container"] == f"hello.web.{job.id}"
    appliance = open_appliance(Output())
    (found,) = appliance.hook.appliance_app_containers(app=App("hello"))
    assert isinstance(found, Container) and found.deploy_id == job.id
    # With no scheduler at all, the decision is None.
    assert run("plugin:disable", "fake-containers").code == 0
    appliance.reload_plugins()
    assert appliance.hook.appliance_app_containers(app=App("hello")) is None


def test_hook_appliance_app_urls(
    platform: Platform, root: Path, run, capsys: pytest.CaptureFixture[str]
) -> None:
    platform.deploy()
    assert (
        capsys.readouterr().out.splitlines()[-1]
        == "-----> Application deployed: http://hello.test/"
    )
    # The built-in proxy-nginx answers too, from the domains (no nginx involved).
    assert run("plugin:enable", "proxy-nginx").code == 0
    assert run("domains:set-global", "example.com").code == 0
    found = open_appliance(Output()).hook.appliance_app_urls(app=App("hello"))
    assert sorted(found) == [["http://hello.example.com/"], ["http://hello.test/"]]


def test_hook_appliance_app_domains(root: Path, run) -> None:
    add_plugin(
        root,
        "www",
        RECORDER
        + """
@hookimpl
def appliance_app_domains(app):
    return [f"www.{app.name}.example.org"]
""",
    )
    assert run("apps:create", "hello").code == 0
    assert run("domains:set-global", "example.com").code == 0
    hook = open_appliance(Output()).hook
    found = hook.appliance_app_domains(app=App("hello"))
    # Every implementation answers; domains' default is trylast, so it comes last.
    assert found == [["www.hello.example.org"], ["hello.example.com"]]
    # proxy-nginx routes every domain any plugin returns (no nginx involved).
    urls = hook.appliance_app_urls(app=App("hello"))
    assert urls == [["http://www.hello.example.org/", "http://hello.example.com/"]]


# --- hooks around an app's life ---------------------------------------------------


def test_hook_appliance_app_created(root: Path, run, capsys: pytest.CaptureFixture[str]) -> None:
    add_plugin(
        root,
        "welcome",
        RECORDER
        + """
@hookimpl
def appliance_app_created(app, out):
    record("appliance_app_created", app=app.name, exists=app.exists())
    out.section(f"welcome, {app.name}")
""",
    )
    add_plugin(
        root,
        "grumpy",
        RECORDER
        + """
@hookimpl
def appliance_app_created(app, out):
    raise RuntimeError("not today")
""",
        triggers={
            "appliance_app_created": """
                #!/bin/sh
                cat > "$APPLIANCE_ROOT/created-$1.json"
                echo "trigger saw $APPLIANCE_APP"
            """
        },
    )
    created = run("apps:create", "hello")
    assert created.code == 0
    assert calls(root) == [
        {"hook": "appliance_app_created", "plugin": "welcome", "app": "hello", "exists": True}
    ]
    assert "-----> welcome, hello" in created.out and "trigger saw hello" in created.out
    assert "plugin grumpy: appliance_app_created failed: not today" in created.err
    assert (root / "apps" / "hello" / "repo.git" / "HEAD").is_file()  # git's still ran
    payload = json.loads((root / "created-hello.json").read_text())
    assert payload == {"app": {"name": "hello", "path": str(root / "apps" / "hello")}}

    lifecycle.create_app(open_appliance(Output(), user="bob"), "other")
    assert [c["app"] for c in calls(root)] == ["hello", "other"]
    assert "welcome, other" in capsys.readouterr().out


def test_hook_appliance_app_destroy(root: Path, run) -> None:
    add_plugin(
        root,
        "cleaner",
        RECORDER
        + """
@hookimpl
def appliance_app_destroy(app, out):
    record("appliance_app_destroy", app=app.name, exists=app.exists())
    out.info("cleaned up")
""",
    )
    add_plugin(
        root,
        "clumsy",
        RECORDER
        + """
@hookimpl
def appliance_app_destroy(app, out):
    raise OSError("cannot remove the thing")
""",
    )
    assert run("apps:create", "hello").code == 0
    destroyed = run("apps:destroy", "hello", "--force")
    assert destroyed.code == 0, destroyed.err
    assert calls(root) == [
        {"hook": "appliance_app_destroy", "plugin": "cleaner", "app": "hello", "exists": True}
    ]
    assert "cleaned up" in destroyed.out
    assert "plugin clumsy: appliance_app_destroy failed: cannot remove the thing" in destroyed.err
    assert not (root / "apps" / "hello").exists()

    appliance = open_appliance(Output(), user="alice")
    app = lifecycle.create_app(appliance, "again")
    lifecycle.destroy_app(appliance, app)
    assert [c["app"] for c in calls(root)] == ["hello", "again"] and not app.exists()


def test_hook_appliance_app_report(root: Path, run) -> None:
    add_plugin(
        root,
        "reporter",
        RECORDER
        + """
@hookimpl
def appliance_app_report(app):
    return {"Greeting": f"hello, {app.name}", "Deployed image": "overridden"}
""",
    )
    assert run("apps:create", "hello").code == 0
    report = json.loads(run("apps:report", "hello", "--format", "json").out)
    assert report["greeting"] == "hello, hello"
    assert report["app_name"] == "hello"  # the built-in apps plugin still reports
    assert report["deployed_image"] == "overridden"  # apps is trylast: yours wins
    assert next(iter(report)) == "app_name"  # trylast sections come first
    text = run("apps:report", "hello").out
    assert "=====> hello app information" in text and "Greeting:" in text


def test_hook_appliance_ssh_command(root: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    add_plugin(
        root,
        "ssh-hello",
        RECORDER
        + """
@hookimpl
def appliance_ssh_command(argv, user, out):
    if argv[0] != "hello-sh":
        return None
    out.raw(f"hi {user}: {argv[1:]}")
    return 3
""",
    )
    monkeypatch.setenv("APPLIANCE_USER", "nobody")  # restored after the test
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "hello-sh 'a b' c")
    from tests.unit.test_ssh_entry import store_keys

    store_keys(alice={"admin": True}, bob={"apps": []})
    assert "not allowed" in run("ssh", "--key", "bob").err  # admins only
    result = run("ssh", "--key", "alice")
    assert (result.code, result.out) == (3, "hi alice: ['a b', 'c']\n")

    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "bash -i")
    refused = run("ssh", "--key", "alice")
    assert refused.code == 1 and "command not allowed: 'bash'" in refused.err


# --- loading and tracing ------------------------------------------------------------


def test_undeclared_hooks_are_not_loaded(platform: Platform, root: Path) -> None:
    add_plugin(
        root,
        "forgetful",
        RECORDER
        + """
@hookimpl
def appliance_post_deploy(deploy):
    record("appliance_post_deploy")
""",
        hooks=["appliance_app_report"],
    )
    platform.deploy()
    assert [c["plugin"] for c in calls(root, "appliance_post_deploy")] == ["fake-platform"]


def test_a_plugin_that_fails_to_import_only_warns_in_an_isolated_event(root: Path, run) -> None:
    add_plugin(root, "broken", "raise RuntimeError('cannot import')\n", ["appliance_app_created"])
    created = run("apps:create", "hello")
    assert "plugin broken failed to load" in created.err
    assert created.code == 0
    assert (root / "apps" / "hello" / "repo.git" / "HEAD").is_file()  # git's hook still ran


def test_a_plugin_whose_hook_pluggy_refuses_fails_to_load_like_one_that_cannot_import(
    root: Path, run
) -> None:
    """An implementation with an argument its spec lacks: a warning in an isolated
    event (git's hook still runs), a PluginError naming the plugin elsewhere."""
    code = """
from appliance.hookspecs import hookimpl


@hookimpl
def appliance_app_created(app, outt):
    pass


@hookimpl
def appliance_app_report(app):
    return {"Misspelt": "yes"}
"""
    add_plugin(root, "misspelt", code)
    created = run("apps:create", "hello")
    assert created.code == 0, created.err
    assert "plugin misspelt failed to load: " in created.err and "outt" in created.err
    assert (root / "apps" / "hello" / "repo.git" / "HEAD").is_file()  # git's hook still ran
    report = run("apps:report", "hello")
    assert report.code == 1 and "plugin misspelt failed to load" in report.err
    assert "unexpected error" not in report.err + created.err


def test_trace_plugins(platform: Platform, monkeypatch, capsys) -> None:
    monkeypatch.setenv("APPLIANCE_TRACE_PLUGINS", "1")
    job = platform.deploy()
    err = capsys.readouterr().err
    assert "[hook] appliance_build -> fake-platform" in err
    assert f"[hook] appliance_build <- {job.image!r}" in err


def test_hook_appliance_image_exists(
    platform: Platform, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push of a tree built before reuses its image while the image still exists."""
    add_plugin(
        root,
        "image-store",
        RECORDER
        + """
@hookimpl
def appliance_image_exists(image):
    record("appliance_image_exists", image=image)
    return os.environ.get("FAKE_IMAGE_GONE") != image
""",
    )
    first = platform.deploy(tree="a" * 40)
    second = platform.deploy(tree="a" * 40, rev="1" * 40)
    assert second.image == first.image
    assert [c["image"] for c in calls(root, "appliance_image_exists")] == [first.image]
    assert len(calls(root, "appliance_build")) == 1
    assert "appliance_post_build" in hooks_called(root)[-10:]  # still runs on reuse
    third = platform.deploy(tree="b" * 40)
    assert third.image != first.image and len(calls(root, "appliance_build")) == 2
    monkeypatch.setenv("FAKE_IMAGE_GONE", str(first.image))
    platform.deploy(tree="a" * 40)
    assert len(calls(root, "appliance_build")) == 3  # gone: built again


def test_hook_appliance_image_prepare(platform: Platform, root: Path, run) -> None:
    add_plugin(
        root,
        "image-fetcher",
        RECORDER
        + """
@hookimpl
def appliance_image_prepare(image):
    record("appliance_image_prepare", image=image)
    return {"procfile": "web: serve --port $PORT\\n", "app_json": '{"cron": []}'}
""",
    )
    deployed = run("git:from-image", "hello", "registry.example/web:2")
    assert deployed.code == 0, deployed.err
    assert calls(root, "appliance_image_prepare") == [
        {
            "hook": "appliance_image_prepare",
            "plugin": "image-fetcher",
            "image": "registry.example/web:2",
        }
    ]
    from appliance import releases

    release = releases.require_current(App("hello"))
    assert release.image == "registry.example/web:2"
    assert release.procfile == {"web": "serve --port $PORT"}
    assert release.app_json == {"cron": []}
    assert release.summary == "Deploy image registry.example/web:2"


def test_a_killed_deploy_is_cleaned_up_by_the_next_command(
    platform: Platform, root: Path, run
) -> None:
    platform.deploy()
    import multiprocessing
    import time

    (root / "apps" / "hello" / "deploying").write_text("7 99999\n")  # as a SIGKILL leaves it
    started = multiprocessing.get_context("fork").Event()

    def deploying() -> None:
        with App("hello").lock(what="a deploy running now"):
            started.set()
            time.sleep(1.5)

    holder = multiprocessing.get_context("fork").Process(target=deploying)
    holder.start()
    assert started.wait(5)
    report = run("apps:report", "hello")  # a deploy holds the lock: not ours to clean
    holder.join()
    assert "Cleaning up" not in report.out and "Waiting" not in report.err
    assert (root / "apps" / "hello" / "deploying").exists()
    report = run("apps:report", "hello")
    assert report.code == 0
    assert "Cleaning up deploy 7 of hello, which was interrupted" in report.out
    assert calls(root, "appliance_scheduler_abort")[-1]["release"] == 0
    assert not (root / "apps" / "hello" / "deploying").exists()


# --- the daemon -------------------------------------------------------------------


def test_hook_appliance_daemon_start(root: Path) -> None:
    import io
    import time

    from appliance.daemon import Daemon, load_plugins

    add_plugin(
        root,
        "heartbeat",
        RECORDER
        + """
@hookimpl
def appliance_daemon_start(daemon):
    record("appliance_daemon_start", pid=daemon.to_dict()["pid"])
    daemon.every(0.05, lambda: record("beat"), "heartbeat")
""",
    )
    add_plugin(
        root,
        "shell-daemon",
        triggers={
            "appliance_daemon_start": """
                #!/bin/sh
                cat > "$APPLIANCE_ROOT/daemon-start.json"
            """
        },
    )
    daemon = Daemon(stream=io.StringIO())
    started = load_plugins(daemon)
    assert {"heartbeat", "shell-daemon"} <= set(started)
    assert daemon.jobs["heartbeat"].plugin == "heartbeat"
    payload = json.loads((root / "daemon-start.json").read_text())
    assert payload["daemon"]["pid"] == calls(root, "appliance_daemon_start")[0]["pid"]
    for name, job in list(daemon.jobs.items()):
        if job.plugin != "heartbeat":
            del daemon.jobs[name]  # the built-in jobs talk to Docker and nginx
    daemon.watches.clear()
    daemon.start()
    try:
        deadline = time.monotonic() + 5
        while len(calls(root, "beat")) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(calls(root, "beat")) >= 2
    finally:
        daemon.stop(timeout=2)


# --- container options (scheduler-docker merges them; no Docker needed to merge) ------

CONTAINER_OPTIONS = (
    RECORDER
    + """
@hookimpl
def appliance_container_options(app, process, phase):
    record("appliance_container_options", process=process, phase=phase)
    wanted = os.environ.get("FAKE_OPTIONS")
    if wanted:
        return json.loads(wanted)
    return {"volumes": ["/srv/data:/data"], "mem_limit": "64m", "network": "shared",
            "sysctls": {"net.core.somaxconn": "1024"}}


@hookimpl
def appliance_container_created(app, container, phase):
    record("appliance_container_created", name=container.name, phase=phase)
    maybe_fail("appliance_container_created")
"""
)


def _scheduler_options() -> Any:
    registry = Registry()
    return registry.import_module(registry.get("scheduler-docker"), "options")


def test_hook_appliance_container_options(
    root: Path, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("apps:create", "hello").code == 0
    add_plugin(root, "mounts", CONTAINER_OPTIONS)
    add_plugin(
        root,
        "sh-options",
        triggers={
            "appliance_container_options": """
                #!/bin/sh
                echo '{"volumes": ["/srv/logs:/logs:ro"], "sysctls": {"net.ipv4.ip_forward": "0"}}'
            """
        },
    )
    options = _scheduler_options()
    hook = open_appliance(Output()).hook
    base = {"name": "hello.web.1-d1", "labels": {"appliance.app": "hello"}, "init": True}
    merged = options.create_options(hook, App("hello"), "web", "deploy", 1, base)
    assert calls(root, "appliance_container_options") == [
        {"hook": "appliance_container_options", "plugin": "mounts", "process": "web",
         "phase": "deploy"}
    ]  # fmt: skip
    assert sorted(merged["volumes"]) == ["/srv/data:/data", "/srv/logs:/logs:ro"]
    assert merged["sysctls"] == {"net.core.somaxconn": "1024", "net.ipv4.ip_forward": "0"}
    assert (merged["mem_limit"], merged["init"], merged["name"]) == ("64m", True, base["name"])
    assert merged["networking_config"] == {"shared": {"Aliases": ["hello.web", "hello.web.1"]}}
    oneoff = options.create_options(hook, App("hello"), "run", "run", 0, {})
    assert "networking_config" not in oneoff  # one-off containers get no aliases

    monkeypatch.setenv("FAKE_OPTIONS", '{"labels": {"x": "y"}}')
    with pytest.raises(PluginError, match="plugin mounts: the container option 'labels' is"):
        options.create_options(hook, App("hello"), "web", "deploy", 1, base)
    monkeypatch.setenv("FAKE_OPTIONS", '{"sysctls": {"net.ipv4.ip_forward": "1"}}')
    with pytest.raises(PluginError, match=r"plugins .* and .* both set the container option"):
        options.create_options(hook, App("hello"), "web", "deploy", 1, base)
    monkeypatch.setenv("FAKE_OPTIONS", '{"init": false}')
    with pytest.raises(PluginError, match=r"scheduler-docker and mounts both set .*'init'"):
        options.create_options(hook, App("hello"), "web", "deploy", 1, base)


class _CreatedContainer:
    """What the engine hands back from `containers.create`: enough to describe it."""

    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.id, self.name, self.labels, self.attrs = f"id-{name}", name, labels, {}
        self.removed = False

    def remove(self, force: bool = False) -> None:
        self.removed = True


class _Engine:
    def __init__(self) -> None:
        self.created: list[tuple[str, dict[str, Any], _CreatedContainer]] = []
        self.containers = self

    def create(self, image: str, **options: Any) -> _CreatedContainer:
        made = _CreatedContainer(options["name"], options.get("labels", {}))
        self.created.append((image, options, made))
        return made


def test_hook_appliance_container_created(root: Path, run, fail) -> None:
    assert run("apps:create", "hello").code == 0
    add_plugin(root, "mounts", CONTAINER_OPTIONS)
    options, engine = _scheduler_options(), _Engine()
    labels = {"appliance.app": "hello", "appliance.process": "worker", "appliance.deploy": "3"}
    hook = open_appliance(Output()).hook
    made = options.create_container(
        engine, hook, App("hello"), "appliance/hello:build-3",
        process="worker", phase="restore", index=2, name="hello.worker.2-d3", labels=labels,
    )  # fmt: skip
    image, given, _ = engine.created[0]
    assert image == "appliance/hello:build-3" and given["volumes"] == ["/srv/data:/data"]
    assert calls(root, "appliance_container_created") == [
        {"hook": "appliance_container_created", "plugin": "mounts",
         "name": "hello.worker.2-d3", "phase": "restore"}
    ]  # fmt: skip
    assert not made.removed
    fail("appliance_container_created")
    with pytest.raises(PluginError, match="plugin mounts: appliance_container_created failed"):
        options.create_container(
            engine, hook, App("hello"), "appliance/hello:build-3",
            process="worker", phase="deploy", index=1, name="hello.worker.1-d4", labels=labels,
        )  # fmt: skip
    assert engine.created[-1][2].removed  # a container whose setup failed never stays


def test_hook_appliance_deploy_started(
    platform: Platform, root: Path, fail, capsys: pytest.CaptureFixture[str]
) -> None:
    add_plugin(
        root,
        "tee",
        RECORDER
        + """
@hookimpl
def appliance_deploy_started(deploy):
    record("appliance_deploy_started", id=deploy.id, release=deploy.release,
           image=deploy.image, summary=deploy.summary)
    lines = state.root() / "tee.txt"
    deploy.out.sinks["tee"] = lambda line: lines.open("a").write(line + "\\n")
""",
    )
    platform.deploy()
    (started,) = calls(root, "appliance_deploy_started")
    assert started == {"hook": "appliance_deploy_started", "plugin": "tee", "id": 1,
                       "release": 1, "image": None, "summary": "test"}  # fmt: skip
    assert hooks_called(root)[0] == "appliance_deploy_started"  # before anything else
    copied = (root / "tee.txt").read_text()
    assert "Application deployed: http://hello.test/" in copied  # the sink saw it all
    assert copied.splitlines() == capsys.readouterr().out.splitlines()

    # The built-in releases plugin keeps each deploy's output; releases:logs shows it.
    assert "Application deployed" in run_cli("releases:logs", "hello").out
    assert "Application deployed" in run_cli("releases:logs", "hello", "v1").out
    fail("appliance_build")
    with pytest.raises(PluginError):
        platform.deploy()
    failed = run_cli("releases:logs", "hello", "--failed").out
    assert "appliance_build failed: RuntimeError: appliance_build exploded" in failed
    assert "Application deployed" not in failed
    assert run_cli("releases:logs", "hello").out == failed
    listed = json.loads(run_cli("releases:logs", "hello", "--format", "json").out)
    assert [(r["deploy"], r["outcome"], r["release"]) for r in listed] == [
        (2, "failed", None), (1, "made v1", 1)
    ]  # fmt: skip
    assert run_cli("releases:logs", "hello", "v9").code == 1
    logs = sorted(p.name for p in (root / "apps" / "hello" / "deploy-logs").iterdir())
    assert logs == ["1.v1.log", "2.failed.log"]
    assert oct((root / "apps" / "hello" / "deploy-logs" / "1.v1.log").stat().st_mode)[-3:] == "600"


def run_cli(*argv: str) -> Any:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return type("Result", (), {"code": code, "out": out.getvalue(), "err": err.getvalue()})


def test_hook_appliance_source_checkout(platform: Platform, root: Path, run) -> None:
    add_plugin(
        root,
        "sources",
        RECORDER
        + """
@hookimpl
def appliance_source_checkout(app, rev, dest):
    record("appliance_source_checkout", app=app.name, rev=rev, empty=not any(dest.iterdir()))
    (dest / "app.txt").write_text("rebuilt\\n")
    return True
""",
    )
    assert run("ps:rebuild", "hello").code == 1  # nothing deployed yet
    platform.deploy()
    # A config change makes a release of the same image, without a revision.
    platform.redeploy()
    rebuilt = run("ps:rebuild", "hello")
    assert rebuilt.code == 0, rebuilt.err
    (checkout,) = calls(root, "appliance_source_checkout")
    assert checkout["rev"] == "0123456789abcdef0123456789abcdef01234567"
    assert (checkout["plugin"], checkout["app"], checkout["empty"]) == ("sources", "hello", True)
    assert platform.release() == 3
    assert len(calls(root, "appliance_build")) == 2  # built again, not reused
    latest = json.loads(run("releases", "hello", "--format", "json").out)[0]
    assert latest["summary"] == "Rebuild 0123456" and latest["rev"].startswith("0123456")


def test_hook_appliance_build_options(root: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Builders get what plugins add to a build, merged by the builder plugin's builds."""
    from appliance.registry import Registry

    registry = Registry()
    builds = registry.import_module(registry.get("builder"), "builds")

    assert run("apps:create", "hello").code == 0
    add_plugin(
        root,
        "build-hosts",
        RECORDER
        + """
@hookimpl
def appliance_build_options(deploy):
    record("appliance_build_options", app=deploy.app.name)
    return json.loads(os.environ.get("FAKE_BUILD", '{"extra_hosts": {"a.test": "10.0.0.1"}}'))
""",
    )
    add_plugin(
        root,
        "sh-build",
        triggers={
            "appliance_build_options": """
                #!/bin/sh
                echo '{"extra_hosts": {"b.test": "10.0.0.2"}, "shm_size": "256m"}'
            """
        },
    )
    appliance = open_appliance(Output(), user="a")
    job = Deploy(
        app=App("hello"), out=appliance.out, id=1, release=1, user="a", appliance=appliance
    )
    assert builds.extra_options(job) == {
        "extra_hosts": {"a.test": "10.0.0.1", "b.test": "10.0.0.2"},
        "shm_size": "256m",
    }
    assert calls(root, "appliance_build_options")[0]["app"] == "hello"
    monkeypatch.setenv("FAKE_BUILD", '{"extra_hosts": {"b.test": "10.9.9.9"}}')
    with pytest.raises(PluginError, match=r"plugins .* and .* both set host b\.test"):
        builds.extra_options(job)
    monkeypatch.setenv("FAKE_BUILD", '{"network_mode": "host"}')
    with pytest.raises(PluginError, match=r"plugin build-hosts: unsupported build options"):
        builds.extra_options(job)
