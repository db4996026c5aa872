"""Logs for real: several containers merged in time order, kept on disk across a redeploy and
a restart of `berth server` (no line lost or repeated), the router's access log per app, and
build output per release."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration

LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) app\[([a-z0-9.]+)\]: (.*)")
WORKER = ('worker: i=0; while true; do echo "tick $i $MARK"; echo "err $i" >&2; '
          'i=$((i+1)); sleep 0.2; done\n')


def make_worker_app(tmp: Path, name: str, mark: str = "v1") -> Path:
    repo = make_repo(APPS / "flask", tmp / name)
    (repo / "Procfile").write_text("web: python app.py\n" + WORKER.replace("$MARK", mark))
    (repo / "app.json").write_text(json.dumps({"formation": {"worker": {"quantity": 2}}}))
    commit(repo, "worker")
    return repo


def log_lines(env: Env, app: str, *args: str) -> list[tuple[str, str, str]]:
    out = env.berth("logs", app, *args).stdout.splitlines()
    parsed = [LINE.fullmatch(line) for line in out]
    assert all(parsed), [line for line, m in zip(out, parsed, strict=True) if not m][:3]
    return [m.groups() for m in parsed if m]  # type: ignore[misc]


def wait_lines(env: Env, app: str, ok, *args: str, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    lines: list = []
    while time.monotonic() < deadline:
        lines = log_lines(env, app, *args)
        if ok(lines):
            return lines
        time.sleep(0.5)
    raise AssertionError(f"log condition never met; last lines: {lines[-10:]}")


@pytest.fixture(scope="session")
def server_restart(berth_env: Env) -> Iterator:
    """Restart `berth server` (TERM, then a new one). The replacement serves the rest of the
    session and is stopped at its end, before the berth_env fixture cleans up."""
    procs: list[subprocess.Popen[bytes]] = []

    def restart() -> None:
        pidfile = berth_env.root / "run" / "server.pid"
        pid = int(pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pidfile.exists(), "berth server did not stop"
        log = open(berth_env.root.parent / f"server-{len(procs)}.log", "w")
        procs.append(subprocess.Popen(["berth", "server", "--interval", "2"],
                                      env=berth_env.env(), stdout=log,
                                      stderr=subprocess.STDOUT))
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pidfile.exists(), "berth server did not start again"

    yield restart
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=30)


def test_logs_merge_containers_and_survive_redeploy_and_server_restart(
        berth_env: Env, tmp_path: Path, server_restart) -> None:
    repo = make_worker_app(tmp_path, "logs1")
    res = push(berth_env, repo, berth_env.ssh_remote("logs1"))
    assert res.returncode == 0, res.stdout + res.stderr
    berth_env.wait_for("logs1", "hello from flask")
    berth_env.get("logs1", "/from-the-test")

    # both workers (stdout and stderr) and the web process, merged, in time order
    lines = wait_lines(berth_env, "logs1", lambda ls: {"worker.1", "worker.2", "web.1"} <=
                       {p for _, p, _ in ls} and sum(t.startswith("tick ") for *_, t in ls) > 20,
                       "-n", "500")
    assert [t for t, _, _ in lines] == sorted(t for t, _, _ in lines)
    assert any(p == "web.1" and "/from-the-test" in t for _, p, t in lines)
    assert any(p == "worker.2" and t.startswith("err ") for _, p, t in lines)

    # -p and -q
    only = log_lines(berth_env, "logs1", "-p", "worker.2", "-n", "5")
    assert len(only) == 5 and {p for _, p, _ in only} == {"worker.2"}
    quiet = berth_env.berth("logs", "logs1", "-q", "-p", "worker", "-n", "3").stdout
    assert len(quiet.splitlines()) == 3
    assert all(ln.startswith(("tick ", "err ")) for ln in quiet.splitlines())

    # the server restarts: no tick of a running worker is lost or written twice
    server_restart()
    time.sleep(3)
    before_redeploy = wait_lines(berth_env, "logs1", lambda ls: True, "-p", "worker.1",
                                 "-n", "100000")
    ticks = [int(t.split()[1]) for _, _, t in before_redeploy if t.startswith("tick ")]
    assert ticks == list(range(ticks[0], ticks[0] + len(ticks))), "lost or repeated lines"
    assert ticks[0] == 0 and len(ticks) > 25

    # a redeploy: the old containers' lines stay, the new ones are added
    (repo / "Procfile").write_text("web: python app.py\n" + WORKER.replace("$MARK", "v2"))
    commit(repo, "v2")
    res = push(berth_env, repo, berth_env.ssh_remote("logs1"))
    assert res.returncode == 0, res.stdout + res.stderr
    lines = wait_lines(berth_env, "logs1", lambda ls: any(t.endswith(" v2") for *_, t in ls),
                       "-p", "worker", "-n", "100000")
    texts = [t for *_, t in lines]
    assert any(t.endswith(" v1") for t in texts) and any(t.endswith(" v2") for t in texts)
    files = list((berth_env.root / "logs" / "apps" / "logs1").glob("app.log*"))
    assert files and all(oct(f.stat().st_mode & 0o777) == "0o600" for f in files)
    berth_env.berth("apps:destroy", "logs1", "--force")  # its network goes too
    assert not (berth_env.root / "logs" / "apps" / "logs1").exists()


def test_logs_follow_over_ssh_stops_when_the_client_goes(berth_env: Env, tmp_path: Path):
    repo = make_worker_app(tmp_path, "logs2")
    res = push(berth_env, repo, berth_env.ssh_remote("logs2"))
    assert res.returncode == 0, res.stdout + res.stderr
    argv = ["ssh", "-p", str(berth_env.ssh_port), "-i", str(berth_env.key), "-o",
            "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o",
            "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-T", "root@127.0.0.1",
            "logs logs2 -t -n 1 -p worker.1"]
    client = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    try:
        assert client.stdout is not None
        first: list[str] = []  # the tail, then live lines (a start-up line may come too)
        ticks: list[int] = []
        while len(first) < 10 and len(ticks) < 2:
            first.append(client.stdout.readline())
            if "tick " in first[-1]:
                ticks.append(int(first[-1].split("tick ")[1].split()[0]))
        assert all(LINE.fullmatch(ln.rstrip("\n")) for ln in first), first
        assert ticks == sorted(ticks) and len(ticks) >= 2, first
    finally:
        client.kill()
        client.wait()
    # the berth process behind the session ends on its own once its reader is gone
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _session_processes(berth_env):
        time.sleep(0.2)
    assert not _session_processes(berth_env)
    berth_env.berth("apps:destroy", "logs2", "--force")


def _session_processes(env: Env) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ssh-shell" in cmd and str(env.root).encode() in cmd:
            found.append(pid)
    return found


def test_router_access_log_and_build_output(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "logs3")
    res = push(berth_env, repo, berth_env.ssh_remote("logs3"))
    assert res.returncode == 0, res.stdout + res.stderr
    berth_env.wait_for("logs3", "hello from static")
    assert berth_env.get("logs3", "/missing-page")[0] == 404
    deadline = time.monotonic() + 20
    out = ""
    while time.monotonic() < deadline:
        out = berth_env.berth("logs", "logs3", "-p", "router").stdout
        if "/missing-page" in out:
            break
        time.sleep(0.3)
    lines = out.splitlines()
    assert lines and all(re.fullmatch(r"\S+Z app\[router\]: [A-Z]+ /\S* \d{3} [\d.]+ms", ln)
                         for ln in lines), lines
    assert any(ln.endswith("ms") and "GET /missing-page 404 " in ln for ln in lines)
    assert "logs1" not in out  # other apps' requests are not shown

    # build output, kept per release
    shown = berth_env.berth("releases:output", "logs3", "v1").stdout
    assert "-----> Building logs3" in shown and "Application deployed" in shown
    missing = berth_env.berth("releases:output", "logs3", "v9", check=False)
    assert missing.returncode == 3 and "v9" in missing.stderr
    bad = berth_env.berth("logs", "logs3", "-p", "../x", check=False)
    assert bad.returncode == 2 and "invalid -p" in bad.stderr
    berth_env.berth("apps:destroy", "logs3", "--force")
