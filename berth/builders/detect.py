"""Choosing a builder: the app's forced choice, else the first (by order) whose ``detect``
says yes. Builders register through the ``builders`` hook (berth/builders/plugin.py for the
built-ins, a plugin for more):

    dockerfile   (10) a Dockerfile at the root
    buildpack    (20) python (requirements.txt / pyproject.toml), node (package.json),
                 static (index.html / public/), in that order

``BUILDERS``, ``BUILDER_ORDER`` and ``LOOKED_FOR`` are read from the hook on each access.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from berth.builders.base import Builder, BuilderInfo
from berth.errors import BuildError, ValidationError


def registered() -> list[BuilderInfo]:
    """Every registered builder, in detection order (first registration of a name wins)."""
    from berth.hooks import manager

    seen: dict[str, BuilderInfo] = {}
    for info in manager.builders():
        seen.setdefault(info.name, info)
    return sorted(seen.values(), key=lambda b: (b.order, b.name))


def __getattr__(name: str) -> Any:
    if name == "BUILDER_ORDER":
        return [b.name for b in registered()]
    if name == "BUILDERS":
        builders: dict[str, Callable[[], Builder]] = {b.name: b.factory for b in registered()}
        return builders
    if name == "LOOKED_FOR":
        return {b.name: b.looked_for for b in registered()}
    raise AttributeError(name)


def get_builder(name: str) -> Builder:
    found = {b.name: b for b in registered()}
    if name not in found:
        raise ValidationError(f"unknown builder {name!r}: choose from {', '.join(found)}")
    return found[name].factory()


def select_builder(src: Path, forced: str | None = None) -> Builder:
    """The builder for ``src``. A forced builder must still find what it needs."""
    if forced:
        builder = get_builder(forced)
        if not builder.detect(src):
            looked = {b.name: b.looked_for for b in registered()}.get(forced, forced)
            raise BuildError(f"the {forced} builder was chosen for this app but cannot build it:"
                             f" looked for {looked}")
        return builder
    order = registered()
    for info in order:
        builder = info.factory()
        if builder.detect(src):
            return builder
    looked = ", ".join(b.looked_for for b in order)
    raise BuildError(f"no builder can build this app: looked for {looked} "
                     "at the root of the pushed tree")
