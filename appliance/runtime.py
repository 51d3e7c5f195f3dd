"""What a scheduler reports of a running release: `Container` and `Target`. A leaf
module: trigger executables' results become these objects without the deploy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """One place that answers web traffic for an app."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class Container:
    """One running process of an app, as a scheduler describes it."""

    id: str
    name: str
    process: str
    deploy_id: int
    address: str | None = None
    port: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Its fields as a dict: what trigger executables receive on stdin (JSON)."""
        return dict(self.__dict__)
