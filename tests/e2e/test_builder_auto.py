"""builder-auto for real: apps without a Dockerfile are pushed over SSH, built from a
generated Dockerfile on the local language images (scripts/build-base-image.sh; no
registry here) and answer through nginx.

This host sits behind an intercepting TLS proxy: pip and npm inside a container fail
with certificate errors unless the host's CA bundle is trusted there, so installing
flask from PyPI and express from npm proves the CA reaches the build, and the
trust-host-ca false case proves it is needed. The final images are then searched,
file by file, for the host's own certificates.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import DOMAIN, Host, commit, make_repo, sh

LOCAL_BASES = {
    "python": "appliance-test/python:latest",
    "node": "appliance-test/node:latest",
    "static": "appliance-test/bookworm:latest",
    "go": "appliance-test/go:latest",
    "go-run": "appliance-test/bookworm:latest",
}
HOST_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
NO_PROXY = "appliance-e2e.invalid"


def appliance(*argv: str) -> subprocess.CompletedProcess[str]:
    result = sh("appliance", *argv)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def local_bases(installed: None) -> Iterator[None]:
    """builder-auto's base images set to the local ones for these tests, then restored;
    and a no_proxy build setting, to see that proxy settings stay out of the images."""
    for image in set(LOCAL_BASES.values()):
        if sh("docker", "image", "inspect", image).returncode != 0:
            pytest.fail(f"{image} is missing: run scripts/build-base-image.sh")
    before = json.loads(appliance("builder-auto:report", "--format", "json").stdout)
    no_proxy_before = before["proxy"].get("no_proxy")
    for language, image in LOCAL_BASES.items():
        appliance("builder-auto:set-base", language, image)
    if not no_proxy_before:
        appliance("builder:set-global", "no-proxy", NO_PROXY)
    yield
    for language, found in before["bases"].items():
        if found["origin"] == "set host-wide":
            appliance("builder-auto:set-base", language, found["image"])
        else:
            appliance("builder-auto:set-base", language)
    if not no_proxy_before:
        appliance("builder:set-global", "no-proxy")


def fresh_repo(
    tmp_path: Path, fixture: str, manifest: str, edit: Callable[[str, str], str]
) -> Path:
    """The fixture with its dependency manifest made unique to this run, so the first
    push installs from PyPI or npm for real instead of from Docker's build cache."""
    repo = make_repo(tmp_path, fixture)
    path = repo / manifest
    path.write_text(edit(path.read_text(), secrets.token_hex(4)))
    commit(repo, "unique to this run")
    return repo


def new_app(host: Host, prefix: str) -> str:
    """An app whose default check waits 2 s of uptime instead of 10."""
    app = host.new_app(prefix)
    assert host.ssh("apps:create", app).returncode == 0
    assert host.ssh("checks:set", app, "uptime", "2").returncode == 0
    return app


def push(host: Host, repo: Path, app: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    pushed = host.push(repo, app)
    took = time.monotonic() - started
    assert pushed.returncode == 0, pushed.stderr[-4000:]
    return pushed, took


def timings(pushed: subprocess.CompletedProcess[str]) -> str:
    """The deploy's own timings line; a wait for the host's build slot (another build
    was running) is part of the build time, and says so."""
    line = re.findall(r"Timings: [^\n]*", pushed.stderr)[-1].strip()
    waited = "Waiting for a build slot" in pushed.stderr
    return line + (" (waited for a build slot)" if waited else "")


def deployed_image(host: Host, app: str) -> str:
    return json.loads(host.ssh("apps:report", app, "--format", "json").stdout)["deployed_image"]


def step_result(output: str, instruction: str) -> str:
    """The line after the build step running `instruction` (' ---> Using cache' or not)."""
    lines = [line.removeprefix("remote:").strip() for line in output.splitlines()]
    for n, line in enumerate(lines):
        if re.match(r"Step \d+/\d+ : " + re.escape(instruction) + "$", line):
            return lines[n + 1]
    raise AssertionError(f"no build step {instruction!r} in:\n{output[-3000:]}")


def pem_blocks(text: str) -> set[str]:
    return set(re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S))


