"""One-off containers for real, locally and over the real sshd: exit codes, config, a pty
with `ssh -t`, an interactive shell, run:detached, enter, and cleanup when the client goes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.integration.conftest import APPS, Env, make_repo, push

pytestmark = pytest.mark.integration


def oneoffs(app: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-a", "--filter", f"label=berth.app={app}",
                          "--filter", "label=berth.oneoff", "--format", "{{.Names}}"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def ssh_argv(env: Env, command: str, *, tty: bool) -> list[str]:
    return ["ssh", "-p", str(env.ssh_port), "-i", str(env.key), "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-tt" if tty else "-T", "root@127.0.0.1", command]


@pytest.fixture(scope="module")
def runapp(berth_env: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    repo = make_repo(APPS / "flask", tmp_path_factory.mktemp("run") / "runapp")
    res = push(berth_env, repo, berth_env.ssh_remote("runapp"))
    assert res.returncode == 0, res.stdout + res.stderr
    berth_env.berth("config:set", "runapp", "GREETING=hi there; $(id)")
    berth_env.wait_for("runapp", "hello from flask")
    yield "runapp"
    berth_env.berth("apps:destroy", "runapp", "--force")


def test_run_returns_the_exit_code_locally_and_over_ssh(berth_env: Env, runapp: str):
    res = berth_env.berth("run", runapp, "sh", "-c", "echo out; echo err >&2; exit 3",
                          input="", check=False)
    assert (res.returncode, res.stdout, res.stderr) == (3, "out\n", "err\n")
    res = berth_env.ssh("run runapp sh -c 'exit 3'")
    assert res.returncode == 3, res.stderr
    res = berth_env.ssh("run runapp python -c 'import os; print(os.environ[\"GREETING\"], "
                        "os.environ[\"DYNO\"].split(\".\")[0])'")
    assert (res.returncode, res.stdout) == (0, "hi there; $(id) run\n"), res.stderr
    res = berth_env.ssh("run runapp sh -c 'test -t 0 || echo no-tty'")
    assert res.stdout == "no-tty\n"
    # stdin is passed through when there is no terminal
    res = subprocess.run(ssh_argv(berth_env, "run runapp python -", tty=False),
                         input="print(6 * 7)\n", capture_output=True, text=True, timeout=120)
    assert (res.returncode, res.stdout) == (0, "42\n"), res.stderr
    assert oneoffs(runapp) == []
    missing = berth_env.berth("run", "nope", "true", check=False)
    assert missing.returncode == 3


def test_run_with_a_tty_over_ssh(berth_env: Env, runapp: str):
    res = berth_env.ssh("run runapp sh -c 'test -t 0 && test -t 1 && echo tty-yes; exit 5'",
                        tty=True)
    assert res.returncode == 5 and "tty-yes" in res.stdout, res.stdout + res.stderr
    # an interactive shell: what we type reaches it through the pty
    proc = subprocess.Popen(ssh_argv(berth_env, "run runapp sh", tty=True),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate("echo answer-$((6 * 7))\nexit 7\n", timeout=120)
    assert proc.returncode == 7, out
    assert "answer-42" in out
    assert oneoffs(runapp) == []


def test_disconnect_removes_the_container(berth_env: Env, runapp: str):
    proc = subprocess.Popen(ssh_argv(berth_env, "run runapp sleep 600", tty=True),
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not oneoffs(runapp) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert oneoffs(runapp), "the one-off never started"
    time.sleep(1)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 30
    while oneoffs(runapp) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert oneoffs(runapp) == []


def test_run_detached_and_enter(berth_env: Env, runapp: str):
    name = berth_env.berth("run:detached", runapp, "sh", "-c",
                           "echo detached-says-$DYNO; sleep 1").stdout.strip()
    assert ".runapp.run." in name
    number = name.rsplit(".", 1)[1]
    deadline = time.monotonic() + 30
    logs = ""
    while time.monotonic() < deadline:
        logs = berth_env.berth("logs", runapp, "-p", "run").stdout
        if f"detached-says-run.{number}" in logs:
            break
        time.sleep(0.5)
    assert f"app[run.{number}]: detached-says-run.{number}" in logs
    # the server sweeps it once it has exited
    deadline = time.monotonic() + 90
    while name in oneoffs(runapp) and time.monotonic() < deadline:
        time.sleep(1)
    assert name not in oneoffs(runapp)

    res = berth_env.ssh("enter runapp web.1 sh -c 'echo $DYNO; exit 4'")
    assert (res.returncode, res.stdout) == (4, "web.1\n"), res.stderr
    res = berth_env.ssh("enter runapp web.1 sh -c 'test -t 0 && echo tty-in-enter'", tty=True)
    assert "tty-in-enter" in res.stdout
    res = berth_env.berth("enter", runapp, "web", "cat", "/proc/1/cmdline", input="")
    assert res.returncode == 0 and res.stdout  # the init process of that container
    res = berth_env.berth("enter", runapp, "worker.1", "true", check=False, input="")
    assert res.returncode == 3 and "no running worker.1" in res.stderr
    res = berth_env.berth("enter", runapp, "web.x", "true", check=False, input="")
    assert res.returncode == 2


def test_run_is_recorded_without_the_command(berth_env: Env, runapp: str):
    import json

    berth_env.ssh("run runapp sh -c 'echo secret-arg-xyz'")
    evs = json.loads(berth_env.berth("events", runapp, "--format", "json").stdout)
    runs = [e for e in evs if e["action"] == "run"]
    assert runs and runs[-1]["actor"] == "tester"
    assert "secret-arg-xyz" not in json.dumps(evs)
