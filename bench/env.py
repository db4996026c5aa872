"""A private berth root for the benchmarks: its own BERTH_ROOT under /tmp, Caddy on a free
loopback port, a `berth server` subprocess, and an sshd on a loopback port with two keys: one
carrying berth's forced command (as users get), one forced to run `true` (the SSH floor).
Everything it starts it stops, and every container, network and image of its root goes."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
APPS = REPO / "tests" / "apps"
SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def berth_bin() -> str:
    found = shutil.which("berth")
    if found is None:
        raise SystemExit("bench: `berth` is not on PATH (run ./install.sh, or put "
                         "/opt/berth/venv/bin first on PATH)")
    return found


def python_of(exe: str) -> str:
    """The interpreter a console script runs with (its shebang), for the CLI floor."""
    first = Path(exe).read_text(errors="replace").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else "python3"


class BenchEnv:
    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="bbench-"))
        self.root = self.base / "root"
        self.router_port = free_port()
        self.ssh_port = free_port()
        self.key = self.base / "id_user"
        self.floor_key = self.base / "id_floor"
        self.exe = berth_bin()
        self._server: subprocess.Popen[bytes] | None = None
        self._sshd: subprocess.Popen[bytes] | None = None
        self.prefix = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, interval: float = 5.0) -> BenchEnv:
        os.environ["BERTH_ROOT"] = str(self.root)  # for in-process berth calls
        from berth.instance import prefix

        self.prefix = prefix()
        self.berth("settings:set", "listen", f"127.0.0.1:{self.router_port}")
        self.berth("settings:set", "http-listen", f"127.0.0.1:{free_port()}")
        auth = self.base / "authorized_keys"
        self.berth("settings:set", "authorized-keys", str(auth))
        for key in (self.key, self.floor_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                           check=True)
        self.berth("ssh-keys:add", "bench", "--role", "admin",
                   input=self.key.with_suffix(".pub").read_text())
        floor = self.base / "floor_keys"
        floor.write_text('command="/bin/true",restrict '
                         + self.floor_key.with_suffix(".pub").read_text())
        self._sshd = self._start_sshd(auth, floor)
        log = open(self.base / "server.log", "wb")  # noqa: SIM115 - the server keeps it
        self._server = subprocess.Popen([self.exe, "server", "--interval", str(interval)],
                                        env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        self.wait_router()
        return self

    def _start_sshd(self, auth: Path, floor: Path) -> subprocess.Popen[bytes]:
        hostkey = self.base / "ssh_host_ed25519_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)],
                       check=True)
        cfg = self.base / "sshd_config"
        cfg.write_text(
            f"Port {self.ssh_port}\nListenAddress 127.0.0.1\nHostKey {hostkey}\n"
            f"AuthorizedKeysFile {auth} {floor}\nPermitRootLogin forced-commands-only\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            f"StrictModes no\nPidFile {self.base / 'sshd.pid'}\n"
            f"SetEnv PYTHONPATH={REPO} BERTH_ROOT={self.root}\n")
        Path("/run/sshd").mkdir(exist_ok=True)
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(cfg)],
                                stderr=open(self.base / "sshd.log", "wb"))  # noqa: SIM115
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.ssh_port), timeout=1).close()
                return proc
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("bench sshd did not start: " + (self.base / "sshd.log").read_text())

    def wait_router(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.router_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the router never listened; see " + str(self.base / "server.log"))

    @property
    def server_pid(self) -> int:
        assert self._server is not None
        return self._server.pid

    def caddy_pid(self) -> int | None:
        return self._pid(self.root / "caddy" / "caddy.pid")

    def resolver_pid(self) -> int | None:
        return self._pid(self.root / "caddy" / "resolver.pid")

    @staticmethod
    def _pid(path: Path) -> int | None:
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self._server is not None:
            self._server.send_signal(signal.SIGTERM)
            try:
                self._server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()
        if self._sshd is not None:
            self._sshd.terminate()
            self._sshd.wait(timeout=10)
        self.cleanup()
        shutil.rmtree(self.base, ignore_errors=True)

    def cleanup(self) -> None:
        """Every container, network and app image of this root (never berth/stack-*)."""
        inst = self.prefix
        if not inst or inst == "berth":
            return
        ids = _out(["docker", "ps", "-aq", "--filter", f"label=berth.instance={inst}"])
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        nets = _out(["docker", "network", "ls", "-q", "--filter", f"name={inst}-"])
        if nets:
            subprocess.run(["docker", "network", "rm", *nets], capture_output=True)
        refs = [r for r in _out(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"])
                if r.startswith(f"{inst}/")]
        if refs:
            subprocess.run(["docker", "rmi", "-f", *refs], capture_output=True)
        from berth.routers import caddy

        caddy.stop_caddy(self.root)

    # -- talking to berth --------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {**os.environ, "BERTH_ROOT": str(self.root), "PYTHONPATH": str(REPO)}

    def berth(self, *args: str, input: str | None = None, check: bool = True,
              timeout: float = 600) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([self.exe, *args], input=input, capture_output=True, text=True,
                              env=self.env(), timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"berth {' '.join(args)} failed ({proc.returncode}):\n"
                               f"{proc.stdout}\n{proc.stderr}")
        return proc

    def ssh_argv(self, command: str, key: Path | None = None) -> list[str]:
        return ["ssh", "-p", str(self.ssh_port), "-i", str(key or self.key),
                "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "ControlMaster=no", "-o", "ControlPath=none",
                "-T", "root@127.0.0.1", command]

    def git_env(self) -> dict[str, str]:
        ssh = (f"ssh -p {self.ssh_port} -i {self.key} -o IdentitiesOnly=yes "
               "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")
        return {**os.environ, "GIT_SSH_COMMAND": ssh, "GIT_TERMINAL_PROMPT": "0"}

    def push_argv(self, app: str) -> list[str]:
        return ["git", "push", "--force", f"root@127.0.0.1:{app}", "main:main"]

    def push(self, repo: Path, app: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.push_argv(app), cwd=repo, capture_output=True, text=True,
                              env=self.git_env(), timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"git push to {app} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def ctx(self) -> Any:
        """An in-process berth context on this root (quiet)."""
        from berth.context import Ctx

        os.environ["BERTH_ROOT"] = str(self.root)
        return Ctx(actor="bench", out=lambda _line: None)

    # -- HTTP --------------------------------------------------------------------------------

    def get(self, app: str, path: str = "/", timeout: float = 5,
            host: str | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.router_port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Host": host or f"{app}.localhost"})
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace")
        finally:
            conn.close()

    def host(self, app: str) -> str:
        return f"{app}.localhost"

    def url(self) -> str:
        return f"http://127.0.0.1:{self.router_port}/"


def get_direct(address: str, path: str = "/", timeout: float = 5) -> tuple[int, str]:
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def wait_until(probe: Any, text: str, *, timeout: float = 60, interval: float = 0.02) -> float:
    """Poll ``probe() -> (status, body)`` until it answers 200 with ``text``; returns the
    monotonic time it did. Bounded by ``timeout`` (RuntimeError past it)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            status, body = probe()
            if status == 200 and text in body:
                return time.monotonic()
            last = f"{status} {body[:100]!r}"
        except OSError as e:
            last = repr(e)
        time.sleep(interval)
    raise RuntimeError(f"never answered {text!r} within {timeout:g}s; last: {last}")


def make_repo(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=dest, check=True,
                   capture_output=True)
    commit(dest, "initial")
    return dest


def commit(repo: Path, message: str) -> None:
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", *ident, "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run(["git", *ident, "commit", "-q", "--allow-empty", "-m", message], cwd=repo,
                   check=True, capture_output=True)


def _out(argv: list[str]) -> list[str]:
    return subprocess.run(argv, capture_output=True, text=True).stdout.split()
