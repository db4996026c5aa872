"""Process operations on the running release, on this host's engine: the pieces ps:scale,
ps:restart, ps:start and ps:stop are made of (berth/ps.py puts them in order).

Containers the router must not use carry a name suffix that web_upstreams skips:

    docker_local.start_slots(..., suffix=PENDING)   new containers, started and checked
    promote(pending, retiring)      new ones -> `...N.next` (routable), old ones -> `...N.retiring`
    routing.apply(ctx)              (the caller) the router now sends only to the new set
    settle(pending, retiring)       `...N.next` -> `...N`
    retire(retiring, ...)           after the wait, the retiring ones are removed
    stop(app)                       stop (keep) every process container of the app

A crash between any two steps is healed by the reconciler: it renames a lone `.pending`,
`.next` or `.retiring` container of the current release back to its plain name and removes
extras.
"""

from __future__ import annotations

import time
from typing import Any

from berth import engine
from berth.schedulers import specs
from berth.schedulers.base import NEXT, RETIRING


def process_containers(app: str) -> list[Any]:
    """The app's process containers (not one-offs), running or not."""
    return [c for c in engine.containers(app)
            if c.labels.get(specs.LABEL_ROLE, "process") != "oneoff"]


def canonical(container: Any) -> str:
    lab = container.labels
    return specs.container_name(lab[specs.LABEL_APP], lab[specs.LABEL_TYPE],
                                int(lab[specs.LABEL_INDEX]))


def surplus(app: str, counts: dict[str, int]) -> list[Any]:
    """Process containers beyond the wanted count of their type (all of a type scaled to 0)."""
    out = []
    for c in process_containers(app):
        try:
            index = int(c.labels.get(specs.LABEL_INDEX, "0"))
        except ValueError:
            index = 0
        if index > counts.get(c.labels.get(specs.LABEL_TYPE, ""), 0):
            out.append(c)
    return out


def promote(pending: list[Any], retiring: list[Any]) -> list[Any]:
    """Step one of a swap, no lock needed: checked pending containers become `...N.next`
    (routable: the current release's), then the retiring ones `...N.retiring` (not). At no
    moment does a route lose every container. Returns the containers now retiring."""
    retiring = list(retiring)
    for c in pending:
        _take_name(c, f"{canonical(c)}.{NEXT}", retiring)
    out = []
    for c in retiring:
        if _rename(c, f"{canonical(c)}.{RETIRING}"):
            out.append(c)
    return out


def settle(pending: list[Any], retiring: list[Any]) -> None:
    """Step two, after the routes moved: `...N.next` -> `...N` (a rename keeps the address).
    A container still holding a plain name joins `retiring`."""
    for c in pending:
        _take_name(c, canonical(c), retiring)


def undo(pending: list[Any], retiring: list[Any]) -> None:
    """A swap that failed half-way: the retiring ones get their names back, pending ones go."""
    for c in pending:
        engine.remove(c, timeout=2)
    for c in retiring:
        _rename(c, canonical(c))


def _take_name(container: Any, name: str, retiring: list[Any]) -> None:
    import docker.errors

    try:
        holder = engine.client().containers.get(name)
    except docker.errors.NotFound:
        holder = None
    if holder is not None and holder.id != container.id:
        if _rename(holder, f"{canonical(holder)}.{RETIRING}"):
            retiring.append(holder)
    with engine.errors(f"renaming {container.name}"):
        container.rename(name)


def _rename(container: Any, name: str) -> bool:
    """False when the container is gone; one that cannot take the name is removed at once."""
    import docker.errors

    try:
        container.rename(name)
        return True
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError:  # a stale container holds the name: no time to be polite
        engine.remove(container, timeout=2)
        return False


def retire(retiring: list[Any], *, wait: float, stop_timeout: int) -> list[str]:
    """Give in-flight requests `wait` seconds, then stop and remove the retiring containers."""
    if not retiring:
        return []
    if wait:
        time.sleep(wait)
    for c in retiring:
        engine.remove(c, timeout=stop_timeout)
    return [c.name for c in retiring]


def stop(app: str, *, stop_timeout: int) -> list[str]:
    """Stop every process container of the app, keeping them (ps:start replaces them)."""
    import docker.errors

    stopped = []
    for c in process_containers(app):
        if c.status in ("running", "restarting", "paused"):
            try:
                c.stop(timeout=stop_timeout)
            except docker.errors.NotFound:
                continue
            except docker.errors.APIError as e:
                from berth.errors import EngineError

                raise EngineError(f"stopping {c.name}: {e}") from None
            stopped.append(c.name)
    return stopped


def set_restart_policy(app: str, policy: dict[str, Any]) -> int:
    """Apply a restart policy to the app's existing process containers (docker update)."""
    count = 0
    for c in process_containers(app):
        with engine.errors(f"updating {c.name}"):
            c.update(restart_policy=policy)
        count += 1
    return count
