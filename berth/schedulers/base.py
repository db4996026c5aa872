"""What every scheduler offers, and what schedulers share.

A scheduler runs an app's releases: `berth.schedulers.selected(ctx, app)` builds the one the
app uses (`berth scheduler:set`) from the factories registered through the `schedulers` hook;
the built-in is `docker-local`. The protocol lists exactly what berth calls.

Container handles are what ``start``, ``start_slots``, ``process_containers`` and ``surplus``
return and ``promote``/``settle``/``undo``/``retire`` take back: objects with ``.name``,
``.status`` ("running", "exited" ...) and ``.labels`` (the ``berth.*`` labels of
berth/schedulers/specs.py), as the Docker SDK's containers have.

Name suffixes say whether the router may send to a container:

    NEXT        started by a deploy, checked: routable once the release is current
    PENDING     started by a scale-up or restart, not routed until ``promote``
    RETIRING    on its way out, never routed
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from berth.checks import Policy
    from berth.models import Release, RunOptions

Out = Callable[[str], None]
NEXT, PENDING, RETIRING = "next", "pending", "retiring"


def runnable_types(release: Release, formation: dict[str, int]) -> dict[str, int]:
    """Process types to run and how many: those with a command (or web from the image's CMD)."""
    out = {}
    for ptype, count in formation.items():
        if count > 0 and (ptype in release.processes or ptype == "web"):
            out[ptype] = count
    return out


@runtime_checkable
class Scheduler(Protocol):
    """Runs release containers for berth/deploy.py, berth/ps.py, berth/apps.py and feeds
    berth/routing.py their addresses."""

    name: str

    def start(self, release: Release, formation: dict[str, int], policy: Policy, out: Out, *,
              suffix: str = NEXT, restart_policy: str = "unless-stopped",
              stop_timeout: int = 10, options: RunOptions | None = None) -> list[Any]:
        """Start every runnable process of ``release`` beside what runs now (named
        ``...SUFFIX``) and wait for their checks; on failure remove them and raise
        DeployError (what ran before keeps running)."""
        ...

    def start_slots(self, release: Release, slots: list[tuple[str, int]], policy: Policy,
                    out: Out, *, suffix: str, replacing: bool,
                    restart_policy: str = "unless-stopped", stop_timeout: int = 10,
                    options: RunOptions | None = None) -> list[Any]:
        """Start and check one container per (type, index) of ``slots``."""
        ...

    def finish(self, app: str, version: int, *, wait: float = 0.0,
               stop_timeout: int = 10) -> list[str]:
        """After the router switched to ``version``: retire the other releases' containers
        (after ``wait`` seconds), give the new ones their plain names; returns the retired."""
        ...

    def remove_release(self, app: str, version: int) -> None:
        """Remove the containers of one release (a deploy that failed at the switch)."""
        ...

    def run_oneoff(self, release: Release, argv: list[str], *, name: str, role: str,
                   out: Out, options: RunOptions | None = None) -> int:
        """Run ``argv`` in the release to completion, streaming its output; the exit code."""
        ...

    def web_upstreams(self, apps_current: dict[str, int]) -> dict[str, list[str]]:
        """``ip:port`` of the running, routable web containers of each app's current
        release ({app: version})."""
        ...

    def process_containers(self, app: str) -> list[Any]:
        """The app's process containers (no one-offs), running or not."""
        ...

    def surplus(self, app: str, counts: dict[str, int]) -> list[Any]:
        """Process containers beyond the wanted count of their type."""
        ...

    def promote(self, pending: list[Any], retiring: list[Any]) -> list[Any]:
        """Pending containers become routable, ``retiring`` ones not; returns those retiring."""
        ...

    def settle(self, pending: list[Any], retiring: list[Any]) -> None:
        """After the router moved: promoted containers take their plain names."""
        ...

    def undo(self, pending: list[Any], retiring: list[Any]) -> None:
        """A swap that failed half-way: pending ones go, retiring ones get their names back."""
        ...

    def retire(self, retiring: list[Any], *, wait: float, stop_timeout: int) -> list[str]:
        """After ``wait`` seconds, stop and remove ``retiring``; returns their names."""
        ...

    def stop(self, app: str, *, stop_timeout: int) -> list[str]:
        """Stop (and keep) every process container of the app; returns their names."""
        ...

    def set_restart_policy(self, app: str, policy: str) -> int:
        """Apply a restart policy (``ps:set``) to the running containers; how many."""
        ...

    def remove_app(self, app: str) -> None:
        """Remove everything the scheduler runs for the app (`apps:destroy`, a rename)."""
        ...
