"""The one place berth talks to the Docker engine. Specs are built as data elsewhere;
this module runs them and turns engine failures into EngineError."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from berth.errors import EngineError

LABEL = "berth.app"
INSTANCE = "berth.instance"


@functools.lru_cache(maxsize=1)
def client() -> Any:
    import docker

    try:
        c = docker.from_env(timeout=120)
        c.ping()
    except Exception as e:  # docker raises many unrelated types here
        raise EngineError(f"cannot reach the Docker engine: {e}") from None
    return c


@contextmanager
def errors(doing: str) -> Iterator[None]:
    import docker.errors
    import requests.exceptions

    try:
        yield
    except docker.errors.DockerException as e:
        raise EngineError(f"{doing}: {e}") from None
    except requests.exceptions.ConnectionError:  # the engine went away (stopped, restarting)
        raise EngineError(f"{doing}: cannot reach the Docker engine") from None


def containers(app: str | None = None, *, all: bool = True) -> list[Any]:
    from berth.instance import prefix

    flt = {"label": [f"{LABEL}={app}" if app else LABEL, f"{INSTANCE}={prefix()}"]}
    with errors("listing containers"):
        return list(client().containers.list(all=all, filters=flt))


def ensure_network(name: str, labels: dict[str, str]) -> None:
    """A bridge network per app. Its /24 comes from berth's own pool (BERTH_NETWORK_POOL,
    default 10.213.0.0/16): Docker's default pools hold only about 30 networks."""
    import docker.errors

    with errors(f"creating network {name}"):
        try:
            client().networks.get(name)
            return
        except docker.errors.NotFound:
            pass
        for subnet in free_subnets():
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
            try:
                client().networks.create(name, driver="bridge", labels=labels, ipam=ipam)
                return
            except docker.errors.APIError as e:
                if "already exists" in str(e):
                    return
                if "overlap" not in str(e):
                    raise
        client().networks.create(name, driver="bridge", labels=labels)


def free_subnets(limit: int = 20) -> list[str]:
    """Candidate /24s of the pool that no Docker network or host route uses yet."""
    import ipaddress
    import os

    pool = ipaddress.ip_network(os.environ.get("BERTH_NETWORK_POOL", "10.213.0.0/16"))
    used = [ipaddress.ip_network(c["Subnet"], strict=False)
            for n in client().api.networks()
            for c in ((n.get("IPAM") or {}).get("Config") or []) if c.get("Subnet")]
    used += host_routes()
    out = []
    for subnet in pool.subnets(new_prefix=max(24, pool.prefixlen)):
        if not any(subnet.overlaps(u) for u in used if u.version == subnet.version):
            out.append(str(subnet))
            if len(out) >= limit:
                break
    return out


def host_routes() -> list[Any]:
    import ipaddress
    import socket
    import struct

    routes = []
    try:
        with open("/proc/net/route") as f:
            next(f)
            for line in f:
                parts = line.split()
                dest = socket.inet_ntoa(struct.pack("<I", int(parts[1], 16)))
                mask = socket.inet_ntoa(struct.pack("<I", int(parts[7], 16)))
                if dest != "0.0.0.0":
                    routes.append(ipaddress.ip_network(f"{dest}/{mask}", strict=False))
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return routes


def remove_network(name: str) -> None:
    import docker.errors

    with errors(f"removing network {name}"):
        try:
            client().networks.get(name).remove()
        except docker.errors.NotFound:
            pass


def create(spec: dict[str, Any]) -> Any:
    with errors(f"creating container {spec.get('name')}"):
        return client().containers.create(**spec)


def container_ip(container: Any, network: str) -> str | None:
    container.reload()
    nets = container.attrs.get("NetworkSettings", {}).get("Networks", {}) or {}
    ip = (nets.get(network) or {}).get("IPAddress")
    return ip or None


def remove(container: Any, *, timeout: int = 10) -> None:
    import docker.errors

    try:
        if container.status in ("running", "restarting", "paused"):
            container.stop(timeout=timeout)
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as e:
        if "already in progress" not in str(e) and "No such container" not in str(e):
            raise EngineError(f"removing {container.name}: {e}") from None


def logs_tail(container: Any, lines: int = 20) -> str:
    import docker.errors
    import requests.exceptions

    try:
        return container.logs(tail=lines).decode(errors="replace")
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return ""


def failure(e: BaseException) -> str | None:
    """A plain message for an engine error that escaped ``errors()`` (the engine stopped or
    restarted in the middle of a command), or None if ``e`` is something else."""
    import sys

    if "docker" not in sys.modules:  # the engine was never called
        return None
    import docker.errors
    import requests.exceptions

    if isinstance(e, requests.exceptions.ConnectionError):
        return "lost the connection to the Docker engine (stopped or restarting?)"
    if isinstance(e, docker.errors.DockerException | requests.exceptions.RequestException):
        return f"the Docker engine failed: {e}"
    return None


def image_exists(ref: str) -> bool:
    import docker.errors

    try:
        client().images.get(ref)
        return True
    except docker.errors.ImageNotFound:
        return False


def image_id(ref: str) -> str:
    with errors(f"inspecting image {ref}"):
        return str(client().images.get(ref).id)


def exec_run(container: Any, argv: list[str], *, timeout: float) -> tuple[int | None, str]:
    """Run argv inside a running container (no shell, no tty): (exit code, output); the code
    is None when it did not finish within timeout seconds."""
    import threading

    import docker.errors

    api = client().api
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            exec_id = api.exec_create(container.id, argv, stdout=True, stderr=True)["Id"]
            result["output"] = api.exec_start(exec_id).decode(errors="replace")
            result["code"] = api.exec_inspect(exec_id).get("ExitCode")
        except docker.errors.DockerException as e:
            result["output"], result["code"] = str(e), -1

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return None, ""
    code = result.get("code")
    return (int(code) if code is not None else -1), str(result.get("output", ""))


def remove_image(ref: str) -> bool:
    """Remove an image by id or tag; False when it is gone already or still in use."""
    import docker.errors

    try:
        client().images.remove(ref, force=True)
        return True
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as e:
        if e.status_code == 409 or "being used" in str(e) or "conflict" in str(e).lower():
            return False
        raise EngineError(f"removing image {ref[:19]}: {e}") from None


def image_ids(repository: str) -> set[str]:
    """Ids of the images tagged in a repository (e.g. `berth/myapp`)."""
    with errors(f"listing images of {repository}"):
        return {str(i.id) for i in client().images.list(name=repository)}
