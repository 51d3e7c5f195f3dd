"""The RUN rewriting behind the build limits and the CA bundle in builds: what changes
(flags after RUN, a prefix before shell-form commands), what is left alone (exec form,
heredocs, comments, other shells), the build output that hides it again, and the
helpers that decide on IO weights and Dockerfile paths. The builds themselves run in
tests/e2e/test_build_limits.py."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from appliance.errors import UserError
from appliance.host import Appliance
from appliance.registry import Registry

FLAG = "--mount=type=secret,id=ca"
HELPER = Path(__file__).resolve().parents[2] / "templates" / "system" / "build-limits"

_registry = Registry()
builds = _registry.import_module(_registry.get("builder"), "builds")
dockerfile_runs = _registry.import_module(_registry.get("builder"), "dockerfile_runs")
PRIORITY, hide = dockerfile_runs.PRIORITY, dockerfile_runs.hide
injected, rewrite = dockerfile_runs.injected, dockerfile_runs.rewrite



def runs(text: str) -> str:
    return rewrite(text, flags=[FLAG], prefix=PRIORITY)


def test_a_shell_form_run_gets_the_flags_and_the_prefix() -> None:
    assert runs("FROM x\nRUN make all\n") == f"FROM x\nRUN {FLAG} {PRIORITY}make all\n"
    assert runs("FROM x\n  run\tmake\n") == f"FROM x\n  run\t{FLAG} {PRIORITY}make\n"
    assert rewrite("RUN make\n", prefix=PRIORITY) == f"RUN {PRIORITY}make\n"


def test_the_users_flags_stay_before_the_command() -> None:
    text = "RUN --mount=type=cache,target=/root/.cache --network=none pip install x\n"
    assert runs(text) == (
        f"RUN {FLAG} --mount=type=cache,target=/root/.cache --network=none "
        f"{PRIORITY}pip install x\n"
    )


def test_flags_continued_over_lines_put_the_prefix_where_the_command_starts() -> None:
    text = (
        "RUN --mount=type=cache,target=/c \\\n"
        "    # a comment among the flags\n"
        "\n"
        "    --network=none \\\n"
        "    make all \\\n"
        "    && make install\n"
        "RUN true\n"
    )
    assert runs(text) == (
        f"RUN {FLAG} --mount=type=cache,target=/c \\\n"
        "    # a comment among the flags\n"
        "\n"
        "    --network=none \\\n"
        f"    {PRIORITY}make all \\\n"
        "    && make install\n"
        f"RUN {FLAG} {PRIORITY}true\n"
    )


def test_continuation_lines_of_a_command_are_left_as_they_are() -> None:
    text = "RUN apt-get update \\\n RUN-like text && \\\n apt-get install -y curl\nCMD x\n"
    assert runs(text) == (
        f"RUN {FLAG} {PRIORITY}apt-get update \\\n"
        " RUN-like text && \\\n apt-get install -y curl\nCMD x\n"
    )


def test_exec_form_gets_the_flags_only() -> None:
    assert runs('RUN ["sh", "-c", "make"]\n') == f'RUN {FLAG} ["sh", "-c", "make"]\n'
    assert runs('RUN --network=none ["make"]\n') == f'RUN {FLAG} --network=none ["make"]\n'
    assert rewrite('RUN ["make"]\n', prefix=PRIORITY) == 'RUN ["make"]\n'


def test_heredocs_and_their_bodies_are_untouched() -> None:
    text = (
        "FROM x\n"
        "RUN <<EOF\n"
        "RUN not an instruction\n"
        "EOF\n"
        "COPY <<-END /etc/motd\n"
        "\tRUN nor this\n"
        "\tEND\n"
        "RUN <<'ONE' <<\"TWO\"\n"
        "one\n"
        "ONE\n"
        "RUN two\n"
        "TWO\n"
        "RUN after\n"
    )
    expected = text.replace("RUN after", f"RUN {FLAG} {PRIORITY}after")
    assert runs(text) == expected


def test_comments_and_other_instructions_are_untouched() -> None:
    text = "# RUN commented\n  # RUN indented\nENV RUN=1\nLABEL run=yes\nRUN x\n"
    assert runs(text) == text.replace("RUN x", f"RUN {FLAG} {PRIORITY}x")


def test_crlf_line_endings_are_kept() -> None:
    assert runs("FROM x\r\nRUN a \\\r\n b\r\n") == f"FROM x\r\nRUN {FLAG} {PRIORITY}a \\\r\n b\r\n"


@pytest.mark.parametrize(
    ("shell", "prefixed"),
    [
        ('SHELL ["/bin/bash", "-o", "pipefail", "-c"]', True),
        ('SHELL ["/bin/sh", "-ec"]', True),
        ('SHELL ["powershell", "-Command"]', False),
        ('SHELL ["/usr/bin/fish", "-c"]', False),
        ("SHELL /bin/bash -c", False),  # not JSON: Docker refuses it; so do we
    ],
)
def test_a_shell_that_is_not_posix_gets_no_prefix(shell: str, prefixed: bool) -> None:
    text = f"FROM x\n{shell}\nRUN make\n"
    expected = f"RUN {FLAG} {PRIORITY}make" if prefixed else f"RUN {FLAG} make"
    assert runs(text) == text.replace("RUN make", expected)


def test_another_escape_character_leaves_the_file_alone() -> None:
    text = "# escape=`\nFROM x\nRUN make `\n  all\n"
    assert runs(text) == text
    assert runs("# syntax=docker/dockerfile:1\nRUN x\n").endswith(f"RUN {FLAG} {PRIORITY}x\n")


def test_nothing_to_add_leaves_the_text_as_it_is() -> None:
    assert rewrite("RUN x\n") == "RUN x\n"


def test_build_output_shows_the_run_lines_as_written() -> None:
    line = "RUN --mount=type=cache,target=/c pip install -r requirements.txt"
    pieces = injected([FLAG], "export A=1; " + PRIORITY)
    rewritten = rewrite(line + "\n", flags=[FLAG], prefix="export A=1; " + PRIORITY)
    shown = f"#7 [deps 3/5] {rewritten.strip()}"
    assert hide(shown, pieces) == f"#7 [deps 3/5] {line}"
    classic = f"Step 3/5 : {rewrite(line, prefix=PRIORITY)}"
    assert hide(classic, injected(prefix=PRIORITY)) == f"Step 3/5 : {line}"


def test_the_prefix_lowers_priority_and_never_fails_a_step() -> None:
    seen = subprocess.run(
        ["sh", "-ec", PRIORITY + "awk '{print $19}' /proc/self/stat; ionice -p $$"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    assert int(seen[0]) >= 10
    assert seen[1] == "best-effort: prio 7"
    bare = subprocess.run(
        ["/bin/sh", "-ec", PRIORITY + "echo built"],
        capture_output=True, text=True, env={"PATH": "/nonexistent"}, check=False,
    )  # fmt: skip
    assert (bare.returncode, bare.stdout, bare.stderr) == (0, "built\n", "")


def test_io_weight_only_where_the_kernel_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builds, "CGROUP_ROOT", str(tmp_path))
    (tmp_path / "blkio").mkdir()
    assert builds.blkio_weight() is None  # v1 with BFQ statistics but no weight
    (tmp_path / "blkio" / "blkio.bfq.weight").write_text("100\n")
    assert builds.blkio_weight() == builds.BLKIO_WEIGHT
    (tmp_path / "cgroup.controllers").write_text("cpu io memory\n")
    assert builds.blkio_weight() is None  # v2: no cgroup offers an IO weight
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "io.weight").write_text("default 100\n")
    assert builds.blkio_weight() == builds.BLKIO_WEIGHT


def test_a_dockerfile_must_stay_inside_the_source(tmp_path: Path) -> None:
    (tmp_path / "outside").write_text("FROM x\n")
    source = tmp_path / "source"
    (source / "deploy").mkdir(parents=True)
    (source / "deploy" / "web.Dockerfile").write_text("FROM x\n")
    (source / "Dockerfile").symlink_to(tmp_path / "outside")
    assert builds.read_dockerfile(source, "deploy/web.Dockerfile") == "FROM x\n"
    with pytest.raises(UserError, match="Dockerfile in the pushed source is a symbolic link"):
        builds.read_dockerfile(source, "Dockerfile")
    with pytest.raises(UserError, match="not a plain relative path"):
        builds.read_dockerfile(source, "../outside")
    with pytest.raises(UserError, match="not a file inside the pushed source"):
        builds.read_dockerfile(source, "missing")


@pytest.mark.parametrize("argv", [[], ["700m", "1g"], ["700"], ["0m"], ["7000000m"],
                                  ["700M"], ["../../x"], ["-1"], [""]])  # fmt: skip
def test_the_limits_helper_refuses_anything_but_a_size_or_none(argv: list[str]) -> None:
    done = subprocess.run([str(HELPER), *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == "usage: build-limits MEMORY (like 700m or 2g, or none)\n"


def plugin_module(plugin: str, name: str) -> ModuleType:
    registry = Registry()
    return registry.import_module(registry.get(plugin), name)


def test_buildpack_steps_run_at_a_low_priority(root: Path) -> None:
    """bin/detect, bin/compile and bin/release run through the buildpack RUNNER."""
    runner = plugin_module("builder-buildpack", "container").RUNNER
    seen = subprocess.run(
        ["sh", "-c", runner, "runner", "0",
         "sh", "-c", "awk '{print $19}' /proc/self/stat; ionice -p $$"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    assert int(seen[0]) >= 10 and seen[1] == "best-effort: prio 7"


def test_buildkit_builds_trust_the_ca_and_lower_priority(root: Path) -> None:
    buildkit = plugin_module("builder-dockerfile", "buildkit")
    flags, prefix = buildkit.step_changes(ca=True)
    text = rewrite("FROM x\nRUN pip install -r requirements.txt\n", flags=flags, prefix=prefix)
    step = text.splitlines()[1]
    assert step.startswith(f"RUN {buildkit.CA_MOUNT} export SSL_CERT_FILE=")
    assert step.endswith(f"{PRIORITY}pip install -r requirements.txt")
    assert hide(step, injected(flags, prefix)) == "RUN pip install -r requirements.txt"
    assert buildkit.step_changes(ca=False) == ([], PRIORITY)


def test_build_limits_are_no_input_of_the_build_key(
    run, root: Path, appliance: Appliance
) -> None:
    from appliance import state
    from appliance.deploy import Deploy

    assert run("apps:create", "hello").code == 0
    job = Deploy(app=state.App("hello"), out=appliance.out, id=1, release=1, user="admin",
                 appliance=appliance, tree="abc")  # fmt: skip
    build_key = plugin_module("builder", "choice").build_key
    before = build_key(job)
    for key, value in (("build-memory", "700m"), ("build-timeout", "60"), ("build-slots", "2")):
        assert run("builder:set-global", key, value).code == 0
    assert (builds.memory(), builds.timeout(), builds.slots()) == ("700m", 60, 2)
    assert build_key(job) == before
    assert run("builder:set-global", "build-memory", "700M").code == 1
    assert run("builder:set-global", "http-proxy", "http://proxy:3128").code == 0
    assert build_key(job) != before  # the proxy can change what a build fetches

    assert run("builder:set-global", "build-memory").code == 0
    state.global_settings().set("builder", "memory", "1g")  # where earlier versions kept it
    assert builds.memory() == "1g"
    assert run("builder:set-global", "build-memory").code == 0
    assert builds.memory() is None and state.global_settings().get("builder", "memory") is None


def test_a_build_context_whose_dockerignore_leaves_it_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret").write_text("secret\n")
    source = tmp_path / "source"
    source.mkdir()
    (source / "Dockerfile").write_text("FROM x\n")
    (source / ".dockerignore").symlink_to(tmp_path / "secret")
    monkeypatch.setattr("docker.from_env", lambda **kw: pytest.fail("reached the engine"))
    with pytest.raises(UserError, match=r"\.dockerignore in the pushed source is a symbolic"):
        builds.sdk_build(context=source, dockerfile="Dockerfile", tag="t", out=None,
                         buildargs={})  # type: ignore[arg-type]  # fmt: skip
