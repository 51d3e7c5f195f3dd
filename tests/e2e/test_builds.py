"""Builds: an unchanged tree is not rebuilt, Dockerfile options, build limits, and
deploys of prebuilt images and source archives."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

from .conftest import FIXTURES, Host, commit, make_repo, sh


def test_unchanged_tree_is_not_rebuilt(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    first = host.push(repo, app)
    assert first.returncode == 0, first.stderr
    assert "Using the dockerfile builder (found Dockerfile)" in first.stderr
    commit(repo, "an empty commit: same tree")
    again = host.push(repo, app)
    assert again.returncode == 0, again.stderr
    assert "Reusing the image built from this source and settings" in again.stderr
    assert "Building" not in again.stderr
    assert host.get(app)[1].startswith("hello v1\n")
    report = json.loads(host.ssh("builder:report", app, "--format", "json").stdout)
    assert report["last_builder"] == "dockerfile"


def test_dockerfile_path_build_args_and_timeout(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-hello")
    (repo / "deploy").mkdir()
    (repo / "deploy" / "web.Dockerfile").write_text(
        "FROM appliance-test/bookworm:latest\n"
        "ARG GREETING\n"
        "WORKDIR /app\n"
        "COPY app.py /app/\n"
        'RUN echo "built with $GREETING" > /app/message.txt\n'
        'CMD ["python3", "/app/app.py"]\n'
    )
    (repo / "Dockerfile").unlink()
    commit(repo, "Dockerfile elsewhere")
    assert host.ssh("apps:create", app).returncode == 0
    for command in (
        ["builder-dockerfile:set", app, "dockerfile-path", "deploy/web.Dockerfile"],
        ["builder-dockerfile:set", app, "build-args", "GREETING"],
        ["config:set", app, "GREETING=howdy"],
    ):
        assert host.ssh(*command).returncode == 0, command
    pushed = host.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    assert host.get(app)[1].startswith("built with howdy\n")
    bad = host.ssh("builder-dockerfile:set", app, "dockerfile-path", "../etc/passwd")
    assert bad.returncode == 1 and "relative path" in bad.stderr

    assert sh("appliance", "builder:set-global", "build-timeout", "3").returncode == 0
    try:
        (repo / "deploy" / "web.Dockerfile").write_text(
            "FROM appliance-test/bookworm:latest\nRUN sleep 45\n"
        )
        commit(repo, "slow build")
        slow = host.push(repo, app)
    finally:
        sh("appliance", "builder:set-global", "build-timeout")
    assert slow.returncode != 0
    assert "the build took longer than 3 s and was stopped" in slow.stderr
    assert host.get(app)[1].startswith("built with howdy\n")


def test_deploy_a_prebuilt_image(host: Host, tmp_path: Path) -> None:
    source = tmp_path / "image"
    subprocess.run(
        ["cp", "-r", str(FIXTURES / "apps" / "dockerfile-hello"), str(source)], check=True
    )
    (source / "Procfile").write_text("web: python3 /app/app.py\n")
    (source / "Dockerfile").write_text(
        "FROM appliance-test/bookworm:latest\nWORKDIR /app\nCOPY . /app/\n"
    )
    tag = f"appliance-e2e/prebuilt:{tmp_path.name[-6:].lower()}"
    built = sh("docker", "build", "-q", "-t", tag, source)
    assert built.returncode == 0, built.stderr
    app = host.new_app()
    try:
        deployed = host.ssh("git:from-image", app, tag)
        assert deployed.returncode == 0, deployed.stderr
        assert host.get(app)[1].startswith("hello v1\n")
        info = json.loads(host.ssh("releases:info", app, "v1", "--format", "json").stdout)
        assert info["image"] == tag and info["procfile"] == {"web": "python3 /app/app.py"}
        missing = host.ssh("git:from-image", app, "appliance-e2e/none:404")
        assert missing.returncode == 1 and "cannot pull" in missing.stderr
    finally:
        sh("docker", "rmi", "-f", tag)


def test_deploy_an_archive_from_stdin(host: Host, tmp_path: Path) -> None:
    app = host.new_app()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(FIXTURES / "apps" / "dockerfile-hello", arcname="hello-1.0")
    data = buffer.getvalue()
    deployed = host.ssh_bytes("git:from-archive", app, "-", stdin=data)
    assert deployed.returncode == 0, deployed.stderr
    assert host.get(app)[1].startswith("hello v1\n")
    again = host.ssh_bytes("git:from-archive", app, "-", stdin=data)
    assert again.returncode == 0 and b"Reusing the image" in again.stdout

    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as archive:
        entry = tarfile.TarInfo("../escape.txt")
        entry.size = 3
        archive.addfile(entry, io.BytesIO(b"bad"))
    refused = host.ssh_bytes("git:from-archive", app, "-", stdin=evil.getvalue())
    assert refused.returncode == 1 and b"outside the source" in refused.stderr


def test_the_host_ca_bundle_reaches_dockerfile_builds(host: Host, tmp_path: Path) -> None:
    """This machine's HTTPS goes through an intercepting proxy, as at many companies:
    a RUN step fetching over HTTPS works only when the host's CA bundle is trusted."""
    app = host.new_app()
    repo = make_repo(tmp_path, "dockerfile-https")
    pushed = host.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    assert host.get(app)[1].startswith("fetched pypi.org over https\n")
    image = json.loads(host.ssh("releases:info", app, "v1", "--format", "json").stdout)["image"]

    def image_view(ref: str) -> str:
        shown = "sha256sum /etc/ssl/certs/ca-certificates.crt; env | grep -c PIP_CERT || true"
        return sh("docker", "run", "--rm", "--entrypoint", "sh", ref, "-c", shown).stdout

    # The final image holds the base image's CA store and no CA variable.
    assert image_view(image) == image_view("appliance-test/bookworm:latest")
    assert image_view(image).endswith("0\n")

    assert host.ssh("builder-dockerfile:set", app, "trust-host-ca", "false").returncode == 0
    (repo / "app.py").write_text((repo / "app.py").read_text() + "\n# changed\n")
    commit(repo, "rebuild without the host CA")
    refused = host.push(repo, app)
    assert refused.returncode != 0 and "docker build failed" in refused.stderr
    assert host.get(app)[1].startswith("fetched pypi.org over https\n")
