"""builder-auto without Docker: language detection, the rendered Dockerfiles (layer
order, the host CA confined to the build stage, eject), validation of everything
user-controlled that reaches a Dockerfile, the build context it prepares, and the
builder-auto:* commands. The builds themselves run in tests/e2e/test_builder_auto.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from appliance import state
from appliance.boot import open_appliance
from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.output import Output
from appliance.registry import Registry
from appliance.state import App

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "apps"
CA_PATH = "/usr/local/share/appliance/host-ca.crt"


def plugin_module(name: str | None = None) -> ModuleType:
    registry = Registry()
    return registry.import_module(registry.get("builder-auto"), name)


@pytest.fixture
def detect(root: Path) -> ModuleType:
    return plugin_module("detect")


@pytest.fixture
def dockerfile(root: Path) -> ModuleType:
    return plugin_module("dockerfile")


@pytest.fixture
def app(run, root: Path) -> App:
    assert run("apps:create", "hello").code == 0
    return App("hello")


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def fixture(tmp_path: Path, name: str) -> Path:
    source = tmp_path / name
    shutil.copytree(FIXTURES / name, source)
    return source


def deploy_of(app: App, source: Path) -> Deploy:
    appliance = open_appliance(Output(), user="alice")
    return Deploy(
        app=app, out=appliance.out, id=7, release=1, user="alice", appliance=appliance,
        source_dir=source, rev="a" * 40,
    )  # fmt: skip


def choose_builder(job: Deploy) -> None:
    """The builder plugin's choice, as its appliance_build_source makes it."""
    registry = job.appliance.registry
    registry.import_module(registry.get("builder"), "choice").choose_builder(job)


def stages(text: str) -> list[str]:
    """The Dockerfile split at each FROM: the last item is the final stage."""
    parts: list[str] = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            parts.append("")
        if parts:
            parts[-1] += line + "\n"
    return parts


# --- detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "language", "reason"),
    [
        ("auto-flask", "python", "found requirements.txt (python)"),
        ("auto-express", "node", "found package.json and package-lock.json (node)"),
        ("auto-static", "static", "found index.html (static site)"),
        ("auto-go", "go", "found go.mod (go)"),
    ],
)
def test_fixtures_are_detected(detect: ModuleType, name: str, language: str, reason: str) -> None:
    plan = detect.detect(FIXTURES / name)
    assert (plan.language, plan.reason) == (language, reason)


def test_nothing_recognised(detect: ModuleType, tmp_path: Path) -> None:
    assert detect.detect(write(tmp_path / "s", {"README.md": "hi"})) is None


def test_detection_order_and_forced_language(detect: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"index.html": "", "package.json": "{}"})
    assert detect.detect(source).language == "node"
    (source / "requirements.txt").write_text("flask\n")
    assert detect.detect(source).language == "python"
    (source / "go.mod").write_text("module example.com/x\n")
    assert detect.detect(source).language == "go"
    (source / ".static").write_text("")
    assert detect.detect(source).language == "static"
    forced = detect.detect(source, "node")
    assert forced.language == "node" and forced.reason == "found package.json (node)"
    with pytest.raises(UserError, match="unknown language"):
        detect.detect(source, "cobol")
    with pytest.raises(UserError, match=r"needs a go\.mod"):
        detect.detect(write(tmp_path / "empty", {}), "go")


def test_python_requirements_follow_includes(detect: ModuleType, tmp_path: Path) -> None:
    source = write(
        tmp_path / "s",
        {
            "requirements.txt": "-r requirements/base.txt\n-c constraints.txt\nrequests  # http\n",
            "requirements/base.txt": "gunicorn==22.0\n",
            "constraints.txt": "urllib3<3\n",
            "app.py": "",
        },
    )
    plan = detect.detect(source)
    assert plan.installer == "pip-requirements" and not plan.deps_after_code
    assert plan.manifests == ["requirements.txt", "requirements/base.txt", "constraints.txt"]
    assert plan.cmd == ["/bin/sh", "-c", "exec gunicorn --bind 0.0.0.0:${PORT:-5000} app:app"]


