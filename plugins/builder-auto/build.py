"""The build itself: the generated Dockerfile and the host's CA bundle go into the build
context, and the Docker SDK's classic builder builds it (no registry needed: a base
image present on the host is never pulled; a missing one is pulled by the engine)."""

from __future__ import annotations

import shutil

from appliance_plugins.builder import builds

from appliance import api
from appliance.api import Deploy, UserError, tree

from . import detect, dockerfile


def plan_for(deploy: Deploy) -> detect.Plan | None:
    assert deploy.source_dir is not None
    language = deploy.app.settings.get(dockerfile.TABLE, "language")
    return detect.detect(deploy.source_dir, str(language) if language else None)


def prepare(deploy: Deploy, plan: detect.Plan) -> dockerfile.Rendered:
    """Write the Dockerfile (and the CA bundle, when trusted) into the build context."""
    app, source = deploy.app, deploy.source_dir
    assert source is not None
    work = source / dockerfile.WORK_DIR
    if work.exists() or work.is_symlink():
        raise UserError(
            f"the source has a {dockerfile.WORK_DIR} entry, which builder-auto keeps for its "
            "generated files: rename it, or add a Dockerfile"
        )
    ca_bundle = builds.host_ca_bundle() if dockerfile.flag(app, "trust_host_ca") else None
    rendered = dockerfile.render(app, plan, ca=ca_bundle is not None)
    work.mkdir()
    if rendered.ca:
        assert ca_bundle is not None
        shutil.copyfile(ca_bundle, source / dockerfile.CA_FILE)
    (work / "Dockerfile").write_text(rendered.text)
    ignored = tree.read_text(source, ".dockerignore")
    if ignored is not None:  # whatever it leaves out, the build needs these; a link is
        # replaced by a regular file, never written through
        keep = f"\n!{dockerfile.WORK_DIR}\n!{dockerfile.WORK_DIR}/**\n"
        tree.replace_text(source, ".dockerignore", ignored + keep)
    # The revision goes in the saved copy only: in the build context it would make
    # every push miss Docker's cache from the first `COPY . ` on.
    header = f"# Built from {deploy.rev[:12]}\n" if deploy.rev else ""
    api.atomic_write(dockerfile.saved_path(app), header + rendered.text)
    return rendered


def build_args(deploy: Deploy) -> dict[str, str]:
    """Docker's predefined proxy args: visible to RUN, never kept in the image."""
    return builds.proxy_env() if dockerfile.flag(deploy.app, "pass_proxy") else {}


def missing_images(images: list[str]) -> list[str]:
    import docker
    import docker.errors

    client = docker.from_env()
    try:
        missing = []
        for image in images:
            try:
                client.images.get(image)
            except docker.errors.ImageNotFound:
                missing.append(image)
        return missing
    finally:
        client.close()


def docker_build(deploy: Deploy, labels: dict[str, str], args: dict[str, str]) -> None:
    """Build `deploy.source_dir` with the generated Dockerfile, streaming the output;
    with the host's build limits (`builder:set-global build-timeout|build-memory`)."""
    assert deploy.source_dir is not None
    builds.sdk_build(
        context=deploy.source_dir,
        dockerfile=f"{dockerfile.WORK_DIR}/Dockerfile",
        tag=deploy.image_tag,
        out=deploy.out,
        buildargs=args,
        labels=labels,
        extra=builds.extra_options(deploy),
    )
