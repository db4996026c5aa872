"""Recovery: the app's only web container goes away and the clock runs until the app answers
200 through the router again. Three ways:

    crashed   its main process gets SIGKILL (as an OOM kill or a segfault would): the
              engine's restart policy brings the container back
    killed    `docker kill`: the engine counts that as a manual stop and leaves it down;
              berth's reconciler starts it again
    removed   `docker rm -f`: the reconciler starts a new container"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench.env import BenchEnv, wait_until
from bench.figures.deploys import _source
from bench.plan import Plan
from bench.stats import Figure

APP = "heal"


def _web_container(env: BenchEnv, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = subprocess.run(
            ["docker", "ps", "-q", "--filter", f"label=berth.instance={env.prefix}",
             "--filter", f"label=berth.app={APP}", "--filter", "label=berth.process=web"],
            capture_output=True, text=True).stdout.split()
        if len(ids) == 1:
            return ids[0]
        time.sleep(0.2)
    raise RuntimeError(f"{APP}: no single running web container")


def _crash(cid: str) -> None:
    pid = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", cid],
                         capture_output=True, text=True, check=True).stdout.strip()
    os.kill(int(pid), signal.SIGKILL)


def recovery(env: BenchEnv, plan: Plan, work: Path, interval: float) -> list[Figure]:
    crashed = Figure(key="recovery_crash", title="recovery: app process crashed (SIGKILL)",
                     unit="s", target="< 5 s median", value_max=5.0)
    killed = Figure(key="recovery_kill", title="recovery: `docker kill` of the container",
                    unit="s", target="< 5 s median", value_max=5.0)
    removed = Figure(key="recovery_removed", title="recovery: `docker rm -f` of the container",
                     unit="s", target="< 5 s median", value_max=5.0)
    figs = [crashed, killed, removed]
    ways: list[tuple[Figure, Callable[[str], object]]] = [
        (crashed, _crash),
        (killed, lambda cid: subprocess.run(["docker", "kill", cid], capture_output=True,
                                            check=True)),
        (removed, lambda cid: subprocess.run(["docker", "rm", "-f", cid], capture_output=True,
                                             check=True)),
    ]
    try:
        repo = _source("python", work, APP)
        env.push(repo, APP)
        wait_until(lambda: env.get(APP), "hello from flask", timeout=30)
        for fig, way in ways:
            for _ in range(plan.reps_recovery):
                cid = _web_container(env)
                wait_until(lambda: env.get(APP), "hello from flask", timeout=30)
                time.sleep(1.0)
                start = time.monotonic()
                way(cid)
                done = wait_until(lambda: env.get(APP, timeout=2), "hello from flask",
                                  timeout=60, interval=0.05)
                fig.value.append(done - start)
    except Exception as e:
        for fig in figs:
            fig.error = fig.error or f"{type(e).__name__}: {e}"
    killed.note = removed.note = (f"berth server --interval {interval:g} "
                                  "(the reconciler's period)")
    return figs