@pytest.mark.parametrize(
    "line", ["-e .", ".", "./libs/thing", "file:///x", "--find-links wheels", "-r ../outside.txt"]
)
def test_python_local_requirements_copy_the_code_first(
    detect: ModuleType, tmp_path: Path, line: str
) -> None:
    plan = detect.detect(write(tmp_path / "s", {"requirements.txt": f"flask\n{line}\n"}))
    assert plan.deps_after_code


def test_python_default_command(detect: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"requirements.txt": "flask\n"})
    assert "Procfile" in detect.detect(source).cmd[-1]  # nothing to start: says so
    (source / "main.py").write_text("")
    assert detect.detect(source).cmd == ["python", "main.py"]
    (source / "requirements.txt").write_text("Gunicorn[gevent]>=21\n")
    (source / "wsgi.py").write_text("")
    assert detect.detect(source).cmd[-1].endswith("gunicorn --bind 0.0.0.0:${PORT:-5000} wsgi")
    (source / "requirements.txt").write_text("gunicorn-extras\n")  # another package
    assert detect.detect(source).cmd == ["python", "main.py"]


def test_python_pyproject_pip_and_uv(detect: ModuleType, tmp_path: Path) -> None:
    source = write(
        tmp_path / "s",
        {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask"]\n', "app.py": ""},
    )
    plan = detect.detect(source)
    assert (plan.installer, plan.manifests, plan.install_project) == (
        "pip-pyproject",
        ["pyproject.toml"],
        False,
    )
    (source / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[build-system]\nrequires = ["hatchling"]\n'
    )
    (source / "uv.lock").write_text("version = 1\n")
    plan = detect.detect(source)
    assert plan.installer == "uv" and plan.install_project
    assert plan.manifests == ["pyproject.toml", "uv.lock"]
    assert plan.reason == "found pyproject.toml and uv.lock (python, uv)"
    (source / "uv.lock").unlink()
    (source / "pyproject.toml").write_text('[tool.poetry]\nname = "x"\n')
    with pytest.raises(UserError, match=r"no \[project\] table"):
        detect.detect(source)
    (source / "pyproject.toml").write_text("not toml [")
    with pytest.raises(UserError, match=r"cannot read pyproject\.toml"):
        detect.detect(source)


def test_node_package_managers(detect: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"package.json": '{"scripts": {"start": "node a.js"}}'})
    plan = detect.detect(source)
    assert (plan.package_manager, plan.install, plan.manifests) == (
        "npm",
        "npm install --omit=dev",
        ["package.json"],
    )
    assert plan.cmd == ["npm", "start"]
    (source / "yarn.lock").write_text("")
    plan = detect.detect(source)
    assert plan.install == "yarn install --frozen-lockfile --production"
    assert plan.pm_setup == "npm install -g yarn@1"
    (source / "yarn.lock").unlink()
    (source / "pnpm-lock.yaml").write_text("")
    (source / "package.json").write_text(
        json.dumps({"packageManager": "pnpm@9.1.0+sha512.abc", "scripts": {"build": "tsc"}})
    )
    plan = detect.detect(source)
    assert plan.install == "pnpm install --frozen-lockfile" and plan.build_script
    assert plan.prune == "pnpm prune --prod"
    assert "corepack prepare pnpm@9.1.0 --activate" in plan.pm_setup
    (source / "package.json").write_text(json.dumps({"packageManager": "pnpm@9; rm -rf /"}))
    assert detect.detect(source).pm_setup == "npm install -g pnpm"  # never the raw field


def test_node_install_scripts_need_the_code(detect: ModuleType, tmp_path: Path) -> None:
    package = {"scripts": {"postinstall": "node setup.js"}, "main": "./lib/server.js"}
    source = write(
        tmp_path / "s",
        {"package.json": json.dumps(package), "package-lock.json": "{}", "lib/server.js": ""},
    )
    plan = detect.detect(source)
    assert plan.deps_after_code and plan.install == "npm ci" and plan.prune
    assert plan.cmd == ["node", "lib/server.js"]
    (source / "package.json").write_text(json.dumps({"main": "../../etc/passwd"}))
    assert "Procfile" in detect.detect(source).cmd[-1]
    (source / "package.json").write_text("[]")
    with pytest.raises(UserError, match="JSON object"):
        detect.detect(source)


