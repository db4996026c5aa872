"""Smart-HTTP git pushes through `git http-backend`, with token auth (Basic, the token as
password). The first push to an unknown app creates it, as over SSH."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, cast
from urllib.parse import urlsplit

from berth import names
from berth.errors import BerthError, LockTimeout
from berth.paths import Paths

PATH = re.compile(r"/([a-z0-9][a-z0-9-]{0,62})(?:\.git)?(/(?:info/refs|git-receive-pack|"
                  r"git-upload-pack))$")


def user_for(root: Path, header: str | None) -> str | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        _, _, token = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    from berth.store import db, keys

    conn = db.connect(Paths(root).db)
    try:
        return keys.user_for_token(conn, hashlib.sha256(token.encode()).hexdigest())
    finally:
        conn.close()


class GitHandler(BaseHTTPRequestHandler):
    root: Path
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _deny(self, code: int, text: str) -> None:
        body = (text + "\n").encode()
        self.send_response(code)
        if code == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="berth"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        m = PATH.fullmatch(url.path)
        if not m:
            return self._deny(404, "not found")
        user = user_for(self.root, self.headers.get("Authorization"))
        if user is None:
            return self._deny(401, "a berth token is required (berth tokens:create USER)")
        app = m.group(1)
        service = "git-receive-pack" if "receive-pack" in (url.query + m.group(2)) else ""
        try:
            names.app_name(app)
            self._ensure_app(app, user, create=bool(service))
        except BerthError as e:
            return self._deny(e.http_status, str(e))
        if self.command == "POST" and m.group(2) == "/git-receive-pack":
            with push_lock(self.root, app, user) as handed:
                return self._cgi(app, m.group(2), url.query, user, handed)
        self._cgi(app, m.group(2), url.query, user)

    def _ensure_app(self, app: str, user: str, *, create: bool) -> None:
        """Create on first push (admins only); otherwise the user needs access to the app."""
        from berth import apps, permissions
        from berth.context import Ctx

        ctx = Ctx(paths=Paths(self.root), actor=user)
        try:
            if not apps.exists(ctx, app):
                if not create or not permissions.is_admin(ctx):
                    raise permissions.denied()
                apps.create(ctx, app)
            else:
                permissions.require_app(ctx, app, "deploy" if create else "read")
        finally:
            if ctx._conn is not None:
                ctx._conn.close()

    def _cgi(self, app: str, path_info: str, query: str, user: str,
             handed: tuple[int | None, dict[str, str]] = (None, {})) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(Paths(self.root).repos),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{app}.git{path_info}",
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_USER": user,
            "REMOTE_ADDR": self.client_address[0],
            "BERTH_ROOT": str(self.root),
            "BERTH_ACTOR": user,
        }
        if os.environ.get("PYTHONPATH"):  # the hook runs the same berth as this server
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if length:
            env["CONTENT_LENGTH"] = str(length)
        fd, extra = handed
        proc = subprocess.Popen(["git", "http-backend"], env={**env, **extra},
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                pass_fds=() if fd is None else (fd,))
        assert proc.stdin is not None and proc.stdout is not None
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        feeder = threading.Thread(target=self._feed, args=(proc.stdin, length, chunked),
                                  daemon=True)
        feeder.start()
        status, headers = 200, []
        while True:
            line = proc.stdout.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((key, value.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        out = cast(io.BufferedReader, proc.stdout)
        while chunk := out.read1(65536):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        proc.wait()
        feeder.join(timeout=5)

    def _feed(self, stdin: IO[bytes], length: int, chunked: bool) -> None:
        try:
            if chunked:
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    stdin.write(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return
            left = length
            while left > 0:
                chunk = self.rfile.read(min(65536, left))
                if not chunk:
                    break
                stdin.write(chunk)
                left -= len(chunk)
        except (OSError, ValueError):
            pass
        finally:
            stdin.close()


@contextmanager
def push_lock(root: Path, app: str, user: str
              ) -> Iterator[tuple[int | None, dict[str, str]]]:
    """The app's deploy lock for the whole receive-pack request, handed down to its hook (see
    ssh.shell.push_lock). After lock-timeout the push goes ahead unlocked: its hook then waits
    itself and says plainly that it timed out."""
    from berth import locks
    from berth.context import Ctx
    from berth.deploy import app_lock_path
    from berth.store import settings

    ctx = Ctx(paths=Paths(root))
    try:
        timeout = float(settings.get(ctx.conn, "lock-timeout"))
    finally:
        ctx.conn.close()
    path = app_lock_path(ctx, app)
    try:
        fd = locks.acquire(path, what=f"another deploy of {app}", timeout=timeout,
                           holder=f"{user} (git over HTTP)")
    except LockTimeout:
        yield None, {}
        return
    try:
        yield fd, {**locks.hand_down(fd, path), "GIT_CONFIG_COUNT": "1",
                   "GIT_CONFIG_KEY_0": "gc.autoDetach", "GIT_CONFIG_VALUE_0": "false"}
    finally:
        os.close(fd)  # the lock is free once http-backend and its hook have exited too


def serve(root: Path, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundGitHandler", (GitHandler,), {"root": root})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="git-http", daemon=True).start()
    return server
