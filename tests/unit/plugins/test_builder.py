"""The builder plugin: which builder builds a source tree, and reusing identical builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance.boot import open_appliance
from appliance.deploy import Deploy
from appliance.errors import UserError
from appliance.markers import hookimpl
from appliance.output import Output
from appliance.state import App


class FakeBuilders:
    """Two builders and an image store, registered beside the built-in plugins."""

    def __init__(self) -> None:
        self.built: list[str] = []
        self.images: set[str] = set()

    @hookimpl
    def appliance_builder_detect(self, deploy: Deploy) -> dict[str, Any]:
        return {"builder": "fake", "priority": 5, "reason": "found fake.txt"}

    @hookimpl(tryfirst=True)
    def appliance_build(self, deploy: Deploy) -> str | None:
        if deploy.builder != "fake":
            return None
        self.built.append(deploy.image_tag)
        self.images.add(deploy.image_tag)
        return deploy.image_tag

    @hookimpl(tryfirst=True)
    def appliance_image_exists(self, image: str) -> bool:
        return image in self.images


@pytest.fixture
def job(root: Path) -> Deploy:
    app = App("hello")
    app.path.mkdir(parents=True)
    app.settings.set("core", "id", "0123456789abcdef")
    appliance = open_appliance(Output())
    source = root / "src"
    source.mkdir()
    return Deploy(
        app=app, out=appliance.out, id=3, release=1, user="alice", appliance=appliance,
        source_dir=source, tree="t" * 40,
    )  # fmt: skip


def test_hook_appliance_build_source(job: Deploy) -> None:
    fake = FakeBuilders()
    job.appliance.registry.load_all()
    job.appliance.registry.pm.register(fake, name="fake-builders")
    image = job.appliance.hook.appliance_build_source(deploy=job)
    assert image == "appliance/hello-0123456789abcdef:build-3" and fake.built == [image]
    assert job.builder == "fake"
    last = job.app.settings.get("builder", "last")
    assert last == {"builder": "fake", "reason": "found fake.txt"}
    job.id = 4
    again = job.appliance.hook.appliance_build_source(deploy=job)
    assert again == image and fake.built == [image], "same tree and settings: reused"
    fake.images.clear()
    job.id = 5
    assert job.appliance.hook.appliance_build_source(deploy=job).endswith(":build-5")


def test_a_pinned_builder_that_is_missing_fails_clearly(job: Deploy) -> None:
    job.app.settings.set("builder", "selected", "nothing")
    job.appliance.registry.load_all()
    job.appliance.registry.pm.register(FakeBuilders(), name="fake-builders")
    with pytest.raises(UserError, match="builder 'nothing' is not installed or did not build"):
        job.appliance.hook.appliance_build_source(deploy=job)
