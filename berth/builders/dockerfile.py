"""The ``dockerfile`` builder: the app ships its own ``Dockerfile``.

The build context is the source tree minus ``.git`` and whatever the app's ``.dockerignore``
lists. The build never pulls (there may be no registry): every ``FROM`` image must already
exist locally, e.g. ``berth/stack-python:bookworm`` (see ``berth stacks:build``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from berth.builders.base import (
    BuildContext,
    api_client,
    build_labels,
    container_limits,
    run_build,
)
from berth.errors import EngineError

#: Always left out of a build context.
ALWAYS_EXCLUDE = (".git",)


def read_dockerignore(src: Path) -> list[str]:
    """The patterns of ``src/.dockerignore`` (comments and blank lines dropped)."""
    path = src / ".dockerignore"
    if not path.is_file():
        return []
    lines = (ln.strip() for ln in path.read_text(errors="replace").splitlines())
    return [ln for ln in lines if ln and not ln.startswith("#")]


def context_excludes(src: Path, extra: tuple[str, ...] = ()) -> list[str]:
    return [*read_dockerignore(src), *ALWAYS_EXCLUDE, *extra]


def context_tar(
    src: Path,
    *,
    dockerfile: str = "Dockerfile",
    extra_files: Mapping[str, str] | None = None,
    exclude: list[str] | None = None,
) -> IO[bytes]:
    """A tar of ``src`` (minus ``exclude``) plus ``extra_files`` (name -> text), which win over
    files of the same name. ``src`` itself is never written to."""
    from docker.utils.build import create_archive, exclude_paths

    patterns = list(exclude if exclude is not None else context_excludes(src))
    files = sorted(exclude_paths(str(src), patterns, dockerfile=dockerfile))
    extras = list((extra_files or {}).items())
    f: IO[bytes] = create_archive(root=str(src), files=files, extra_files=extras)
    f.seek(0)
    return f


def first_tcp_port(exposed: Mapping[str, Any] | None) -> int | None:
    """The lowest TCP port in an image's ``Config.ExposedPorts`` ({"5000/tcp": {}})."""
    ports = []
    for key in exposed or {}:
        num, _, proto = str(key).partition("/")
        if (proto or "tcp") == "tcp" and num.isdigit():
            ports.append(int(num))
    return min(ports) if ports else None


def exposed_port(image: str, *, api: Any = None) -> int | None:
    """The first TCP port the image EXPOSEs, so the deployer can default PORT to it."""
    import docker.errors

    api = api or api_client()
    try:
        attrs = api.inspect_image(image)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.DockerException as e:
        raise EngineError(f"inspecting image {image}: {e}") from None
    return first_tcp_port((attrs.get("Config") or {}).get("ExposedPorts"))


class DockerfileBuilder:
    name = "dockerfile"

    def __init__(self, api: Any = None) -> None:
        self._api = api

    def detect(self, src: Path) -> bool:
        return (src / "Dockerfile").is_file()

    def build(self, ctx: BuildContext) -> str:
        api = self._api or api_client()
        ctx.out(f"-----> Building {ctx.app} from its Dockerfile")
        with context_tar(ctx.src) as tar:
            return run_build(
                api, out=ctx.out, tag=ctx.image_tag, fileobj=tar, dockerfile="Dockerfile",
                labels=build_labels(ctx, self.name), buildargs=ctx.build_args,
                limits=container_limits(ctx.memory, ctx.cpus), nocache=ctx.no_cache,
                what=ctx.image_tag,
            )