def test_static_root(detect: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "s", {".static": "public/\n", "public/index.html": ""})
    plan = detect.detect(source)
    assert plan.root == "public" and "-h /app/public" in plan.cmd[-1]
    for bad in ("../etc", "a b", "-rf", "x/../../y"):
        (source / ".static").write_text(bad + "\n")
        with pytest.raises(UserError, match="not a plain relative path"):
            detect.detect(source)
    (source / ".static").write_text("missing\n")
    with pytest.raises(UserError, match="not in the source"):
        detect.detect(source)


def test_go_binary_names(detect: ModuleType, tmp_path: Path) -> None:
    main = "package main\nfunc main() {}\n"
    source = write(tmp_path / "s", {"go.mod": "module example.com/tool/v2\n", "main.go": main})
    assert detect.detect(source).cmd == ["/app/bin/tool"]
    assert detect.detect(source).manifests == ["go.mod"]
    (source / "go.sum").write_text("")
    (source / "main.go").write_text("package tool\n")
    write(source, {"cmd/server/main.go": main})
    plan = detect.detect(source)
    assert plan.cmd == ["/app/bin/server"] and plan.manifests == ["go.mod", "go.sum"]
    write(source, {"cmd/worker/main.go": main})
    assert "Procfile" in detect.detect(source).cmd[-1]  # two commands: the Procfile says
    (source / "go.mod").write_text('module "example.com/we ird"\n')
    (source / "main.go").write_text(main)
    assert detect.detect(source).binary is None


# --- rendering --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["auto-flask", "auto-express", "auto-go"])
def test_dependencies_install_before_the_code_and_the_ca_stays_in_the_build_stage(
    detect: ModuleType, dockerfile: ModuleType, app: App, name: str
) -> None:
    plan = detect.detect(FIXTURES / name)
    text = dockerfile.render(app, plan, ca=True).text
    first, *_, final = stages(text)
    manifests = f"COPY {' '.join(plan.manifests)} ./"
    assert manifests in first
    install = first.index(manifests)
    assert first.index(f"COPY .appliance-auto/host-ca.crt {CA_PATH}") < install
    assert "COPY . " not in first[:install]  # the code comes after the install
    for leak in ("host-ca", "CERT", "CAFILE", "PROXY", "proxy", "AS "):
        assert leak not in final.split("\n", 1)[1], f"{leak} in the final stage"
    assert "USER app" in final and "WORKDIR /app" in final and "ENV " in final
    assert f"CMD {json.dumps(plan.cmd)}" in final


def test_without_trust_or_ejected_there_is_no_ca(
    detect: ModuleType, dockerfile: ModuleType, app: App
) -> None:
    plan = detect.detect(FIXTURES / "auto-flask")
    plain = dockerfile.render(app, plan, ca=False).text
    assert "host-ca" not in plain and "PIP_CERT" not in plain
    assert "RUN rm -rf /src/.appliance-auto" in plain
    ejected = dockerfile.render(app, plan, ca=True, eject=True)
    assert not ejected.ca
    assert ".appliance-auto" not in ejected.text and "host-ca" not in ejected.text
    assert "Ejected: save this file as Dockerfile" in ejected.text


def test_static_has_no_dependency_stage(
    detect: ModuleType, dockerfile: ModuleType, app: App
) -> None:
    rendered = dockerfile.render(app, detect.detect(FIXTURES / "auto-static"), ca=True)
    assert not rendered.ca and "host-ca" not in rendered.text
    assert rendered.bases == {"static": "busybox:stable"}
    assert [s.split("\n")[0] for s in stages(rendered.text)] == [
        "FROM busybox:stable AS source",
        "FROM busybox:stable",
    ]


