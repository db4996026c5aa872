"""Secrets stay secret and apps stay apart: config values never show up in output, events,
process listings or labels; state files are private; app containers get no Docker socket, no
router admin API, few capabilities, and cannot reach other apps' containers."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import threading
import time

import pytest

from tests.integration.conftest import APPS, Env, make_repo, push

pytestmark = pytest.mark.integration

SECRET = "s3cr3t-value-7f1e9a"


@pytest.fixture(scope="module")
def two_apps(berth_env: Env, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("iso")
    outputs = {}
    for app in ("iso-a", "iso-b"):
        repo = make_repo(APPS / "flask", base / app)
        res = push(berth_env, repo, berth_env.ssh_remote(app))
        assert res.returncode == 0, res.stderr
        outputs[app] = res.stdout + res.stderr
    return outputs


def containers(app: str) -> list[dict]:
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=berth.app={app}"],
                         capture_output=True, text=True).stdout.split()
    out = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True).stdout
    return list(json.loads(out))


def exec_python(name: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "exec", name, "python", "-c", code], capture_output=True,
                          text=True, timeout=60)


def test_secret_never_in_output_events_processes_or_labels(berth_env: Env, two_apps):
    seen_in_ps: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 120
        while not stop.is_set() and time.monotonic() < deadline:
            ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
            seen_in_ps.extend(line for line in ps.splitlines() if SECRET in line)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        res = berth_env.ssh(f"config:set iso-a API_TOKEN={SECRET}")
    finally:
        stop.set()
        watcher.join()
    assert res.returncode == 0, res.stderr
    assert berth_env.get("iso-a", "/env/API_TOKEN") == (200, SECRET)
    assert SECRET not in res.stdout + res.stderr
    assert seen_in_ps == []
    db = sqlite3.connect(berth_env.root / "berth.db")
    events = [r[0] for r in db.execute("SELECT details_json FROM events")]
    assert events and not any(SECRET in e for e in events)
    assert any("API_TOKEN" in e for e in events)
    for c in containers("iso-a"):
        assert SECRET not in json.dumps(c["Config"]["Labels"])
        assert SECRET not in " ".join(c["Config"]["Cmd"] or [])
    for log in berth_env.root.parent.glob("*.log"):
        assert SECRET not in log.read_text(errors="replace"), log
    bad = berth_env.ssh(f"config:set iso-a {SECRET}")
    assert bad.returncode != 0 and SECRET not in bad.stderr + bad.stdout


def test_state_files_are_private(berth_env: Env, two_apps):
    for path in (berth_env.root / "berth.db", berth_env.root.parent / "authorized_keys"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_no_docker_socket_and_few_privileges(berth_env: Env, two_apps):
    for c in containers("iso-a"):
        mounts = json.dumps(c.get("Mounts", [])) + json.dumps(c["HostConfig"].get("Binds"))
        assert "docker.sock" not in mounts
        assert "no-new-privileges" in c["HostConfig"]["SecurityOpt"]
        assert "NET_RAW" in c["HostConfig"]["CapDrop"]
        assert not c["HostConfig"]["Privileged"]


def test_router_admin_api_unreachable_from_apps(berth_env: Env, two_apps):
    [c] = containers("iso-a")
    gateway = next(iter(c["NetworkSettings"]["Networks"].values()))["Gateway"]
    code = ("import socket,sys\n"
            "for host in sys.argv[1:]:\n"
            "    s=socket.socket(); s.settimeout(2)\n"
            "    try: s.connect((host, 2019)); print('OPEN', host)\n"
            "    except OSError: print('closed', host)\n")
    res = subprocess.run(["docker", "exec", c["Name"].lstrip("/"), "python", "-c", code,
                          gateway, "127.0.0.1"], capture_output=True, text=True, timeout=60)
    assert "OPEN" not in res.stdout and res.stdout.count("closed") == 2, res
    res = exec_python(c["Name"].lstrip("/"),
                      "import os; print(any('admin.sock' in f for _,_,fs in os.walk('/') "
                      "for f in fs))")
    assert res.stdout.strip() == "False"


def test_apps_cannot_reach_each_other(berth_env: Env, two_apps):
    [a] = containers("iso-a")
    [b] = containers("iso-b")
    b_ip = next(iter(b["NetworkSettings"]["Networks"].values()))["IPAddress"]
    code = ("import socket,sys\ns=socket.socket(); s.settimeout(3)\n"
            "try: s.connect((sys.argv[1], 5000)); print('OPEN')\n"
            "except OSError as e: print('blocked', e)\n")
    res = subprocess.run(["docker", "exec", a["Name"].lstrip("/"), "python", "-c", code, b_ip],
                         capture_output=True, text=True, timeout=60)
    assert res.stdout.startswith("blocked"), res
    # while the host (the router) reaches both
    assert berth_env.get("iso-b")[0] == 200


def test_read_only_root_filesystem_option(berth_env: Env, two_apps):
    berth_env.berth("ps:set", "iso-b", "read-only", "true")
    try:
        berth_env.berth("ps:restart", "iso-b")
        [b] = containers("iso-b")
        assert b["HostConfig"]["ReadonlyRootfs"] is True
        name = b["Name"].lstrip("/")
        res = exec_python(name, "open('/app/x', 'w')")
        assert res.returncode != 0 and "Read-only file system" in res.stderr
        assert exec_python(name, "open('/tmp/x', 'w').write('ok')").returncode == 0
        assert berth_env.get("iso-b")[0] == 200
    finally:
        berth_env.berth("ps:set", "iso-b", "read-only")
    bad = berth_env.berth("ps:set", "iso-b", "read-only", "maybe", check=False)
    assert bad.returncode == 2 and "true or false" in bad.stderr
