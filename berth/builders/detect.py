"""Choosing a builder: the app's forced choice, else the first in BUILDER_ORDER whose
``detect`` says yes.

    dockerfile   a Dockerfile at the root
    buildpack    python (requirements.txt / pyproject.toml), node (package.json),
                 static (index.html / public/), in that order
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from berth.builders.base import Builder
from berth.builders.buildpack import BuildpackBuilder
from berth.builders.dockerfile import DockerfileBuilder
from berth.errors import BuildError, ValidationError

BUILDER_ORDER = ["dockerfile", "buildpack"]

BUILDERS: dict[str, Callable[[], Builder]] = {
    "dockerfile": DockerfileBuilder,
    "buildpack": BuildpackBuilder,
}

#: What each builder's detect() looks for, for error messages.
LOOKED_FOR = {
    "dockerfile": "Dockerfile",
    "buildpack": "requirements.txt or pyproject.toml (python), package.json (node), "
                 "index.html or public/ (static)",
}


def get_builder(name: str) -> Builder:
    factory = BUILDERS.get(name)
    if factory is None:
        raise ValidationError(f"unknown builder {name!r}: choose from {', '.join(BUILDERS)}")
    return factory()


def select_builder(src: Path, forced: str | None = None) -> Builder:
    """The builder for ``src``. A forced builder must still find what it needs."""
    if forced:
        builder = get_builder(forced)
        if not builder.detect(src):
            raise BuildError(f"the {forced} builder was chosen for this app but cannot build it:"
                             f" looked for {LOOKED_FOR.get(forced, forced)}")
        return builder
    for name in BUILDER_ORDER:
        builder = get_builder(name)
        if builder.detect(src):
            return builder
    looked = ", ".join(LOOKED_FOR[n] for n in BUILDER_ORDER)
    raise BuildError(f"no builder can build this app: looked for {looked} "
                     "at the root of the pushed tree")