def test_python_variants_render(
    detect: ModuleType, dockerfile: ModuleType, app: App, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "s",
        {
            "pyproject.toml": '[project]\nname = "x"\n[build-system]\nrequires = ["hatchling"]\n',
            "uv.lock": "",
            ".python-version": "3.11\n",
        },
    )
    rendered = dockerfile.render(app, detect.detect(source), ca=True)
    assert rendered.bases == {"python": "python:3.11-slim"}
    assert "uv sync --locked --no-dev --no-install-project" in rendered.text
    assert "FROM deps AS project" in rendered.text
    assert "COPY --from=project /opt/venv /opt/venv" in rendered.text
    (source / "uv.lock").unlink()
    text = dockerfile.render(app, detect.detect(source), ca=False).text
    assert "tomllib" in text and "pip install --no-deps /app" in text
    (source / "requirements.txt").write_text("-e .\n")
    text = dockerfile.render(app, detect.detect(source), ca=False).text
    assert "COPY . /app\nRUN pip install -r requirements.txt" in text


def test_node_with_a_build_script_prunes_after_building(
    detect: ModuleType, dockerfile: ModuleType, app: App, tmp_path: Path
) -> None:
    package = {
        "scripts": {"build": "vite build", "start": "node s.js"},
        "engines": {"node": "18.x"},
    }
    source = write(tmp_path / "s", {"package.json": json.dumps(package), "package-lock.json": ""})
    rendered = dockerfile.render(app, detect.detect(source), ca=True)
    assert rendered.bases == {"node": "node:18-slim"}
    text = rendered.text
    assert "RUN npm ci\n" in text and "RUN npm run build" in text
    assert text.index("RUN npm run build") < text.index("RUN npm prune --omit=dev")
    assert "COPY --from=build --chown=app:app /app /app" in stages(text)[-1]


@pytest.mark.parametrize(
    ("engine", "base"),
    [("^22.1.0", "node:22-slim"), (">=18", "node:20-slim"), (">=21", "node:21-slim"),
     ("20", "node:20-slim"), (">=18 <21", "node:20-slim"), ("lts/*", "node:20-slim")],
)  # fmt: skip
def test_engines_node_picks_the_default_image(
    detect: ModuleType, dockerfile: ModuleType, tmp_path: Path, root: Path, engine: str, base: str
) -> None:
    source = write(tmp_path / "s", {"package.json": json.dumps({"engines": {"node": engine}})})
    assert dockerfile.base_image(None, "node", detect.detect(source))[0] == base


def test_base_images_settings_win_over_defaults(
    detect: ModuleType, dockerfile: ModuleType, app: App
) -> None:
    plan = detect.detect(FIXTURES / "auto-go")
    assert dockerfile.render(app, plan, ca=False).bases == {
        "go": "golang:1.22",
        "go-run": "debian:bookworm-slim",
    }
    state.global_settings().set("builder-auto", "base_go", "registry.local:5000/go:1.22")
    app.settings.set("builder-auto", "base_go_run", "gcr.io/distroless/static-debian12")
    rendered = dockerfile.render(app, plan, ca=False)
    assert rendered.origins == {"go": "set host-wide", "go-run": "set for the app"}
    assert "FROM registry.local:5000/go:1.22 AS build" in rendered.text
    assert "FROM gcr.io/distroless/static-debian12\n" in rendered.text
    state.global_settings().set("builder-auto", "base_go", "evil\nRUN curl x | sh")
    with pytest.raises(UserError, match="invalid image"):
        dockerfile.render(app, plan, ca=False)


@pytest.mark.parametrize(
    "image",
    ["python:3.12-slim", "node", "registry.example.com:5000/team/py:3.12", "a/b/c:1_0.x",
     "debian@sha256:" + "a" * 64, "gcr.io/distroless/static-debian12:nonroot"],
)  # fmt: skip
def test_image_references_accepted(dockerfile: ModuleType, image: str) -> None:
    assert dockerfile.image_ref(image) == image


@pytest.mark.parametrize(
    "image",
    ["", "Python:3", "python:3 AS x", "python\nRUN id", "python:3;id", "-python", "py/../x",
     "python:", "python:3.12$(id)", "python:3.12'", "a" * 256, "python:3\tx"],
)  # fmt: skip
def test_image_references_refused(dockerfile: ModuleType, image: str) -> None:
    with pytest.raises(UserError, match="invalid image"):
        dockerfile.image_ref(image)


