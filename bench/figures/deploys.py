"""Deploys as users feel them: `git push` start -> the new content served through the router,
beside the same image built and run by hand (bench/byhand.py).

The apps are the test fixtures (tests/apps/flask, tests/apps/node) with a Procfile holding
only the web process, so both sides build and start the same thing (no release phase)."""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path

from bench.byhand import ByHand
from bench.env import APPS, BenchEnv, commit, make_repo, wait_until
from bench.plan import Plan
from bench.stats import Figure

APP_FILES = {
    "python": ("flask", "app.py", "hello from flask", "web: python app.py\n"),
    "node": ("node", "server.js", "hello from node", "web: npm start\n"),
}


#: push output lines that start each phase, as berth prints them
MARKS = {"build": "-----> Building ", "start": "-----> Starting ",
         "switch": "-----> Switching traffic"}


def timed_push(env: BenchEnv, repo: Path, app: str, text: str, *, timeout: float = 600,
               phases: list[dict[str, float]] | None = None) -> tuple[float, float]:
    """(seconds until ``text`` is served through the router, seconds the push took). With
    ``phases``, appends where the time went, from the push output's timestamps: transport
    (ssh + git + hook start), build, start (containers + checks), route (switch -> served)."""
    served: dict[str, float] = {}
    errors: list[str] = []

    def watch() -> None:
        try:
            served["at"] = wait_until(lambda: env.get(app, timeout=2), text, timeout=timeout)
        except RuntimeError as e:
            errors.append(str(e))

    start = time.monotonic()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    seen: dict[str, float] = {}
    proc = subprocess.Popen(env.push_argv(app), cwd=repo, env=env.git_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    out = []
    for line in proc.stdout:  # ends when git exits; git itself is bounded by the hook
        out.append(line)
        for name, mark in MARKS.items():
            if mark in line and name not in seen:
                seen[name] = time.monotonic() - start
    if proc.wait(timeout=timeout) != 0:
        raise RuntimeError(f"git push to {app} failed:\n{''.join(out)[-3000:]}")
    pushed = time.monotonic() - start
    watcher.join(timeout=timeout)
    if "at" not in served:
        raise RuntimeError(f"{app}: new content never served: {errors}")
    total = served["at"] - start
    if phases is not None and len(seen) == len(MARKS):
        phases.append({"transport": seen["build"], "build": seen["start"] - seen["build"],
                       "start": seen["switch"] - seen["start"],
                       "route": total - seen["switch"]})
    return total, pushed


def phase_medians(phases: list[dict[str, float]]) -> dict[str, float]:
    if not phases:
        return {}
    return {k: round(statistics.median(p[k] for p in phases), 3) for k in phases[0]}


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new, 1))


def _source(lang: str, work: Path, name: str) -> Path:
    fixture, _, _, procfile = APP_FILES[lang]
    repo = make_repo(APPS / fixture, work / name)
    (repo / "Procfile").write_text(procfile)
    commit(repo, "web only")
    return repo


def redeploy(env: BenchEnv, plan: Plan, work: Path, hand: ByHand) -> list[Figure]:
    figures = []
    for lang in ("python", "node"):
        fig = Figure(
            key=f"redeploy_{lang}", title=f"redeploy after a one-line change ({lang})",
            unit="s", target="<= 1.3x floor; < 5 s median", value_max=5.0, ratio_max=1.3,
            floor_title="docker build (warm) + docker run + first 200, by hand")
        try:
            _redeploy(env, plan, work, hand, lang, fig)
        except Exception as e:  # one figure failing must not lose the others
            fig.error = f"{type(e).__name__}: {e}"
        figures.append(fig)
    return figures


def _redeploy(env: BenchEnv, plan: Plan, work: Path, hand: ByHand, lang: str,
              fig: Figure) -> None:
    _, code_file, hello, _ = APP_FILES[lang]
    app = f"re-{lang}"
    repo = _source(lang, work, app)
    env.push(repo, app)  # the first deploy: dependencies cached from here on
    floor_dir = hand.prepare(repo, work / f"{app}-hand")
    hand.deploy(floor_dir, app, hello)  # warm the by-hand cache the same way
    pushes: list[float] = []
    phases: list[dict[str, float]] = []
    current = hello
    for i in range(plan.reps_deploy):
        new = f"{hello} r{i}"
        _edit(repo / code_file, current, new)
        _edit(floor_dir / code_file, current, new)
        current = new
        commit(repo, f"change {i}")
        ours = floor = 0.0
        for side in (("berth", "floor") if i % 2 == 0 else ("floor", "berth")):
            if side == "berth":
                ours, pushed = timed_push(env, repo, app, new, phases=phases)
                pushes.append(pushed)
            else:
                hand.stop(app)
                floor = hand.deploy(floor_dir, app, new)
        fig.value.append(ours)
        fig.floor.append(floor)
    hand.stop(app)
    fig.extra["push_wall_seconds"] = pushes
    fig.extra["phases_median_s"] = phase_medians(phases)
    fig.note = ("berth: git push over SSH start -> new body through Caddy (the push itself "
                "returns later: it keeps the old containers 2 s before retiring them)")


def first_deploy(env: BenchEnv, plan: Plan, work: Path, hand: ByHand) -> Figure:
    fig = Figure(key="first_deploy", title="first deploy of a new app (python, deps installed)",
                 unit="s", target="<= 1.2x floor", ratio_max=1.2,
                 floor_title="docker build (deps not cached) + docker run + first 200")
    phases: list[dict[str, float]] = []
    try:
        for i in range(plan.reps_first):
            # A requirements.txt no build has seen: pip install runs on both sides, while the
            # stack's own layers (FROM, venv) are cached for both, as on any berth host.
            nonce = uuid.uuid4().hex[:10]
            app = f"first-{i}"
            repo = _source("python", work, app)
            (repo / "requirements.txt").write_text(f"# bench {nonce}\nflask>=3.0,<4\n")
            commit(repo, "fresh deps")
            floor_dir = hand.prepare(repo, work / f"{app}-hand")
            (floor_dir / "requirements.txt").write_text(f"# bench {nonce}-hand\nflask>=3.0,<4\n")
            ours = floor = 0.0
            for side in (("berth", "floor") if i % 2 == 0 else ("floor", "berth")):
                if side == "berth":
                    ours, _ = timed_push(env, repo, app, "hello from flask", phases=phases)
                else:
                    floor = hand.deploy(floor_dir, app, "hello from flask")
                    hand.stop(app)
            fig.value.append(ours)
            fig.floor.append(floor)
            env.berth("apps:destroy", app, "--force", check=False)
    except Exception as e:
        fig.error = f"{type(e).__name__}: {e}"
    fig.extra["phases_median_s"] = phase_medians(phases)
    fig.note = ("both sides install flask from PyPI (a requirements.txt no earlier build saw); "
                "the stack image and its venv layer are cached for both")
    return fig
