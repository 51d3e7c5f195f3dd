"""One-off containers of a deploy's image: release and predeploy phases."""

from __future__ import annotations

from typing import Any

from appliance.deploy import Deploy
from appliance.hooks import Hooks
from appliance.state import App

from . import containers as c
from .options import create_container, start_container


def run(deploy: Deploy, command: str, commit: bool) -> dict[str, Any]:
    engine = c.client(timeout=3600)
    import secrets

    # Unique even when several one-offs of one deploy run at once (cron entries).
    count = len(deploy.extra.setdefault("oneoff", []))
    name = f"{deploy.app.name}.run.{deploy.id}.{count}-{secrets.token_hex(2)}"
    deploy.extra["oneoff"].append(name)
    assert deploy.hooks is not None and deploy.image is not None
    container = create_container(
        engine,
        deploy.hooks,
        deploy.app,
        deploy.image,
        process="run",
        phase="run",
        command=["/bin/sh", "-c", command],
        name=name,
        environment={**deploy.env, "PORT": str(c.CONTAINER_PORT)},
        labels={
            c.LABEL_APP: deploy.app.name,
            c.LABEL_APP_ID: deploy.app.identity(),
            c.LABEL_DEPLOY: str(deploy.id),
            c.LABEL_PROCESS: "run",
        },
        init=True,
    )
    try:
        start_container(container, deploy.hooks, deploy.app, "run")
        for chunk in container.logs(stream=True, follow=True):
            for line in chunk.decode(errors="replace").splitlines():
                deploy.out.info(line)
        exit_code = int(container.wait().get("StatusCode", 1))
        image = None
        if commit and exit_code == 0:
            original = engine.images.get(deploy.image).attrs.get("Config", {})
            tag = f"build-{deploy.id}-predeploy"
            repository = deploy.app.image_repository()
            container.commit(
                repository=repository,
                tag=tag,
                conf={"Cmd": original.get("Cmd"), "Entrypoint": original.get("Entrypoint")},
            )
            image = f"{repository}:{tag}"
        return {"exit_code": exit_code, "image": image}
    finally:
        container.remove(force=True)


def _one_off(engine: Any, app: str, image: str, env: dict[str, str], argv: list[str],
             hooks: Hooks | None = None, **options: Any) -> Any:  # fmt: skip
    """A container for `run`: one argument is a shell line, several are an argv. It
    gets what plugins add to every container (mounts, limits, networks), phase "run"."""
    import secrets

    return create_container(
        engine,
        _hooks(hooks),
        App(app),
        image,
        process="run",
        phase="run",
        command=["/bin/sh", "-c", argv[0]] if len(argv) == 1 else argv,
        name=f"{app}.run.{secrets.token_hex(3)}",
        environment={**env, "PORT": str(c.CONTAINER_PORT)},
        labels={c.LABEL_APP: app, c.LABEL_APP_ID: App(app).identity(), c.LABEL_PROCESS: "run"},
        init=True,
        **options,
    )


def _hooks(hooks: Hooks | None) -> Hooks:
    if hooks is None:
        from appliance.output import Output
        from appliance.registry import Registry

        return Hooks(Registry(), Output())
    return hooks


def start_one_off(container: Any, app: str, hooks: Hooks | None = None) -> None:
    """Start a one-off container, its mounts verified again now (`start_container`)."""
    start_container(container, _hooks(hooks), App(app), "run")


def run_attached(app: str, image: str, env: dict[str, str], argv: list[str], out: Any,
                 hooks: Hooks | None = None) -> int:  # fmt: skip
    """`run APP CMD`: a one-off container of the current release; its output streams
    to the caller and its exit status is returned."""
    engine = c.client(timeout=86400)
    container = _one_off(engine, app, image, env, argv, hooks)
    try:
        start_one_off(container, app, hooks)
        for chunk in container.logs(stream=True, follow=True):
            out.stream.write(chunk.decode(errors="replace"))
            out.stream.flush()
        return int(container.wait().get("StatusCode", 1))
    finally:
        container.remove(force=True)


def run_detached(app: str, image: str, env: dict[str, str], argv: list[str],
                 hooks: Hooks | None = None) -> str:  # fmt: skip
    container = _one_off(c.client(), app, image, env, argv, hooks, auto_remove=True)
    try:
        start_one_off(container, app, hooks)
    except BaseException:
        container.remove(force=True)
        raise
    return str(container.name)