def test_a_template_override_for_the_app_is_used(
    detect: ModuleType, dockerfile: ModuleType, app: App, root: Path
) -> None:
    override = app.path / "templates" / "build" / "static.Dockerfile.j2"
    override.parent.mkdir(parents=True)
    override.write_text("FROM {{ base }}\nCOPY . /usr/share/nginx/html\n")
    text = dockerfile.render(app, detect.detect(FIXTURES / "auto-static"), ca=False).text
    assert text == "FROM busybox:stable\nCOPY . /usr/share/nginx/html\n"


# --- hooks and the build context ------------------------------------------------------


def test_hook_appliance_builder_detect_auto(app: App, tmp_path: Path) -> None:
    hooks = plugin_module()
    job = deploy_of(app, fixture(tmp_path, "auto-flask"))
    assert hooks.appliance_builder_detect(job) == {
        "builder": "auto",
        "priority": 90,
        "reason": "found requirements.txt (python)",
    }
    assert hooks.appliance_builder_detect(deploy_of(app, write(tmp_path / "x", {}))) is None
    app.settings.set("builder-auto", "language", "static")
    found = hooks.appliance_builder_detect(deploy_of(app, write(tmp_path / "y", {})))
    assert found["reason"] == "language set to static"


def test_a_dockerfile_or_buildpacks_win_over_auto(app: App, tmp_path: Path) -> None:
    source = fixture(tmp_path, "auto-express")
    job = deploy_of(app, source)
    choose_builder(job)
    assert job.builder == "auto"
    (source / "Dockerfile").write_text("FROM scratch\n")
    choose_builder(job)
    assert job.builder == "dockerfile"


def test_detection_never_fails_a_deploy_another_builder_can_build(app: App, tmp_path: Path) -> None:
    """Manifests are only parsed by the build: a broken one never stops a Dockerfile."""
    source = write(tmp_path / "s", {"package.json": "{broken", "Dockerfile": "FROM scratch\n"})
    job = deploy_of(app, source)
    found = plugin_module().appliance_builder_detect(job)
    assert found["reason"] == "found package.json (node)"
    choose_builder(job)
    assert job.builder == "dockerfile"
    app.settings.set("builder-auto", "language", "go")  # no go.mod: the build will say
    assert plugin_module().appliance_builder_detect(job)["reason"] == "language set to go"


def test_a_pyproject_of_tool_settings_is_not_a_python_app(
    detect: ModuleType, tmp_path: Path
) -> None:
    source = write(tmp_path / "s", {"pyproject.toml": "[tool.ruff]\n", "package.json": "{}"})
    assert detect.detect(source).language == "node"
    (source / "package.json").unlink()
    assert detect.detect(source) is None
    (source / "pyproject.toml").write_text('[tool.poetry]\nname = "x"\n')
    assert detect.sniff(source) == ("python", "found pyproject.toml (python, pip)")


def test_hook_appliance_build_is_only_for_auto(app: App, tmp_path: Path) -> None:
    job = deploy_of(app, fixture(tmp_path, "auto-flask"))
    job.builder = "dockerfile"
    assert plugin_module().appliance_build(job) is None
    job.builder = "auto"
    job.source_dir = write(tmp_path / "nothing", {})
    with pytest.raises(UserError, match="found nothing to build"):
        plugin_module().appliance_build(job)


