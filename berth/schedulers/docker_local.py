"""The default scheduler: containers on this host's Docker engine, one bridge network per app.

A deploy starts the new release's containers beside the old ones (named `...N.next`), waits
until they pass their checks, lets the caller switch the router, then retires the old ones
and gives the new ones their plain names `berth.APP.TYPE.N`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from berth import checks, engine
from berth.errors import DeployError
from berth.instance import prefix
from berth.models import Release, RunOptions
from berth.schedulers import docker_ps, specs
from berth.schedulers.base import NEXT, PENDING, RETIRING, runnable_types

Out = Callable[[str], None]
# containers named ...SUFFIX that the router never sends to: started but not yet checked
# (a scale-up or restart), or on their way out (a scale-down or restart)
UNROUTED = (f".{PENDING}", f".{RETIRING}")


def start(release: Release, formation: dict[str, int], policy: checks.Policy, out: Out, *,
          suffix: str = NEXT, restart_policy: str = "unless-stopped",
          stop_timeout: int = 10, options: RunOptions | None = None) -> list[Any]:
    """Start the release beside what runs now and wait for its checks. On failure every new
    container is removed and DeployError says why; what ran before is untouched, except the
    old containers of types whose checks are disabled (stopped first: no zero-downtime)."""
    slots = [(ptype, index) for ptype, count in runnable_types(release, formation).items()
             for index in range(1, count + 1)]
    return start_slots(release, slots, policy, out, suffix=suffix, replacing=True,
                       restart_policy=restart_policy, stop_timeout=stop_timeout,
                       options=options)


def start_slots(release: Release, slots: list[tuple[str, int]], policy: checks.Policy,
                out: Out, *, suffix: str, replacing: bool, restart_policy: str = "unless-stopped",
                stop_timeout: int = 10, options: RunOptions | None = None) -> list[Any]:
    """Start one container per (type, index), named `...TYPE.INDEX.SUFFIX`, then check them.
    `options` (runopts.load) carries the app's resource limits and storage mounts."""
    opts = options or RunOptions()
    engine.ensure_network(specs.network_name(release.app), {specs.LABEL_APP: release.app})
    _remove_leftovers(release.app, suffix)
    if replacing:
        _stop_unchecked(release.app, {t for t, _ in slots if policy.mode(t) == checks.DISABLED},
                        stop_timeout, out)
    new: list[Any] = []
    try:
        for ptype, index in slots:
            spec = specs.process_spec(release, ptype, index, suffix=suffix,
                                      restart_policy=restart_policy,
                                      limits=opts.limits_for(ptype), mounts=opts.mounts,
                                      read_only=opts.read_only)
            container = engine.create(spec)
            new.append(container)
            with engine.errors(f"starting {spec['name']}"):
                container.start()
        _check_all(release, new, policy, out)
    except BaseException:
        for container in new:
            engine.remove(container, timeout=2)
        raise
    return new


def _stop_unchecked(app: str, types: set[str], stop_timeout: int, out: Out) -> None:
    """Types with checks disabled: their old containers go before the new ones start."""
    for container in engine.containers(app):
        lab = container.labels
        if lab.get(specs.LABEL_ROLE) != "oneoff" and lab.get(specs.LABEL_TYPE) in types:
            out(f"       stopping {container.name} first (checks disabled for "
                f"{lab.get(specs.LABEL_TYPE)})")
            engine.remove(container, timeout=stop_timeout)


def _check_all(release: Release, new: list[Any], policy: checks.Policy, out: Out) -> None:
    port = specs.port_of(release)
    network = specs.network_name(release.app)
    for container in new:
        ptype = container.labels[specs.LABEL_TYPE]
        label = f"{ptype}.{container.labels[specs.LABEL_INDEX]}"
        mode = policy.mode(ptype)
        if mode != checks.CHECKED:
            out(f"-----> Checks {mode} for {label}")
            continue
        todo = policy.for_type(ptype)
        ip = None
        if any(c.kind == "http" for c in todo):
            ip = engine.container_ip(container, network)
            if not ip:
                raise DeployError(f"{container.name} has no address on its network")
        checks.run(container, ip, port, todo, out, label)


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
               out: Out, options: RunOptions | None = None) -> int:
    """Run a one-off container to completion, streaming its output; returns its exit code."""
    engine.ensure_network(specs.network_name(release.app), {specs.LABEL_APP: release.app})
    opts = options or RunOptions()
    spec = specs.oneoff_spec(release, argv, name=name, role=role,
                             limits=opts.limits_for(role), mounts=opts.mounts)
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
        if any(n.endswith(UNROUTED) for n in row.get("Names") or []):
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


class DockerLocal:
    """This module and docker_ps as one berth.schedulers.base.Scheduler: the built-in
    `docker-local`, registered through the `schedulers` hook (berth/schedulers/plugin.py)."""

    name = "docker-local"
    start = staticmethod(start)
    start_slots = staticmethod(start_slots)
    finish = staticmethod(finish)
    remove_release = staticmethod(remove_release)
    run_oneoff = staticmethod(run_oneoff)
    web_upstreams = staticmethod(web_upstreams)
    process_containers = staticmethod(docker_ps.process_containers)
    surplus = staticmethod(docker_ps.surplus)
    promote = staticmethod(docker_ps.promote)
    settle = staticmethod(docker_ps.settle)
    undo = staticmethod(docker_ps.undo)
    retire = staticmethod(docker_ps.retire)
    stop = staticmethod(docker_ps.stop)

    def set_restart_policy(self, app: str, policy: str) -> int:
        return docker_ps.set_restart_policy(app, specs.restart_policy_spec(policy))

    def remove_app(self, app: str) -> None:
        stop_all(app)
        engine.remove_network(specs.network_name(app))
