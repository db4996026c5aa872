"""Crash safety for real: SIGKILL the process running a deploy (the pre-receive hook) or
`berth server` itself at each stage of a deploy, stop everything as a reboot would, restart the
Docker engine; each time the reconciler converges to exactly one serving release, the
store's current one, with nothing left over (no `.next` containers, no pending release, no
held lock) and a sound SQLite file.

The deploy runs in the hook process, under the app's flock (whose file names the holder's
pid); `berth server` reconciles every second here. Stages are hit deterministically, without
test hooks in berth: a Dockerfile step that sleeps (build), an app.json check with an
initialDelay (new containers started, not yet switched), and for the switch the server paused
while it holds no lock and Caddy's own lock held by the test, so the deploy commits the new
release as current and then blocks at the router update."""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, REPO, Env, commit, make_repo
from tests.integration.private import Site, private_site, wait_until

pytestmark = pytest.mark.integration

APP_JSON = {"healthchecks": {"web": [{"path": "/", "initialDelay": 3}]}}
STAGES = ["build", "started", "switch"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with private_site(tmp_path_factory.mktemp("crash")) as s:
        yield s


@pytest.fixture()
def made(site: Site) -> Iterator[list[str]]:
    """Each test starts and ends with a running, unpaused server; the apps it lists in the
    yielded list are destroyed afterwards."""
    if site.server is None:
        site.start_server()
    made: list[str] = []
    yield made
    if site.server is not None:
        site.server.send_signal(signal.SIGCONT)
    else:
        site.start_server()
    site.destroy(*made)


def dockerfile(extra: str = "") -> str:
    return ("FROM berth/stack-static:bookworm\nENV PORT=5000\nWORKDIR /app\n" + extra +
            "COPY --chown=app:app index.html /app/\nUSER app\nEXPOSE 5000\n"
            'CMD ["sh", "-c", "exec busybox httpd -f -v -p \\"$PORT\\" -h /app"]\n')


def write_version(repo: Path, app: str, version: str, extra: str = "") -> None:
    (repo / "index.html").write_text(f"<p>hello from {app} {version}</p>\n")
    (repo / "Dockerfile").write_text(dockerfile(extra))
    (repo / "app.json").write_text(json.dumps(APP_JSON))
    commit(repo, version)


class Push:
    """A `git push` over SSH in the background, its output collected line by line."""

    def __init__(self, env: Env, repo: Path, app: str, *, http: bool = False) -> None:
        remote = env.http_remote(app) if http else env.ssh_remote(app)
        self.proc = subprocess.Popen(
            ["git", "push", "--force", remote, "main:main"], cwd=repo,
            env=env.git_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        def seen() -> bool:
            if text in self.output:
                return True
            if self.proc.poll() is not None:
                self.reader.join(timeout=5)
                if text not in self.output:
                    raise AssertionError(f"push ended before {text!r}:\n{self.output}")
            return False

        wait_until(f"{text!r} in the push output", seen, timeout)

    def finish(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code


def deployed_app(site: Site, tmp_path: Path, app: str) -> Path:
    """A repo whose v1 is deployed and serving."""
    repo = make_repo(APPS / "static", tmp_path / app)
    write_version(repo, app, "v1")
    push = Push(site.env, repo, app)
    assert push.finish() == 0, push.output
    site.wait_converged(app, f"hello from {app} v1", timeout=60)
    return repo


def deploy_pid(site: Site, app: str) -> int:
    """The pid of the hook process running the app's deploy, from the lock file."""
    def hook() -> int:
        holder = site.lock_holder(app)
        pid = int(holder.rpartition("pid=")[2]) if "pid=" in holder else 0
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
        except OSError:
            return 0
        return pid if b"berth.hook" in cmd else 0

    return int(wait_until(f"the deploy of {app} to hold its lock", hook, timeout=60))


def next_started(site: Site, app: str) -> bool:
    return any(c["name"].endswith(".web.1.next") and c["state"] == "running"
               for c in site.containers(app))


def try_flock(path: Path) -> int | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        os.close(fd)
        return None


@contextmanager
def parked_at_switch(site: Site, app: str, version: int, old_text: str) -> Iterator[None]:
    """Hold the app's deploy between making `version` current in the store and the router
    update. The server is paused (SIGSTOP) at a moment it holds neither the router lock nor
    Caddy's lock, Caddy's lock is taken here, and the deploy goes on to commit the switch and
    block on that lock. Undone on exit (Caddy's lock freed, the server continued)."""
    assert site.server is not None
    wait_until(f"{app}'s new containers", lambda: next_started(site, app), timeout=120)
    caddy_lock = site.env.root / "caddy" / "lock"
    held = None
    for _ in range(100):
        site.server.send_signal(signal.SIGSTOP)
        router = try_flock(site.env.root / "locks" / "router.lock")
        if router is not None:
            os.close(router)
            held = try_flock(caddy_lock)
            if held is not None:
                break
        site.server.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    assert held is not None, "the server kept holding the router or Caddy lock"
    try:
        wait_until(f"v{version} of {app} to be current", lambda: site.current(app) == version,
                   timeout=60)
        time.sleep(0.5)
        assert site.current(app) == version
        status, body = site.env.get(app)  # the router still sends to the old release
        assert status == 200 and old_text in body, body
        yield
    finally:
        os.close(held)
        if site.server is not None:
            site.server.send_signal(signal.SIGCONT)


def run_to_stage(site: Site, repo: Path, app: str, stage: str, token: str) -> Push:
    """Push v2 and return once its deploy is at `stage` (at_switch: see parked_at_switch)."""
    push = Push(site.env, repo, app)
    if stage == "build":
        push.wait_for(f"RUN echo {token}")
    elif stage == "started":
        wait_until(f"{app}'s new containers", lambda: next_started(site, app), timeout=120)
        push.wait_for("Checking web.1")
    return push


def build_containers(token: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-a", "--no-trunc", "--format",
                          "{{.ID}} {{.Command}}"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return [line for line in out.splitlines() if token in line]


@pytest.mark.parametrize("stage", STAGES)
def test_deploy_killed_at_each_stage_heals(site: Site, made: list[str], tmp_path: Path,
                                           stage: str):
    app = f"kd-{stage}"
    made.append(app)
    repo = deployed_app(site, tmp_path, app)
    token = uuid.uuid4().hex
    write_version(repo, app, "v2", extra=f"RUN echo {token} && sleep 120\n"
                  if stage == "build" else "")
    push = run_to_stage(site, repo, app, stage, token)
    if stage == "switch":
        with parked_at_switch(site, app, 2, f"hello from {app} v1"):
            os.kill(deploy_pid(site, app), signal.SIGKILL)
    else:
        os.kill(deploy_pid(site, app), signal.SIGKILL)
    assert push.finish(timeout=60) != 0  # the push is refused, plainly
    assert "pre-receive hook declined" in push.output
    if stage == "switch":  # the store had switched: the new release is the one to serve
        site.wait_converged(app, f"hello from {app} v2")
        want = [(1, "succeeded"), (2, "succeeded")]
    else:  # the old release keeps serving; a release the deploy had created failed
        site.wait_converged(app, f"hello from {app} v1")
        want = [(1, "succeeded")] + ([(2, "failed")] if stage == "started" else [])
    assert [(r["version"], r["status"]) for r in site.releases(app)] == want
    if stage == "build":  # the engine cancelled the build and removed its container
        wait_until("the build container to go", lambda: not build_containers(token),
                   timeout=60)
    root = site.env.root
    wait_until("the dead deploy's checkout and build log to be swept", lambda: not [
        *root.joinpath("builds").glob(f"{app}-????????"),
        *root.joinpath("logs", "builds", app).glob(".pending-*")], timeout=30)
    if stage == "started":
        assert "reconcile: fail kd-started v2" in site.server_log()
    # and the app deploys normally afterwards
    write_version(repo, app, "v3")
    again = Push(site.env, repo, app)
    assert again.finish() == 0, again.output
    site.wait_converged(app, f"hello from {app} v3")


@pytest.mark.parametrize("stage", STAGES)
def test_server_killed_at_each_stage_of_a_deploy(site: Site, made: list[str],
                                                 tmp_path: Path, stage: str):
    app = f"ks-{stage}"
    made.append(app)
    repo = deployed_app(site, tmp_path, app)
    token = uuid.uuid4().hex
    write_version(repo, app, "v2", extra=f"RUN echo {token} && sleep 3\n"
                  if stage == "build" else "")
    push = run_to_stage(site, repo, app, stage, token)
    if stage == "switch":
        with parked_at_switch(site, app, 2, f"hello from {app} v1"):
            site.kill_server()
    else:
        site.kill_server()
    # the deploy does not need the server: it finishes, and Caddy (its own session) serves
    assert push.finish() == 0, push.output
    assert site.env.get(app)[1].count(f"hello from {app} v2") == 1
    site.start_server()
    site.wait_converged(app, f"hello from {app} v2")
    assert [(r["version"], r["status"]) for r in site.releases(app)] == \
        [(1, "succeeded"), (2, "succeeded")]


def test_server_killed_under_an_http_push(site: Site, made: list[str], tmp_path: Path):
    """Git over HTTP runs under `berth server`: killing the server ends that push's deploy
    too (its output has nowhere to go). Whichever release the store kept serves, alone."""
    app = "ks-http"
    made.append(app)
    repo = deployed_app(site, tmp_path, app)
    write_version(repo, app, "v2")
    push = Push(site.env, repo, app, http=True)
    wait_until(f"{app}'s new containers", lambda: next_started(site, app), timeout=120)
    site.kill_server()
    assert push.finish(timeout=60) != 0
    site.start_server()
    wait_until("the deploy to end", lambda: site.lock_free(app), timeout=60)
    current = site.current(app)
    site.wait_converged(app, f"hello from {app} v{current}")
    assert [r["status"] for r in site.releases(app)] == \
        ["succeeded", "succeeded" if current == 2 else "failed"]


def test_lock_of_a_killed_deploy_frees_the_next_one_at_once(site: Site, made: list[str],
                                                            tmp_path: Path):
    app = "stale"
    made.append(app)
    repo = deployed_app(site, tmp_path, app)
    lock = site.env.root / "locks" / f"app-{app}.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from berth import locks\n"
         "with locks.hold(Path(sys.argv[1]), what='x', timeout=5, holder='doomed'):\n"
         "    print('held', flush=True); time.sleep(600)", str(lock)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    assert not site.lock_free(app)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert f"doomed pid={holder.pid}" in lock.read_text()  # its note stays, its lock does not
    write_version(repo, app, "v2")
    started = time.monotonic()
    push = Push(site.env, repo, app)
    assert push.finish() == 0, push.output
    assert "Waiting for another deploy" not in push.output
    print(f"deploy after a killed lock holder took {time.monotonic() - started:.1f}s")
    site.wait_converged(app, f"hello from {app} v2")


def test_reboot_brings_every_app_back(site: Site, made: list[str], tmp_path: Path):
    """Everything stops as in a power cut (server and Caddy killed, app containers stopped),
    then only `berth server` starts: the apps come back and answer."""
    apps = ["boot-a", "boot-b"]
    made.extend(apps)
    for app in apps:
        deployed_app(site, tmp_path, app)
    site.kill_server()
    caddy = site.caddy_pid()
    assert caddy is not None
    os.kill(caddy, signal.SIGKILL)
    wait_until("Caddy to die", lambda: not Path(f"/proc/{caddy}").exists()
               or b"Z" in Path(f"/proc/{caddy}/stat").read_bytes().split(b")")[-1][:3],
               timeout=10)
    for app in apps:
        names = [c["name"] for c in site.containers(app)]
        subprocess.run(["docker", "stop", "-t", "2", *names], check=True, capture_output=True,
                       timeout=120)
        assert all(c["state"] == "exited" for c in site.containers(app))
        with pytest.raises(OSError):
            site.env.get(app, timeout=2)
    site.start_server()
    for app in apps:
        site.wait_converged(app, f"hello from {app} v1", timeout=90)
    assert site.caddy_pid() != caddy


class _Unix(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(self.path))


def caddy_dials(site: Site) -> set[str]:
    conn = _Unix(site.env.root / "caddy" / "admin.sock")
    try:
        conn.request("GET", "/config/")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    dials: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            dyn = node.get("dynamic_upstreams")
            if dyn:  # Caddy asks berth's resolver, as done here; the static list is a fallback
                from berth.routers import resolver

                port = int(dyn["resolver"]["addresses"][0].rsplit(":", 1)[1])
                ips = resolver.lookup(port, dyn["name"]) or []
                dials.update(f"{ip}:{dyn['port']}" for ip in ips)
                return
            if isinstance(node.get("dial"), str):
                dials.add(node["dial"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(text))
    return dials


def test_routes_follow_a_container_whose_address_changed(site: Site, made: list[str],
                                                         tmp_path: Path):
    app = "moved"
    made.append(app)
    deployed_app(site, tmp_path, app)
    (web,) = site.containers(app)
    net = f"{site.prefix}-{app}"
    squat = f"{site.prefix}-squatter"
    subprocess.run(["docker", "network", "disconnect", net, web["name"]], check=True,
                   capture_output=True, timeout=60)
    try:  # another container takes the freed address (the lowest free one), so the app's
        # comes back different
        subprocess.run(["docker", "run", "-d", "--name", squat, "--network", net,
                        "berth/stack-static:bookworm", "sleep", "300"],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(["docker", "network", "connect", net, web["name"]], check=True,
                       capture_output=True, timeout=60)
        (moved,) = site.containers(app)
        assert moved["ip"] and moved["ip"] != web["ip"]
        wait_until("Caddy to dial the new address",
                   lambda: f"{moved['ip']}:5000" in caddy_dials(site), timeout=30)
        assert f"{web['ip']}:5000" not in caddy_dials(site)
        site.wait_converged(app, f"hello from {app} v1", timeout=30)
    finally:
        subprocess.run(["docker", "rm", "-f", squat], capture_output=True, timeout=60)


def dockerd_process() -> tuple[int, list[str], str, dict[str, str], str | None]:
    """(pid, argv, cwd, environment, log file) of the running dockerd."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and Path(argv[0].decode()).name == "dockerd":
            found.append(int(proc.name))
    assert len(found) == 1, f"expected one dockerd, found {found}"
    pid = found[0]
    base = Path(f"/proc/{pid}")
    argv = [a.decode() for a in (base / "cmdline").read_bytes().split(b"\0") if a]
    env = dict(line.decode().partition("=")[::2] for line in
               (base / "environ").read_bytes().split(b"\0") if b"=" in line)
    log = os.readlink(base / "fd" / "2")
    return pid, argv, os.readlink(base / "cwd"), env, log if log.startswith("/") else None


def docker_up() -> bool:
    return subprocess.run(["docker", "version"], capture_output=True, timeout=30).returncode == 0


def restart_dockerd() -> tuple[int, int]:
    """Stop dockerd (SIGTERM: it stops the containers) and start it again exactly as it was
    started (same argv, working directory, environment and log file, a session of its own,
    not our child); under systemd, `systemctl restart docker`. Returns (old pid, new pid)."""
    pid, argv, cwd, env, log = dockerd_process()
    if Path("/run/systemd/system").is_dir():
        subprocess.run(["systemctl", "restart", "docker"], check=True, timeout=180)
    else:
        os.kill(pid, signal.SIGTERM)
        try:
            wait_until("dockerd to stop", lambda: not Path(f"/proc/{pid}").exists(),
                       timeout=120, step=0.2)
        finally:
            if not Path(f"/proc/{pid}").exists():
                with open(log or os.devnull, "ab") as out:
                    subprocess.run(["setsid", "-f", *argv], cwd=cwd, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   check=True, timeout=30)
    wait_until("the Docker engine to answer", docker_up, timeout=120, step=0.5)
    return pid, dockerd_process()[0]


@pytest.mark.disruptive
def test_engine_restart_brings_apps_back_with_fresh_routes(site: Site, made: list[str],
                                                          tmp_path: Path):
    app = "engine"
    made.append(app)
    deployed_app(site, tmp_path, app)
    (before,) = site.containers(app)
    server = site.server
    assert server is not None
    _, argv, cwd, _, log = dockerd_process()
    old, new = restart_dockerd()
    assert new != old
    _, argv2, cwd2, _, log2 = dockerd_process()
    assert (argv2, cwd2, log2) == (argv, cwd, log)  # restored as it was
    site.wait_converged(app, f"hello from {app} v1", timeout=120)
    (after,) = site.containers(app)
    assert f"{after['ip']}:5000" in caddy_dials(site)  # routes follow the (new) address
    assert server.poll() is None  # the server rode out the engine's absence, saying so
    assert "reconcile failed" not in site.server_log(), site.server_log()[-3000:]
    print(f"app address before/after the engine restart: {before['ip']} / {after['ip']}")