def test_the_build_context_gets_the_dockerfile_and_the_ca(
    app: App, tmp_path: Path, root: Path
) -> None:
    build, detect = plugin_module("build"), plugin_module("detect")
    pem = "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n"
    bundle = write(tmp_path / "ca", {"bundle.pem": pem})
    state.global_settings().set("builder", "ca_bundle", str(bundle / "bundle.pem"))
    state.global_settings().set("builder", "http_proxy", "http://proxy.example:3128")
    source = fixture(tmp_path, "auto-flask")
    (source / ".dockerignore").write_text(".*\n")
    job = deploy_of(app, source)
    rendered = build.prepare(job, detect.detect(source))
    assert rendered.ca
    assert (source / ".appliance-auto" / "host-ca.crt").read_text().startswith("-----BEGIN")
    written = (source / ".appliance-auto" / "Dockerfile").read_text()
    assert written == rendered.text and "Built from" not in written  # the cache stays valid
    saved = (app.path / "builder-auto" / "Dockerfile").read_text()
    assert saved == "# Built from aaaaaaaaaaaa\n" + written
    from docker.utils.build import exclude_paths

    patterns = [p for p in (source / ".dockerignore").read_text().splitlines() if p]
    sent = exclude_paths(str(source), patterns, dockerfile=".appliance-auto/Dockerfile")
    assert {".appliance-auto/host-ca.crt", ".appliance-auto/Dockerfile", "app.py"} <= sent
    assert build.build_args(job) == {
        "http_proxy": "http://proxy.example:3128",
        "HTTP_PROXY": "http://proxy.example:3128",
    }
    app.settings.set("builder-auto", "pass_proxy", False)
    assert build.build_args(job) == {}
    with pytest.raises(UserError, match=r"has a \.appliance-auto entry"):
        build.prepare(job, detect.detect(source))  # never overwrites the source's own


def test_trust_host_ca_off_keeps_the_ca_out_of_the_context(app: App, tmp_path: Path) -> None:
    build, detect = plugin_module("build"), plugin_module("detect")
    app.settings.set("builder-auto", "trust_host_ca", False)
    source = fixture(tmp_path, "auto-flask")
    rendered = build.prepare(deploy_of(app, source), detect.detect(source))
    assert not rendered.ca and not (source / ".appliance-auto" / "host-ca.crt").exists()
    assert "host-ca" not in rendered.text


# --- commands ---------------------------------------------------------------------------


def test_set_base_and_report(run, root: Path) -> None:
    assert run("builder-auto:set-base", "python", "appliance-test/python").code == 0
    data = json.loads(run("builder-auto:report", "--format", "json").out)
    assert data["bases"]["python"] == {"image": "appliance-test/python", "origin": "set host-wide"}
    assert data["bases"]["node"] == {"image": "node:20-slim", "origin": "default"}
    bad = run("builder-auto:set-base", "python", "x y")
    assert bad.code == 1 and "invalid image" in bad.err
    assert run("builder-auto:set-base", "ruby", "ruby:3").code == 2
    assert run("builder-auto:set-base", "python").code == 0
    data = json.loads(run("builder-auto:report", "--format", "json").out)
    assert data["bases"]["python"]["origin"] == "default"
    text = run("builder-auto:report").out
    assert "python:3.12-slim (default)" in text and "Trust host CA" in text


def test_set_per_app(run, app: App) -> None:
    assert run("builder-auto:set", "hello", "trust-host-ca", "false").code == 0
    assert app.settings.get("builder-auto", "trust_host_ca") is False
    assert run("builder-auto:set", "hello", "trust-host-ca", "maybe").code == 1
    assert run("builder-auto:set", "hello", "language", "node").code == 0
    assert run("builder-auto:set", "hello", "language", "perl").code == 1
    assert run("builder-auto:set", "hello", "base-node", "node:22-alpine").code == 0
    assert App("hello").settings.get("builder-auto", "base_node") == "node:22-alpine"
    data = json.loads(run("builder-auto:report", "hello", "--format", "json").out)
    assert data["trust_host_ca"] is False and data["language"] == "node"
    assert data["bases"]["node"] == {"image": "node:22-alpine", "origin": "set for the app"}
    assert run("builder-auto:set", "hello", "trust-host-ca").code == 0
    assert App("hello").settings.get("builder-auto", "trust_host_ca") is None
    assert run("builder-auto:set", "nope", "language", "go").code == 1


def test_report_masks_proxy_credentials(run, root: Path) -> None:
    state.global_settings().set("builder", "https_proxy", "http://me:secret@proxy:3128")
    data = json.loads(run("builder-auto:report", "--format", "json").out)
    assert data["proxy"]["https_proxy"] == "http://***@proxy:3128"


