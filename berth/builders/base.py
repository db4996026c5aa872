"""What every builder shares: the Builder protocol, the BuildContext handed to it, and the
one function that runs a Docker build and streams its output.

A builder is chosen by name (app setting -> global setting) or by walking
``detect.BUILDER_ORDER``; ``build(ctx)`` produces ``ctx.image_tag`` and returns the image id.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from berth.errors import BuildError, EngineError

#: How many output lines a BuildError carries.
ERROR_TAIL = 15


def _discard(line: str) -> None:
    """Default sink for build output."""


@dataclass(kw_only=True)
class BuildContext:
    """Everything a builder needs. ``src`` is a checked-out tree the builder must not modify."""

    app: str
    src: Path
    image_tag: str
    out: Callable[[str], None] = _discard
    stack_overrides: dict[str, str] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    memory: int | None = None  # bytes, per build step
    cpus: float | None = None  # relative weight (1.0 = one core's share)
    no_cache: bool = False


class Builder(Protocol):
    name: str

    def detect(self, src: Path) -> bool: ...

    def build(self, ctx: BuildContext) -> str: ...


@dataclass(frozen=True)
class BuilderInfo:
    """How a builder registers (the ``builders`` hook): pushes walk builders by ``order``;
    ``looked_for`` says what ``detect`` wants, for the "no builder" error."""

    name: str
    factory: Callable[[], Builder]
    order: int
    looked_for: str


def api_client() -> Any:
    """A low-level ``docker.APIClient`` (no read timeout: builds can be silent for minutes)."""
    import docker

    try:
        return docker.from_env(timeout=600).api
    except docker.errors.DockerException as e:
        raise EngineError(f"cannot reach the Docker engine: {e}") from None


def container_limits(memory: int | None, cpus: float | None) -> dict[str, int]:
    """Build-step limits in the Engine API's terms (``cpus`` becomes a CPU-share weight)."""
    limits: dict[str, int] = {}
    if memory is not None:
        limits["memory"] = int(memory)
        limits["memswap"] = int(memory)
    if cpus is not None:
        limits["cpushares"] = max(2, int(cpus * 1024))
    return limits


def build_labels(ctx: BuildContext, builder: str, **extra: str) -> dict[str, str]:
    labels = {"berth.app": ctx.app, "berth.builder": builder}
    labels.update({f"berth.{k}": v for k, v in extra.items()})
    labels.update(ctx.labels)
    return labels


def split_lines(chunks: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Turn the engine's JSON progress messages into (line, message) pairs, one per text line.
    Messages without text (``aux``) yield an empty line so callers still see them."""
    for msg in chunks:
        text = msg.get("stream") or msg.get("status") or ""
        if not text:
            yield "", msg
            continue
        for line in str(text).splitlines():
            yield line.rstrip(), msg


def run_build(
    api: Any,
    *,
    out: Callable[[str], None],
    tag: str,
    fileobj: IO[bytes],
    dockerfile: str = "Dockerfile",
    custom_context: bool = True,
    labels: Mapping[str, str] | None = None,
    buildargs: Mapping[str, str] | None = None,
    limits: Mapping[str, int] | None = None,
    nocache: bool = False,
    what: str = "image",
) -> str:
    """Run one legacy-builder build, stream every output line to ``out``; return the image id.
    Never pulls (there may be no registry). Failure -> BuildError with the last lines."""
    import docker.errors

    tail: deque[str] = deque(maxlen=ERROR_TAIL)
    image_id = ""
    try:
        stream = api.build(
            fileobj=fileobj, custom_context=custom_context, dockerfile=dockerfile, tag=tag,
            rm=True, forcerm=True, decode=True, pull=False, nocache=nocache,
            labels=dict(labels or {}), buildargs=dict(buildargs or {}),
            container_limits=dict(limits or {}), timeout=None,
        )
        for line, msg in split_lines(stream):
            if "error" in msg or "errorDetail" in msg:
                detail = msg.get("error") or (msg.get("errorDetail") or {}).get("message", "")
                tail.append(str(detail).strip())
                raise BuildError(f"building {what} failed:\n" + "\n".join(tail))
            aux = msg.get("aux")
            if isinstance(aux, dict) and aux.get("ID"):
                image_id = str(aux["ID"])
            if line:
                tail.append(line)
                out(line)
                if line.startswith("Successfully built ") and not image_id:
                    image_id = line.split()[-1]
    except docker.errors.APIError as e:
        raise BuildError(f"building {what} failed: {e.explanation or e}") from None
    except docker.errors.DockerException as e:
        raise EngineError(f"building {what}: {e}") from None
    if not image_id:
        raise BuildError(f"building {what} produced no image:\n" + "\n".join(tail))
    return image_id
