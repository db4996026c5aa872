"""A berth root of a test module's own, with its own `berth server` and sshd, for tests that
kill or restart the server (crash safety) or load it (concurrency) without touching the
session's shared `berth_env`. Helpers read the state a converged root must be in."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.conftest import Env, cleanup, free_port, make_repo, push, start_sshd


def prefix_of(root: Path) -> str:
    from berth.instance import prefix

    old = os.environ.get("BERTH_ROOT")
    os.environ["BERTH_ROOT"] = str(root)
    try:
        return prefix()
    finally:
        if old is None:
            os.environ.pop("BERTH_ROOT", None)
        else:
            os.environ["BERTH_ROOT"] = old


@dataclass
class Site:
    env: Env
    base: Path
    prefix: str
    server: subprocess.Popen[bytes] | None = None
    sshd: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    # -- processes -------------------------------------------------------------------------
    def start_server(self, interval: float = 1) -> None:
        log = self.base / f"server{len(self.logs)}.log"
        self.logs.append(log)
        self.server = subprocess.Popen(["berth", "server", "--interval", f"{interval:g}"],
                                       env=self.env.env(), stdout=open(log, "w"),
                                       stderr=subprocess.STDOUT)
        wait_until("berth server to listen", self._listening, timeout=30, step=0.1)

    def _listening(self) -> bool:
        assert self.server is not None
        if self.server.poll() is not None:
            raise AssertionError("berth server exited:\n" + self.server_log())
        try:
            socket.create_connection(("127.0.0.1", self.env.http_port), timeout=1).close()
            return True
        except OSError:
            return False

    def kill_server(self) -> None:
        assert self.server is not None
        self.server.send_signal(signal.SIGKILL)
        self.server.wait(timeout=30)
        self.server = None

    def deploy(self, app: str, src: Path, text: str) -> Path:
        """Push the fixture app ``src`` as ``app`` over SSH and wait until it answers with
        ``text``; the repo it pushed from."""
        repo = make_repo(src, self.base / app)
        res = push(self.env, repo, self.env.ssh_remote(app))
        assert res.returncode == 0, res.stdout + res.stderr
        self.env.wait_for(app, text)
        return repo

    def destroy(self, *apps: str) -> None:
        """Destroy apps a test made: each has a network of its own, and the engine's default
        address pools hold only about 30 networks, shared by everyone on this engine."""
        for app in apps:
            self.env.berth("apps:destroy", app, "--force", check=False, timeout=120)

    def server_log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def caddy_pid(self) -> int | None:
        try:
            return int((self.env.root / "caddy" / "caddy.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    # -- state -----------------------------------------------------------------------------
    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{self.env.root / 'berth.db'}?mode=ro", uri=True,
                               timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def integrity(self) -> str:
        with self.db() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])

    def current(self, app: str) -> int | None:
        conn = self.db()
        try:
            row = conn.execute("SELECT current_release FROM apps WHERE name = ?",
                               (app,)).fetchone()
            return None if row is None else row[0]
        finally:
            conn.close()

    def releases(self, app: str) -> list[dict[str, Any]]:
        """[{version, status, git_sha}] oldest first."""
        conn = self.db()
        try:
            rows = conn.execute(
                "SELECT r.version, r.status, r.git_sha FROM releases r JOIN apps a"
                " ON a.id = r.app_id WHERE a.name = ? ORDER BY r.version", (app,)).fetchall()
            return [dict(r) for r in rows]
        finally:
            conn.close()

    def containers(self, app: str) -> list[dict[str, str]]:
        """Every container of the app (any state): name, state, release label, ip."""
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=berth.instance={self.prefix}",
             "--filter", f"label=berth.app={app}"],
            capture_output=True, text=True, check=True, timeout=60).stdout.split()
        if not ids:
            return []
        data = json.loads(subprocess.run(["docker", "inspect", *ids], capture_output=True,
                                         text=True, check=True, timeout=60).stdout)
        out = []
        for c in data:
            nets = c["NetworkSettings"]["Networks"] or {}
            out.append({"name": c["Name"].lstrip("/"), "state": c["State"]["Status"],
                        "release": c["Config"]["Labels"].get("berth.release", ""),
                        "role": c["Config"]["Labels"].get("berth.role", ""),
                        "ip": next((n.get("IPAddress") or "" for n in nets.values()), "")})
        return sorted(out, key=lambda c: c["name"])

    def lock_holder(self, app: str) -> str:
        try:
            return (self.env.root / "locks" / f"app-{app}.lock").read_text().strip()
        except OSError:
            return ""

    def lock_free(self, app: str) -> bool:
        import fcntl

        path = self.env.root / "locks" / f"app-{app}.lock"
        if not path.exists():
            return True
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    def converged(self, app: str, text: str) -> str:
        """'' when the app is in its one good state, else what is still wrong: exactly the
        current release's containers run under their plain names, nothing is pending, the
        deploy lock is free, the store is sound, and the router sends to the app."""
        cur = self.current(app)
        if cur is None:
            return "no current release"
        rels = self.releases(app)
        if any(r["status"] == "pending" for r in rels):
            return f"pending releases left: {rels}"
        if not next(r for r in rels if r["version"] == cur)["status"] == "succeeded":
            return f"current v{cur} did not succeed: {rels}"
        cs = [c for c in self.containers(app) if c["role"] != "oneoff"]
        want = [f"{self.prefix}.{app}.web.1"]
        if [c["name"] for c in cs] != want or cs[0]["state"] != "running" \
                or cs[0]["release"] != str(cur):
            return f"containers are not exactly {want} of v{cur}: {cs}"
        if not self.lock_free(app):
            return f"deploy lock still held ({self.lock_holder(app)})"
        if (ok := self.integrity()) != "ok":
            return f"integrity_check: {ok}"
        try:
            status, body = self.env.get(app, timeout=3)
        except OSError as e:
            return f"app does not answer: {e!r}"
        if status != 200 or text not in body:
            return f"app answers {status} {body[:80]!r}, not {text!r}"
        return ""

    def wait_converged(self, app: str, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        why = "not checked"
        while time.monotonic() < deadline:
            why = self.converged(app, text)
            if not why:
                return
            time.sleep(0.5)
        raise AssertionError(f"{app} did not converge in {timeout:.0f}s: {why}\n"
                             f"server log tail:\n{self.server_log()[-3000:]}")


def wait_until(what: str, check: Callable[[], Any], timeout: float, step: float = 0.05
               ) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@contextmanager
def private_site(base: Path) -> Iterator[Site]:
    """A root under `base` with sshd (keys with berth's forced command) and `berth server`."""
    root = base / "root"
    env = Env(root=root, router_port=free_port(), http_port=free_port(), ssh_port=free_port(),
              key=base / "id_ed25519", token="")
    site = Site(env=env, base=base, prefix=prefix_of(root))
    env.berth("settings:set", "listen", f"127.0.0.1:{env.router_port}")
    env.berth("settings:set", "http-listen", f"127.0.0.1:{env.http_port}")
    auth = base / "authorized_keys"
    env.berth("settings:set", "authorized-keys", str(auth))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(env.key)],
                   check=True)
    env.berth("ssh-keys:add", "tester", input=(base / "id_ed25519.pub").read_text())
    env.token = env.berth("tokens:create", "tester").stdout.strip()
    site.sshd = start_sshd(base, env.ssh_port, auth)
    site.start_server()
    try:
        yield site
    finally:
        if site.server is not None:
            site.server.send_signal(signal.SIGCONT)
            site.server.terminate()
            try:
                site.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                site.server.kill()
        site.sshd.terminate()
        old = os.environ.get("BERTH_ROOT")
        try:
            cleanup(env)
        finally:
            if old is None:
                os.environ.pop("BERTH_ROOT", None)
            else:
                os.environ["BERTH_ROOT"] = old
