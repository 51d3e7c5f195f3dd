"""Builds that cannot hurt production: each RUN step of a pushed Dockerfile records
the priority and limits it ran under into the image, and the app's one-off `run`
reads them back. BuildKit builds (the docker CLI) and the classic builder (the
Docker SDK, as builder-auto builds) are both driven for real."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest

from appliance.output import Output
from appliance.registry import Registry

from .conftest import Host, commit, make_repo, sh

CGROUPS = Path("/sys/fs/cgroup")
CGROUP_V2 = (CGROUPS / "cgroup.controllers").is_file()
LIMITS_HELPER = "/usr/local/lib/appliance/build-limits"
MEMORY = "700m"
MEMORY_BYTES = 700 * 1024 * 1024

RECORD = (
    "awk '{print $19}' /proc/self/stat > /built/nice"
    " && ionice -p $$ > /built/ionice && cat /proc/self/cgroup > /built/cgroup"
)
DOCKERFILE = f"""FROM appliance-test/bookworm:latest
WORKDIR /app
COPY app.py message.txt /app/
RUN mkdir /built && {RECORD} \\
 && {{ grep -s hierarchical_memory_limit /sys/fs/cgroup/memory/memory.stat || true; }} \\
    > /built/memory
RUN --mount=type=tmpfs,target=/scratch \\
    awk '{{print $19}}' /proc/self/stat > /built/nice-after-flags
RUN ["sh", "-c", "awk '{{print $19}}' /proc/self/stat > /built/nice-exec-form"]
CMD ["python3", "/app/app.py"]
"""

_registry = Registry()
builds = _registry.import_module(_registry.get("builder"), "builds")



def read_cgroup(*parts: str) -> str:
    return (CGROUPS.joinpath(*parts)).read_text().strip()


def test_dockerfile_steps_run_at_low_priority_within_build_memory(
    host: Host, tmp_path: Path
) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    (repo / "Dockerfile").write_text(DOCKERFILE)
    commit(repo, "steps that record what they run under")
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("checks:set", app, "wait-to-retire", "0").returncode == 0
    assert sh("appliance", "builder:set-global", "build-memory", MEMORY).returncode == 0
    try:
        pushed = host.push(repo, app)
        if CGROUP_V2:
            limits = [
                read_cgroup("docker", "buildkit", name) for name in ("memory.max", "cpu.weight")
            ]
            expected = [str(MEMORY_BYTES), "10"]
        else:
            limits = [read_cgroup("memory", "docker", "buildkit", "memory.limit_in_bytes"),
                      read_cgroup("cpu", "docker", "buildkit", "cpu.shares")]  # fmt: skip
            expected = [str(MEMORY_BYTES), "256"]
    finally:
        sh("appliance", "builder:set-global", "build-memory")
        sh(LIMITS_HELPER, "none")  # the next BuildKit build would do it; do it now
    assert pushed.returncode == 0, pushed.stderr
    assert "Build limits not set" not in pushed.stderr
    # The pusher sees the RUN lines as written, not what the appliance added.
    assert f"RUN mkdir /built && {RECORD}" in pushed.stderr
    assert "renice" not in pushed.stderr and "appliance-ca" not in pushed.stderr
    assert host.get(app)[1].startswith("hello v1\n")

    files = ["nice", "ionice", "nice-after-flags", "nice-exec-form", "memory", "cgroup"]
    ran = host.ssh("run", app, "cat", *(f"/built/{name}" for name in files))
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[:4] == ["10", "best-effort: prio 7", "10", "0"]  # exec form: no shell
    assert any(":/docker/buildkit/" in line for line in lines[4:]), lines
    assert limits == expected
    if not CGROUP_V2:  # the step's own cgroup sits below the capped docker/buildkit
        assert lines[4] == f"hierarchical_memory_limit {MEMORY_BYTES}"


def test_classic_builds_run_steps_at_low_priority(
    host: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Docker SDK's classic builder: builder-auto's path, and builder-dockerfile's
    where the docker CLI has no BuildKit."""
    monkeypatch.setenv("APPLIANCE_ROOT", str(tmp_path / "state"))
    (tmp_path / "state").mkdir()
    context = tmp_path / "context"
    context.mkdir()
    dockerfile = (
        "FROM appliance-test/bookworm:latest\n"
        f"RUN mkdir /built && {RECORD}\n"
        'RUN ["sh", "-c", "awk \'{print $19}\' /proc/self/stat > /built/nice-exec-form"]\n'
    )
    (context / "Dockerfile").write_text(dockerfile)
    tag = f"appliance-e2e/classic-limits:{secrets.token_hex(3)}"
    shown = io.StringIO()
    try:
        builds.sdk_build(
            context=context, dockerfile="Dockerfile", tag=tag, out=Output(stream=shown),
            buildargs={},
        )  # fmt: skip
        seen = sh("docker", "run", "--rm", tag, "cat", "/built/nice", "/built/ionice",
                  "/built/nice-exec-form")  # fmt: skip
    finally:
        sh("docker", "rmi", "-f", tag)
    assert seen.stdout.splitlines() == ["10", "best-effort: prio 7", "0"], seen.stderr
    assert f"RUN mkdir /built && {RECORD}" in shown.getvalue()
    assert "renice" not in shown.getvalue()