def git(*argv: str | Path) -> str:
    result = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *map(str, argv)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_show_renders_the_deployed_revision(run, app: App, tmp_path: Path) -> None:
    assert "push first" in run("builder-auto:show", "hello").err
    work = fixture(tmp_path, "auto-go")
    git("init", "-q", "-b", "main", work)
    git("-C", work, "add", "-A")
    git("-C", work, "commit", "-q", "-m", "one")
    # fetch into the bare repository: no pre-receive hook, so no deploy
    git("--git-dir", app.path / "repo.git", "fetch", "-q", work, "main:main")
    rev = git("-C", work, "rev-parse", "HEAD")
    from appliance import releases

    releases.record(app, releases.Release(number=1, rev=rev, image="appliance/hello:build-1"))
    app.settings.set("core", "release", 1)  # deployed: its revision is the branch's head
    shown = run("builder-auto:show", "hello")
    assert shown.code == 0, shown.err
    assert shown.out.startswith(f"# Built from {rev[:12]}\n")
    assert 'CMD ["/app/bin/autogo"]' in shown.out
    ejected = run("builder-auto:show", "hello", "--eject").out
    assert ".appliance-auto" not in ejected and "Ejected" in ejected
    assert run("builder-auto:set-base", "go-run", "appliance-test/bookworm").code == 0
    assert "FROM appliance-test/bookworm\n" in run("builder-auto:show", "hello").out
    built = run("builder-auto:show", "hello", "--built")
    assert built.code == 1 and "push first" in built.err
    (app.path / "builder-auto").mkdir()
    (app.path / "builder-auto" / "Dockerfile").write_text("FROM saved\n")
    assert run("builder-auto:show", "hello", "--built").out == "FROM saved\n"


# --- a pushed tree's links ------------------------------------------------------------------


def test_a_dockerignore_link_leaving_the_tree_is_never_written(
    app: App, tmp_path: Path
) -> None:
    build, detect = plugin_module("build"), plugin_module("detect")
    target = write(tmp_path / "state", {"settings.toml": "[core]\nx = 1\n"}) / "settings.toml"
    source = fixture(tmp_path, "auto-flask")
    (source / ".dockerignore").symlink_to(target)
    with pytest.raises(UserError, match=r"\.dockerignore in the pushed source is a symbolic"):
        build.prepare(deploy_of(app, source), detect.detect(source))
    assert target.read_text() == "[core]\nx = 1\n"


def test_a_dockerignore_link_inside_the_tree_is_replaced_not_written_through(
    app: App, tmp_path: Path
) -> None:
    build, detect = plugin_module("build"), plugin_module("detect")
    source = fixture(tmp_path, "auto-flask")
    (source / "ignored.txt").write_text("*.pyc\n")
    (source / ".dockerignore").symlink_to("ignored.txt")
    build.prepare(deploy_of(app, source), detect.detect(source))
    assert (source / "ignored.txt").read_text() == "*.pyc\n"
    assert not (source / ".dockerignore").is_symlink()
    assert (source / ".dockerignore").read_text().startswith("*.pyc\n\n!.appliance-auto\n")


@pytest.mark.parametrize(
    ("name", "files"),
    [
        ("requirements.txt", {}),
        ("package.json", {}),
        ("go.mod", {}),
        ("pyproject.toml", {"uv.lock": ""}),
        ("base.txt", {"requirements.txt": "-r base.txt\n"}),
        ("runtime.txt", {"requirements.txt": "flask\n"}),
        ("main.go", {"go.mod": "module example.com/x\n"}),
    ],
)
def test_manifests_linked_out_of_the_tree_are_refused(
    detect: ModuleType, tmp_path: Path, name: str, files: dict[str, str]
) -> None:
    source = write(tmp_path / "s", files)
    (source / name).symlink_to("/etc/passwd")
    with pytest.raises(UserError) as caught:
        detect.detect(source)
    assert f"{name} in the pushed source is a symbolic link that leaves" in str(caught.value)
    assert "root:" not in str(caught.value)


def test_a_folder_linked_out_of_the_tree_is_refused(detect: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "s", {"go.mod": "module example.com/x\n"})
    (source / "cmd").symlink_to("/etc")
    with pytest.raises(UserError, match="cmd in the pushed source is a symbolic link"):
        detect.detect(source)
