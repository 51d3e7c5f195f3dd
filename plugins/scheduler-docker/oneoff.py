"""One-off containers of a deploy's image: release and predeploy phases."""

from __future__ import annotations

from typing import Any

from appliance.deploy import Deploy

from . import containers as c


def run(deploy: Deploy, command: str, commit: bool) -> dict[str, Any]:
    engine = c.client(timeout=3600)
    name = f"{deploy.app.name}.run.{deploy.id}.{len(deploy.extra.setdefault('oneoff', []))}"
    deploy.extra["oneoff"].append(name)
    container = c.create(
        engine,
        deploy.image,
        command=["/bin/sh", "-c", command],
        name=name,
        environment={**deploy.env, "PORT": str(c.CONTAINER_PORT)},
        labels={
            c.LABEL_APP: deploy.app.name,
            c.LABEL_DEPLOY: str(deploy.id),
            c.LABEL_PROCESS: "run",
        },
        init=True,
    )
    try:
        container.start()
        for chunk in container.logs(stream=True, follow=True):
            for line in chunk.decode(errors="replace").splitlines():
                deploy.out.info(line)
        exit_code = int(container.wait().get("StatusCode", 1))
        image = None
        if commit and exit_code == 0:
            original = engine.images.get(deploy.image).attrs.get("Config", {})
            tag = f"build-{deploy.id}-predeploy"
            repository = f"appliance/{deploy.app.name}"
            container.commit(
                repository=repository,
                tag=tag,
                conf={"Cmd": original.get("Cmd"), "Entrypoint": original.get("Entrypoint")},
            )
            image = f"{repository}:{tag}"
        return {"exit_code": exit_code, "image": image}
    finally:
        container.remove(force=True)
