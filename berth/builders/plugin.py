"""The built-in builders, registered through the `builders` hook like any plugin's."""

from __future__ import annotations

from berth.builders.base import BuilderInfo
from berth.hooks import hookimpl


@hookimpl
def builders() -> list[BuilderInfo]:
    from berth.builders.buildpack import BuildpackBuilder
    from berth.builders.dockerfile import DockerfileBuilder

    return [
        BuilderInfo("dockerfile", DockerfileBuilder, 10, "Dockerfile"),
        BuilderInfo("buildpack", BuildpackBuilder, 20,
                    "requirements.txt or pyproject.toml (python), package.json (node), "
                    "index.html or public/ (static)"),
    ]
