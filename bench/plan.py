"""How many repetitions and how long: the full suite and --quick."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    reps_deploy: int = 5  # redeploys per app (each paired with one by hand)
    reps_first: int = 3  # first deploys (each paired with one by hand)
    reps_load: int = 3  # wrk runs per side
    load_seconds: int = 10  # per wrk run
    redeploys: int = 20  # under steady load
    reps_cli: int = 20  # CLI and SSH invocations per side
    apps: int = 100  # apps deployed for the memory / route-change figure
    reps_route: int = 7  # route changes timed with 1 app and with `apps` apps
    reps_recovery: int = 5  # containers killed


FULL = Plan()
QUICK = Plan(reps_deploy=3, reps_first=1, reps_load=2, load_seconds=5, redeploys=5,
             reps_cli=10, apps=100, reps_route=5, reps_recovery=3)
