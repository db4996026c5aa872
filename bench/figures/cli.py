"""The CLI's wall time: `berth apps:list` (the installed console script, whose fast entry
answers it without click) against starting the same Python interpreter with `python -c pass`,
and the same command over SSH (the forced-command key) against `ssh host true` (a key forced
to run /bin/true on the same sshd). The two sides alternate. `--format json` is timed too
(extra)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench.env import BenchEnv, python_of
from bench.plan import Plan
from bench.stats import Figure


def _timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60,
                          stdin=subprocess.DEVNULL)
    took = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return took


def _pairs(fig: Figure, reps: int, ours: list[str], floor: list[str],
           env: dict[str, str] | None) -> None:
    _timed(ours, env)  # warm caches once
    _timed(floor, env)
    for i in range(reps):
        first, second = (ours, floor) if i % 2 == 0 else (floor, ours)
        a, b = _timed(first, env), _timed(second, env)
        fig.value.append(a if first is ours else b)
        fig.floor.append(b if first is ours else a)


def entry_of(script: str) -> str:
    """`module:function` a console script calls, and whether it imports re first (pip
    before 25.2 writes that import: ~4 ms of every start)."""
    found, slow = "", False
    for line in script.splitlines():
        words = line.split()
        if words[:1] == ["from"] and len(words) == 4 and words[2] == "import":
            found = f"{words[1]}:{words[3]}"
        slow = slow or words == ["import", "re"]
    return (found or "unknown") + (" (the script imports re)" if slow else "")


def cli(env: BenchEnv, plan: Plan) -> list[Figure]:
    local = Figure(key="cli_local", title="`berth apps:list`, local", unit="s",
                   target="<= 2x floor", ratio_max=2.0,
                   floor_title="`python -c pass` (the same interpreter)")
    ssh = Figure(key="cli_ssh", title="`apps:list` over SSH", unit="s", target="<= 1.5x floor",
                 ratio_max=1.5, floor_title="`ssh host true` (same sshd, key forced to true)")
    try:
        _pairs(local, plan.reps_cli, [env.exe, "apps:list"],
               [python_of(env.exe), "-c", "pass"], env.env())
        apps = env.berth("apps:list").stdout.count("\n")
        entry = entry_of(Path(env.exe).read_text(errors="replace"))
        local.note = f"Measured with {apps} lines of apps:list output; entry point {entry}"
        local.extra["entry"] = entry
        as_json = Figure(key="cli_local_json", title="", unit="s", target="")
        _pairs(as_json, plan.reps_cli, [env.exe, "apps:list", "--format", "json"],
               [python_of(env.exe), "-c", "pass"], env.env())
        local.extra["json_s"] = as_json.value
        local.extra["json_floor_s"] = as_json.floor
    except Exception as e:
        local.error = f"{type(e).__name__}: {e}"
    try:
        _pairs(ssh, plan.reps_cli, env.ssh_argv("apps:list"),
               env.ssh_argv("true", key=env.floor_key), None)
    except Exception as e:
        ssh.error = f"{type(e).__name__}: {e}"
    return [local, ssh]
