"""The default scheduler: containers on this host's Docker engine, one bridge network per app.

A deploy starts the new release's containers beside the old ones (named `...N.next`), waits
until they pass their checks, lets the caller switch the router, then retires the old ones
and gives the new ones their plain names `berth.APP.TYPE.N`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from berth import checks, engine
from berth.appjson import Check
from berth.errors import DeployError
from berth.instance import prefix
from berth.models import Release
from berth.schedulers import specs

Out = Callable[[str], None]


def runnable_types(release: Release, formation: dict[str, int]) -> dict[str, int]:
    """Process types to run and how many: those with a command (or web from the image's CMD)."""
    out = {}
    for ptype, count in formation.items():
        if count > 0 and (ptype in release.processes or ptype == "web"):
            out[ptype] = count
    return out


def start(release: Release, formation: dict[str, int], app_checks: dict[str, list[Check]],
          out: Out, *, checks_enabled: bool = True) -> list[Any]:
    """Start the release beside what runs now and wait for its checks. On failure every new
    container is removed and DeployError says why; what ran before is untouched."""
    engine.ensure_network(specs.network_name(release.app), {specs.LABEL_APP: release.app})
    _remove_leftovers(release.app, "next")
    new: list[Any] = []
    try:
        for ptype, count in runnable_types(release, formation).items():
            for index in range(1, count + 1):
                spec = specs.process_spec(release, ptype, index, suffix="next")
                container = engine.create(spec)
                new.append(container)
                with engine.errors(f"starting {spec['name']}"):
                    container.start()
        if checks_enabled:
            _wait(release, new, app_checks, out)
    except BaseException:
        for container in new:
            engine.remove(container, timeout=2)
        raise
    return new


def _wait(release: Release, new: list[Any], app_checks: dict[str, list[Check]],
          out: Out) -> None:
    port = specs.port_of(release)
    started = time.monotonic()
    for container in new:
        ptype = container.labels[specs.LABEL_TYPE]
        if ptype != "web":
            continue
        ip = engine.container_ip(container, specs.network_name(release.app))
        if not ip:
            raise DeployError(f"{container.name} has no address on its network")
        out(f"       waiting for {container.name.removesuffix('.next')} to answer on port {port}")
        checks.wait_http(container, ip, port, app_checks.get("web", []), out)
    for container in new:
        if container.labels[specs.LABEL_TYPE] != "web":
            left = max(0.0, 1.5 - (time.monotonic() - started))
            checks.wait_running(container, left)


def finish(app: str, version: int, *, wait: float = 0.0, stop_timeout: int = 10) -> list[str]:
    """After the switch: stop containers of other releases, give new ones their plain names."""
    if wait:
        time.sleep(wait)
    retired = []
    for container in engine.containers(app):
        if container.labels.get(specs.LABEL_ROLE) == "oneoff":
            continue
        if container.labels.get(specs.LABEL_RELEASE) != str(version):
            engine.remove(container, timeout=stop_timeout)
            retired.append(container.name)
    for container in engine.containers(app):
        if container.name.endswith(".next"):
            with engine.errors(f"renaming {container.name}"):
                container.rename(container.name.removesuffix(".next"))
    return retired


def _remove_leftovers(app: str, suffix: str) -> None:
    for container in engine.containers(app):
        if container.name.endswith("." + suffix):
            engine.remove(container, timeout=2)


def remove_release(app: str, version: int) -> None:
    for container in engine.containers(app):
        if container.labels.get(specs.LABEL_RELEASE) == str(version):
            engine.remove(container, timeout=2)


def stop_all(app: str) -> None:
    for container in engine.containers(app):
        engine.remove(container, timeout=10)


def run_oneoff(release: Release, argv: list[str], *, name: str, role: str,
               out: Out) -> int:
    """Run a one-off container to completion, streaming its output; returns its exit code."""
    engine.ensure_network(specs.network_name(release.app), {specs.LABEL_APP: release.app})
    spec = specs.oneoff_spec(release, argv, name=name, role=role)
    _remove_by_name(name)
    container = engine.create(spec)
    try:
        with engine.errors(f"running {name}"):
            container.start()
            buf = b""
            for chunk in container.logs(stream=True, follow=True):
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    out("       " + line.decode(errors="replace"))
            if buf:
                out("       " + buf.decode(errors="replace"))
            result = container.wait()
        return int(result.get("StatusCode", 1))
    finally:
        engine.remove(container, timeout=2)


def _remove_by_name(name: str) -> None:
    import docker.errors

    try:
        engine.remove(engine.client().containers.get(name), timeout=2)
    except docker.errors.NotFound:
        pass


def web_upstreams(apps_current: dict[str, int]) -> dict[str, list[str]]:
    """IP:port of every running web container of each app's current release, from one
    engine call (the list endpoint carries addresses)."""
    with engine.errors("listing containers"):
        rows = engine.client().api.containers(filters={"label": [
            specs.LABEL_APP, f"{specs.LABEL_INSTANCE}={prefix()}"]})
    out: dict[str, list[str]] = {app: [] for app in apps_current}
    for row in rows:
        lab = row.get("Labels") or {}
        app = lab.get(specs.LABEL_APP)
        if app not in apps_current or lab.get(specs.LABEL_TYPE) != "web":
            continue
        if lab.get(specs.LABEL_ROLE) == "oneoff" or row.get("State") != "running":
            continue
        if lab.get(specs.LABEL_RELEASE) != str(apps_current[app]):
            continue
        nets = (row.get("NetworkSettings") or {}).get("Networks") or {}
        ip = (nets.get(specs.network_name(app)) or {}).get("IPAddress")
        if ip:
            out[app].append(f"{ip}:{lab.get(specs.LABEL_PORT, specs.DEFAULT_PORT)}")
    for ups in out.values():
        ups.sort()
    return out