def host_only_certificates(base_image: str) -> list[bytes]:
    """A line of each certificate the host's bundle has and the base image's has not
    (the intercepting proxy's CA): none of them may end up in a final image."""
    shipped = sh("docker", "run", "--rm", base_image, "cat", str(HOST_BUNDLE)).stdout
    extra = pem_blocks(HOST_BUNDLE.read_text()) - pem_blocks(shipped)
    assert extra, "the host's bundle has no certificate of its own: nothing to look for"
    found = []
    for block in extra:
        body = "".join(block.splitlines()[1:-1])
        der = base64.b64decode(body)
        found.append(body[64:128].encode())  # a PEM line from the middle of the certificate
        found.append(der[100:160])  # and the same certificate in DER
    return found


def image_files_containing(image: str, needles: list[bytes]) -> list[str]:
    """Every file of the image's filesystem that holds one of `needles`."""
    container = sh("docker", "create", image).stdout.strip()
    try:
        export = subprocess.Popen(["docker", "export", container], stdout=subprocess.PIPE)
        assert export.stdout is not None
        hits = []
        with tarfile.open(fileobj=export.stdout, mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                handle = tar.extractfile(member)
                data = handle.read() if handle else b""
                if any(needle in data for needle in needles):
                    hits.append(member.name)
        assert export.wait() == 0
        return hits
    finally:
        sh("docker", "rm", "-f", container)


def assert_clean_final_image(image: str, base_image: str) -> None:
    """Runs as app (uid 1000) in /app, without the host's CA or proxy settings."""
    probe = sh(
        "docker", "run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
        "id -u; pwd; env; ls /usr/local/share/appliance /app/.appliance-auto 2>&1; true",
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[:2] == ["1000", "/app"], probe.stdout
    for path in ("/usr/local/share/appliance", "/app/.appliance-auto"):
        assert f"cannot access '{path}'" in probe.stdout, f"{path} is in {image}"
    for leak in ("host-ca", "CERT", "CAFILE", "proxy=", "PROXY=", NO_PROXY):
        assert leak not in probe.stdout, f"{leak} in the environment of {image}"
    history = sh("docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    for leak in ("host-ca", "PIP_CERT", "NODE_EXTRA_CA_CERTS", "proxy", NO_PROXY):
        assert leak not in history, f"{leak} in the history of {image}"
    assert image_files_containing(image, host_only_certificates(base_image)) == []


def test_flask_from_pypi_trusts_the_host_ca_only_while_building(
    host: Host, local_bases: None, tmp_path: Path
) -> None:
    app = new_app(host, "auto-py")
    repo = fresh_repo(tmp_path, "auto-flask", "requirements.txt", lambda t, n: f"{t}# run {n}\n")
    first, first_took = push(host, repo, app)
    assert "-----> Using the auto builder (found requirements.txt (python))" in first.stderr
    assert "The host's CA bundle is trusted while dependencies install" in first.stderr
    assert "Proxy settings passed to the build: no_proxy" in first.stderr
    assert re.search(r"Successfully installed .*flask-3", first.stderr)  # from PyPI, now
    assert f"-----> Application deployed: http://{app}.{DOMAIN}/" in first.stderr
    assert host.get(app) == (200, "hello from flask v1\nuid=1000\n")
    assert_clean_final_image(deployed_image(host, app), LOCAL_BASES["python"])

    # A change to the code alone: the dependency layer comes from the cache.
    app_py = repo / "app.py"
    app_py.write_text(app_py.read_text().replace("flask v1", "flask v2"))
    commit(repo, "v2")
    second, second_took = push(host, repo, app)
    assert "Using cache" in step_result(second.stderr, "RUN pip install -r requirements.txt")
    assert "Using cache" not in step_result(second.stderr, "COPY . /src")
    assert host.get(app) == (200, "hello from flask v2\nuid=1000\n")
    print(f"\nauto-flask: first push {first_took:.1f} s, code-only push {second_took:.1f} s")
    print(f"  first: {timings(first)}\n  code-only: {timings(second)}")

    shown = host.ssh("builder-auto:show", app)
    assert shown.returncode == 0, shown.stderr
    assert "FROM appliance-test/python:latest AS deps" in shown.stdout
    assert "COPY requirements.txt ./" in shown.stdout
    ejected = host.ssh("builder-auto:show", app, "--eject").stdout
    assert ".appliance-auto" not in ejected and "host-ca" not in ejected
    built = host.ssh("builder-auto:show", app, "--built").stdout
    assert "COPY .appliance-auto/host-ca.crt" in built
    report = json.loads(host.ssh("builder-auto:report", app, "--format", "json").stdout)
    assert report["last_build"]["language"] == "python"


def test_without_the_host_ca_pip_fails_behind_the_proxy(
    host: Host, local_bases: None, tmp_path: Path
) -> None:
    app = new_app(host, "auto-noca")
    assert host.ssh("builder-auto:set", app, "trust-host-ca", "false").returncode == 0
    repo = fresh_repo(tmp_path, "auto-flask", "requirements.txt", lambda t, n: f"{t}# run {n}\n")
    refused = host.push(repo, app)
    assert refused.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr or "certificate verify" in refused.stderr
    assert "docker build failed" in refused.stderr
    assert "The host's CA bundle is trusted" not in refused.stderr


def test_express_from_npm(host: Host, local_bases: None, tmp_path: Path) -> None:
    app = new_app(host, "auto-js")
    repo = fresh_repo(
        tmp_path, "auto-express", "package.json", lambda t, n: t.replace("fixture:", f"{n}:")
    )
    first, first_took = push(host, repo, app)
    assert "(found package.json and package-lock.json (node))" in first.stderr
    assert "Default web command: package.json's start script" in first.stderr
    assert re.search(r"added \d+ packages", first.stderr)  # from npm, now
    assert host.get(app) == (200, "hello from express v1\nuid=1000\n")
    assert_clean_final_image(deployed_image(host, app), LOCAL_BASES["node"])
    server = repo / "server.js"
    server.write_text(server.read_text().replace("express v1", "express v2"))
    commit(repo, "v2")
    second, second_took = push(host, repo, app)
    assert "Using cache" in step_result(second.stderr, "RUN npm ci --omit=dev")
    assert host.get(app) == (200, "hello from express v2\nuid=1000\n")
    print(f"\nauto-express: first push {first_took:.1f} s, code-only push {second_took:.1f} s")
    print(f"  first: {timings(first)}\n  code-only: {timings(second)}")


def test_static_site(host: Host, local_bases: None, tmp_path: Path) -> None:
    app = new_app(host, "auto-web")
    repo = make_repo(tmp_path, "auto-static")
    pushed, took = push(host, repo, app)
    assert "(found index.html (static site))" in pushed.stderr
    status, body = host.get(app)
    assert status == 200 and "<p>hello from static v1</p>" in body
    print(f"\nauto-static: first push {took:.1f} s\n  {timings(pushed)}")


def test_go_stdlib_server(host: Host, local_bases: None, tmp_path: Path) -> None:
    app = new_app(host, "auto-go")
    repo = make_repo(tmp_path, "auto-go")
    first, first_took = push(host, repo, app)
    assert "(found go.mod (go))" in first.stderr
    assert "Base image (run): appliance-test/bookworm:latest (set host-wide)" in first.stderr
    assert host.get(app) == (200, "hello from go v1\nuid=1000\n")
    image = deployed_image(host, app)
    listed = sh("docker", "run", "--rm", image, "sh", "-c", "ls bin; command -v go || echo none")
    assert listed.stdout.split() == ["autogo", "none"]  # the binary, and no Go toolchain
    assert_clean_final_image(image, LOCAL_BASES["go"])
    main = repo / "main.go"
    main.write_text(main.read_text().replace("go v1", "go v2"))
    commit(repo, "v2")
    second, second_took = push(host, repo, app)
    assert "Using cache" in step_result(second.stderr, "RUN go build -trimpath std")
    assert "Using cache" in step_result(second.stderr, "RUN go mod download")
    assert host.get(app) == (200, "hello from go v2\nuid=1000\n")
    print(f"\nauto-go: first push {first_took:.1f} s, code-only push {second_took:.1f} s")
    print(f"  first: {timings(first)}\n  code-only: {timings(second)}")
