"""Integration fixtures: a berth root of its own, Caddy on a free loopback port, a real sshd on
a loopback port whose keys carry berth's forced command, and helpers to push with git."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "tests" / "apps"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def docker_available() -> bool:
    return Path("/var/run/docker.sock").exists() and shutil.which("git") is not None


@dataclass
class Env:
    root: Path
    router_port: int
    http_port: int
    ssh_port: int
    key: Path
    token: str

    def berth(self, *args: str, input: str | None = None, check: bool = True,
              timeout: float = 600, stdin_bytes: bytes | None = None
              ) -> subprocess.CompletedProcess[str]:
        if stdin_bytes is not None:
            raw = subprocess.run(["berth", *args], input=stdin_bytes, capture_output=True,
                                 env=self.env(), timeout=timeout)
            proc = subprocess.CompletedProcess(raw.args, raw.returncode,
                                               raw.stdout.decode(errors="replace"),
                                               raw.stderr.decode(errors="replace"))
        else:
            proc = subprocess.run(["berth", *args], input=input, capture_output=True,
                                  text=True, env=self.env(), timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"berth {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def env(self) -> dict[str, str]:
        return {**os.environ, "BERTH_ROOT": str(self.root), "PYTHONPATH": str(REPO)}

    def git_env(self, key: Path | None = None) -> dict[str, str]:
        ssh = (f"ssh -p {self.ssh_port} -i {key or self.key} -o IdentitiesOnly=yes "
               "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")
        return {**os.environ, "GIT_SSH_COMMAND": ssh, "GIT_TERMINAL_PROMPT": "0"}

    def add_user(self, name: str, role: str = "user") -> Path:
        """A new user with a key of their own; returns the private key's path."""
        key = self.root.parent / f"id_{name}"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                           check=True)
            self.berth("ssh-keys:add", name, "--role", role,
                       input=key.with_suffix(".pub").read_text())
        return key

    def ssh(self, command: str, *, tty: bool = False, key: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        argv = ["ssh", "-p", str(self.ssh_port), "-i", str(key or self.key),
                "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", *(["-tt"] if tty else ["-T"]), "root@127.0.0.1",
                command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def ssh_remote(self, app: str) -> str:
        return f"root@127.0.0.1:{app}"

    def http_remote(self, app: str) -> str:
        return f"http://tester:{self.token}@127.0.0.1:{self.http_port}/{app}.git"

    def get(self, app: str, path: str = "/", timeout: float = 5) -> tuple[int, str]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.router_port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Host": f"{app}.localhost"})
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace")
        finally:
            conn.close()

    def wait_for(self, app: str, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                status, body = self.get(app)
                last = f"{status} {body[:200]}"
                if status == 200 and text in body:
                    return body
            except OSError as e:
                last = repr(e)
            time.sleep(0.3)
        raise AssertionError(f"{app} never answered {text!r}; last: {last}")


def make_repo(src: Path, dest: Path, branch: str = "main") -> Path:
    shutil.copytree(src, dest, dirs_exist_ok=True)
    run = {"cwd": dest, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", branch], **run)  # type: ignore[call-overload]
    commit(dest, "initial")
    return dest


def commit(repo: Path, message: str) -> None:
    ident = ["-c", "user.name=tester", "-c", "user.email=t@example.com"]
    subprocess.run(["git", *ident, "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run(["git", *ident, "commit", "-q", "--allow-empty", "-m", message], cwd=repo,
                   check=True, capture_output=True)


def push(env: Env, repo: Path, remote: str, branch: str = "main", timeout: float = 900,
         key: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", "--force", remote, f"{branch}:{branch}"], cwd=repo,
                          capture_output=True, text=True, env=env.git_env(key), timeout=timeout)


@pytest.fixture(scope="session")
def berth_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    if not docker_available():
        pytest.skip("needs a Docker engine at /var/run/docker.sock and git (run ./test.sh)")
    if not Path("/usr/sbin/sshd").exists():
        pytest.skip("needs OpenSSH's sshd (run ./test.sh)")
    base = tmp_path_factory.mktemp("berth")
    root = base / "root"
    os.environ["BERTH_ROOT"] = str(root)
    env = Env(root=root, router_port=free_port(), http_port=free_port(), ssh_port=free_port(),
              key=base / "id_ed25519", token="")
    env.berth("settings:set", "listen", f"127.0.0.1:{env.router_port}")
    env.berth("settings:set", "http-listen", f"127.0.0.1:{env.http_port}")
    auth = base / "authorized_keys"
    env.berth("settings:set", "authorized-keys", str(auth))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(env.key)],
                   check=True)
    env.berth("ssh-keys:add", "tester", input=(base / "id_ed25519.pub").read_text())
    env.token = env.berth("tokens:create", "tester").stdout.strip()
    sshd = start_sshd(base, env.ssh_port, auth)
    server = subprocess.Popen(["berth", "server", "--interval", "2"], env=env.env(),
                              stdout=open(base / "server.log", "w"), stderr=subprocess.STDOUT)
    wait_listening(env.http_port, server, base / "server.log")
    try:
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)
        sshd.terminate()
        cleanup(env)


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("berth server exited: " + log.read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("berth server did not listen: " + log.read_text())


def start_sshd(base: Path, port: int, auth: Path) -> subprocess.Popen[bytes]:
    hostkey = base / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)],
                   check=True)
    cfg = base / "sshd_config"
    cfg.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {hostkey}\n"
        f"AuthorizedKeysFile {auth}\nPermitRootLogin forced-commands-only\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        f"StrictModes no\nPidFile {base / 'sshd.pid'}\n"
        f"SetEnv PYTHONPATH={REPO} BERTH_ROOT={base / 'root'}\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)],
                            stderr=open(base / "sshd.log", "w"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("test sshd did not start: " + (base / "sshd.log").read_text())


def cleanup(env: Env) -> None:
    from berth.instance import prefix

    os.environ["BERTH_ROOT"] = str(env.root)
    inst = prefix()
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=berth.instance={inst}"],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
    nets = subprocess.run(["docker", "network", "ls", "-q", "--filter", f"name={inst}-"],
                          capture_output=True, text=True).stdout.split()
    if nets:
        subprocess.run(["docker", "network", "rm", *nets], capture_output=True)
    refs = [r for r in subprocess.run(["docker", "images", "--format",
                                       "{{.Repository}}:{{.Tag}}"],
                                      capture_output=True, text=True).stdout.split()
            if r.startswith(f"{inst}/")]  # the apps' images this root built
    if refs and inst != "berth":  # never the system install's (nor berth/stack-*)
        subprocess.run(["docker", "rmi", "-f", *refs], capture_output=True)
    from berth.routers import caddy, nginx

    caddy.stop_caddy(env.root)
    nginx.stop(env.root)  # after a `router:set nginx` test
