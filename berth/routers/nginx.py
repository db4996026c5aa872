"""The second router: nginx, for people who want Dokku's proxy.

Files, all under ``ROOT/nginx/`` (mode 0700)::

    nginx.conf          main config: logging format, default servers (404), include apps/*
    apps/APP.conf       one file per app: its upstreams and server blocks
    apps/APP.htpasswd   basic-auth users of the app (bcrypt hashes), mode 0600
    pages/APP.html      the app's maintenance page
    errors/APP.txt      why the app's newest config was refused (kept until it is accepted)
    test/               candidate configs checked with ``nginx -t`` before they go live
    nginx.pid error.log tmp/

An app's new file is checked with ``nginx -t`` together with the other apps' live files
before it replaces its live one; a refused file leaves the app's last good file (and every
other app) serving, and :meth:`NginxRouter.apply` reports it with a RouterError once the
rest is live. A reload is ``SIGHUP`` to the master, which nginx applies gracefully.

nginx cannot obtain certificates by ACME (``tls:auto``) and has no zstd: see :data:`LACKS`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from berth.errors import RouterError
from berth.files import write_atomic
from berth.routers.base import (
    Listeners,
    PortMap,
    Route,
    dials,
    effective_ports,
    listen_port,
    port_suffix,
    with_port,
)

LACKS = ("tls:auto (ACME certificates; use certs:add or certs:generate)",
         "zstd compression (gzip only)")
NOT_FOUND_BODY = "no app here\\n"
DOWN_BODY = "no running web process\\n"
START_TIMEOUT = 10.0
_children: dict[int, subprocess.Popen[bytes]] = {}


# -- where things are ------------------------------------------------------------------------


def nginx_dir(root: Path) -> Path:
    return root / "nginx"


def _conf(root: Path) -> Path:
    return nginx_dir(root) / "nginx.conf"


def _pid_file(root: Path) -> Path:
    return nginx_dir(root) / "nginx.pid"


def _error_log(root: Path) -> Path:
    return nginx_dir(root) / "error.log"


def apps_dir(root: Path) -> Path:
    return nginx_dir(root) / "apps"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if found is None:
        raise RouterError("nginx not found: apt-get install nginx-light (or put nginx on PATH)")
    return found


def available() -> bool:
    try:
        nginx_binary()
    except RouterError:
        return False
    return True


# -- the config (pure) -----------------------------------------------------------------------


def _q(text: str) -> str:
    """A quoted nginx string for paths and names berth made (never user free text)."""
    if any(c in text for c in '"\\$;{}\n\r\0'):
        raise RouterError(f"cannot use {text!r} in an nginx config (quotes, '$', ';', braces)")
    return f'"{text}"'


def _listen(address: str, ssl: bool = False, default: bool = False) -> str:
    host, _, port = address.rpartition(":")
    target = f"{host}:{port}" if host else port
    return f"listen {target}" + (" ssl" if ssl else "") + (" default_server" if default else "") \
        + ";"


def _address(port: int, lst: Listeners) -> str:
    if port == listen_port(lst.http):
        return lst.http
    if port == listen_port(lst.https):
        return lst.https
    return with_port(lst.http, port)


def listener_ports(routes: Sequence[Route], lst: Listeners) -> dict[int, str]:
    """port -> scheme for every listener the table needs (the main http one always)."""
    out = {listen_port(lst.http): "http"}
    for route in routes:
        for m in effective_ports(route, lst):
            if out.setdefault(m.host_port, m.scheme) != m.scheme:
                raise RouterError(f"port {m.host_port} cannot serve both http and https")
    return out


LOG_FORMAT = (
    "log_format berth_json escape=json '{\"router\":\"nginx\",\"ts\":$msec,"
    "\"app\":\"$berth_app\",\"host\":\"$host\",\"method\":\"$request_method\","
    "\"uri\":\"$request_uri\",\"proto\":\"$server_protocol\",\"status\":$status,"
    "\"size\":$body_bytes_sent,\"duration\":$request_time,\"remote_ip\":\"$remote_addr\","
    "\"request_id\":\"$request_id\",\"user_agent\":\"$http_user_agent\","
    "\"upstream\":\"$upstream_addr\"}';"
)


def main_config(root: Path, routes: Sequence[Route], lst: Listeners, *,
                includes: Sequence[Path] | None = None, log_dir: Path | None = None) -> str:
    """The main nginx.conf: ``includes`` lists app files explicitly (for a test), else the
    live ``apps/*.conf`` glob is included."""
    d = nginx_dir(root)
    user = "user root;\n" if os.geteuid() == 0 else ""
    lines = [
        "# written by berth; changes are overwritten",
        f"{user}worker_processes 1;",
        f"pid {_q(str(_pid_file(root)))};",
        f"error_log {_q(str(_error_log(root)))} warn;",
        "events { worker_connections 1024; }",
        "http {",
        "    server_tokens off;",
        "    types { text/html html; text/plain txt; }",
        "    default_type application/octet-stream;",
        "    server_names_hash_bucket_size 128;",
        "    client_max_body_size 0;",
        "    proxy_http_version 1.1;",
        "    proxy_buffering off;",
        "    proxy_request_buffering off;",
        "    map $http_upgrade $berth_connection_upgrade { default upgrade; '' ''; }",
        f"    {LOG_FORMAT}",
        "    access_log off;",
    ]
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        lines.append(f"    {name}_temp_path {_q(str(d / 'tmp' / name))};")
    for port, scheme in sorted(listener_ports(routes, lst).items()):
        addr = _address(port, lst)
        lines.append("    server {")
        lines.append(f"        {_listen(addr, scheme == 'https', True)}")
        lines.append("        server_name _;")
        lines.append('        set $berth_app "-";')
        if log_dir is not None:
            lines.append(f"        access_log {_q(str(log_dir / '_unknown.log'))} berth_json;")
        if scheme == "https":
            lines.append("        ssl_reject_handshake on;")
        else:
            lines.append("        default_type text/plain;")
            lines.append(f'        return 404 "{NOT_FOUND_BODY}";')
        lines.append("    }")
    if includes is None:
        lines.append(f"    include {_q(str(apps_dir(root) / '*.conf'))};")
    else:
        lines.extend(f"    include {_q(str(p))};" for p in includes)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _upstream_name(app: str, port: int) -> str:
    name = f"berth_{app.replace('-', '_')}"
    return f"{name}_{port}" if port else name


def htpasswd(route: Route) -> str:
    return "".join(f"{u}:{h}\n" for u, h in sorted(route.auth))


def app_config(root: Path, route: Route, lst: Listeners, *,
               log_dir: Path | None = None) -> str:
    """The file of one app: upstreams, then one server block per listener port."""
    d = nginx_dir(root)
    hosts = sorted({h.strip().lower().rstrip(".") for h in route.hosts if h.strip()})
    maps = effective_ports(route, lst)
    out = [f"# berth app {route.app}; written by berth, changes are overwritten"]
    for port in sorted({m.container_port for m in maps}):
        ups = dials(route, port)
        if ups and not route.maintenance:
            out.append(f"upstream {_upstream_name(route.app, port)} {{")
            out.extend(f"    server {u} max_fails=1 fail_timeout=5s;" for u in ups)
            out.append("    keepalive 16;")
            out.append("}")
    has_https = any(m.scheme == "https" for m in maps)
    https_port = next((m.host_port for m in maps if m.scheme == "https"), None)
    for m in maps:
        https = m.scheme == "https"
        addr = _address(m.host_port, lst)
        common = [f"    {_listen(addr, https)}"]
        if log_dir is not None:
            common.append(f"    access_log {_q(str(log_dir / (route.app + '.log')))} berth_json;")
        common.append(f"    set $berth_app {route.app};")
        if https:
            common.append(f"    ssl_certificate {_q(str(route.tls_cert))};")
            common.append(f"    ssl_certificate_key {_q(str(route.tls_key))};")
        for r in route.redirects:
            out.append("server {")
            out.extend(common)
            out.append(f"    server_name {r.from_host};")
            out.append(f"    return {r.code} $scheme://{r.to_host}"
                       f"{port_suffix(m.scheme, m.host_port)}$request_uri;")
            out.append("}")
        if not hosts:
            continue
        out.append("server {")
        out.extend(common)
        out.append(f"    server_name {' '.join(hosts)};")
        if not https and has_https and m.host_port == listen_port(lst.http):
            out.append(f"    return 308 https://$host{port_suffix('https', https_port or 443)}"
                       "$request_uri;")
            out.append("}")
            continue
        if route.max_body is not None:
            out.append(f"    client_max_body_size {route.max_body};")
        if route.maintenance:
            page = d / "pages" / f"{route.app}.html"
            out.append("    error_page 503 /__berth_maintenance.html;")
            out.append("    location = /__berth_maintenance.html {")
            out.append("        internal;")
            out.append("        default_type text/html;")
            out.append("        add_header Retry-After 60 always;")
            out.append(f"        alias {_q(str(page))};")
            out.append("    }")
        out.append("    location / {")
        out.extend(_location(root, route, m, https))
        out.append("    }")
        if route.snippet:
            out.append("    # nginx:snippet of the app")
            out.extend("    " + line for line in route.snippet.splitlines())
        out.append("}")
    return "\n".join(out) + "\n"


def _location(root: Path, route: Route, m: PortMap, https: bool) -> list[str]:
    ind = "        "
    if route.maintenance:
        return [f"{ind}return 503;"]
    if not dials(route, m.container_port):
        return [f"{ind}default_type text/plain;", f"{ind}add_header Retry-After 5 always;",
                f'{ind}return 503 "{DOWN_BODY}";']
    lines = [f"{ind}add_header X-Request-Id $request_id always;"]
    if https and route.hsts:
        lines.append(f'{ind}add_header Strict-Transport-Security "max-age={route.hsts}" always;')
    if route.auth:
        lines.append(f"{ind}auth_basic {_q(route.app)};")
        lines.append(f"{ind}auth_basic_user_file "
                     f"{_q(str(apps_dir(root) / (route.app + '.htpasswd')))};")
    if route.compression:
        lines.append(f"{ind}gzip on;")
        lines.append(f"{ind}gzip_proxied any;")
        lines.append(f"{ind}gzip_types text/plain text/css text/xml application/json "
                     "application/javascript application/xml image/svg+xml;")
    if route.connect_timeout is not None:
        lines.append(f"{ind}proxy_connect_timeout {route.connect_timeout}s;")
    else:
        lines.append(f"{ind}proxy_connect_timeout 1s;")
    if route.read_timeout is not None:
        lines.append(f"{ind}proxy_read_timeout {route.read_timeout}s;")
        lines.append(f"{ind}proxy_send_timeout {route.read_timeout}s;")
    lines += [
        f"{ind}proxy_next_upstream error timeout;",
        f"{ind}proxy_set_header Host $http_host;",
        f"{ind}proxy_set_header X-Forwarded-For $remote_addr;",
        f"{ind}proxy_set_header X-Forwarded-Proto $scheme;",
        f"{ind}proxy_set_header X-Forwarded-Host $host;",
        f"{ind}proxy_set_header X-Forwarded-Port $server_port;",
        f"{ind}proxy_set_header X-Request-Id $request_id;",
        f"{ind}proxy_set_header Upgrade $http_upgrade;",
        f"{ind}proxy_set_header Connection $berth_connection_upgrade;",
        f"{ind}proxy_pass http://{_upstream_name(route.app, m.container_port)};",
    ]
    return lines


# -- files -----------------------------------------------------------------------------------


def _ensure_dirs(root: Path) -> Path:
    d = nginx_dir(root)
    for sub in ("", "apps", "pages", "errors", "test", "tmp"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    return d


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    write_atomic(path, text, mode=mode)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    with open(_ensure_dirs(root) / "lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def test_config(root: Path, conf: Path) -> str | None:
    """``nginx -t`` on ``conf``: None if it is good, else nginx's message."""
    argv = [nginx_binary(), "-t", "-q", "-p", str(nginx_dir(root)), "-c", str(conf),
            "-e", str(nginx_dir(root) / "test" / "error.log")]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if proc.returncode == 0:
        return None
    lines = [ln for ln in (proc.stderr + proc.stdout).splitlines()
             if "test failed" not in ln and ln.strip()]
    return "\n".join(lines[-3:]) or f"nginx -t exited with {proc.returncode}"


# -- process supervision ---------------------------------------------------------------------


def _read_pid(root: Path) -> int | None:
    try:
        return int(_pid_file(root).read_text().strip())
    except (OSError, ValueError):
        return None


def _is_ours(root: Path, pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    # nginx rewrites its title ("nginx: master process ARGV..."), so look for the config path
    return state != b"Z" and b" " + os.fsencode(_conf(root)) + b" " in cmdline.replace(b"\0", b" ")


def master_pid(root: Path) -> int | None:
    pid = _read_pid(root)
    return pid if pid is not None and _is_ours(root, pid) else None


def is_running(root: Path) -> bool:
    return master_pid(root) is not None


def _workers(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(x) for x in text.split()}


def _reap(pid: int) -> None:
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=0.1)


def _log_tail(root: Path, lines: int = 5) -> str:
    text = _read(_error_log(root)) or ""
    return "\n".join(text.splitlines()[-lines:])


def _strays(root: Path) -> list[int]:
    """nginx processes left over from a master of ``root`` that died (a SIGKILLed master's
    workers keep its listening sockets): nginx processes whose working directory is ours."""
    d = os.fsencode(nginx_dir(root).resolve())
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not entry.joinpath("cmdline").read_bytes().startswith(b"nginx:"):
                continue
            cwd = os.fsencode(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == d:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _kill_strays(root: Path, timeout: float = 5.0) -> None:
    strays = _strays(root)
    for pid in strays:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while strays and time.monotonic() < deadline:
        for pid in strays:
            _reap(pid)
        strays = [p for p in strays if _alive(p)]
        time.sleep(0.05)


def start(root: Path, routes: Sequence[Route] = (), lst: Listeners | None = None, *,
          timeout: float = START_TIMEOUT) -> int:
    """Start nginx for ``root`` in its own session with a config for ``routes`` (none: every
    host answers 404); returns the master's pid once it wrote its pid file (ports bound)."""
    lst = lst or Listeners()
    binary = nginx_binary()
    d = _ensure_dirs(root)
    if is_running(root):
        raise RouterError(f"nginx is already running for {root} (pid {_read_pid(root)})")
    _kill_strays(root)
    _pid_file(root).unlink(missing_ok=True)
    # Start from the main config of ``routes`` with the live app files; if nginx refuses
    # them (say a certificate file is gone), with no app at all: apply() brings them back.
    main = main_config(root, routes, lst)
    _write(_conf(root), main)
    if test_config(root, _conf(root)) is not None:
        _write(_conf(root), _with_includes(main, root, []))
    argv = [binary, "-p", str(d), "-c", str(_conf(root)), "-e", str(_error_log(root)),
            "-g", "daemon off;"]
    with open(d / "nginx.out", "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,  # argv, no shell
                                stderr=subprocess.STDOUT, cwd=d, start_new_session=True)
    _children[proc.pid] = proc
    deadline = time.monotonic() + timeout
    while _read_pid(root) != proc.pid:
        if proc.poll() is not None:
            _children.pop(proc.pid, None)
            out = (_read(d / "nginx.out") or "").splitlines()[-3:]
            raise RouterError(f"nginx exited with status {proc.returncode} at start:\n"
                              + ("\n".join(out) or _log_tail(root)))
        if time.monotonic() >= deadline:
            proc.kill()
            proc.wait()
            _children.pop(proc.pid, None)
            raise RouterError(f"nginx did not start within {timeout:g}s:\n{_log_tail(root)}")
        time.sleep(0.05)
    return proc.pid


def ensure_running(root: Path, lst: Listeners | None = None) -> bool:
    """Adopt the running nginx for ``root`` or start one. True if it had to start it."""
    with _locked(root):
        if is_running(root):
            return False
        start(root, (), lst)
        return True


def reload(root: Path, *, timeout: float = 5.0) -> None:
    """SIGHUP the master and wait until a new worker runs the new config."""
    pid = master_pid(root)
    if pid is None:
        raise RouterError("nginx is not running")
    before = _workers(pid)
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _workers(pid)
        # new workers run, and the old ones stopped accepting (they may still finish
        # requests and websockets: "worker process is shutting down")
        if now - before and all(_shutting_down(w) for w in now & before):
            time.sleep(0.05)  # the title is set just before the listeners close
            return
        time.sleep(0.02)
    raise RouterError(f"nginx did not reload within {timeout:g}s:\n{_log_tail(root)}")


def _shutting_down(pid: int) -> bool:
    try:
        return b"shutting down" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # gone


def stop(root: Path, *, timeout: float = 10.0) -> bool:
    """Stop the nginx of ``root`` (graceful QUIT, then TERM, then KILL). True if one ran."""
    if not nginx_dir(root).is_dir():
        return False
    with _locked(root):
        pid = master_pid(root)
        if pid is None:
            stray = bool(_strays(root))
            _kill_strays(root)
            return stray
        for sig in (signal.SIGQUIT, signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + timeout / 3
            while time.monotonic() < deadline:
                child = _children.get(pid)
                if child is not None:
                    child.poll()
                if not _is_ours(root, pid):
                    _reap(pid)
                    _pid_file(root).unlink(missing_ok=True)
                    return True
                time.sleep(0.05)
        raise RouterError(f"could not stop nginx (pid {pid})")


# -- the router ------------------------------------------------------------------------------


class NginxRouter:
    """Router backed by an nginx whose config lives in ``ROOT/nginx/``."""

    name = "nginx"

    def __init__(self, root: Path, *, listeners: Listeners | None = None,
                 log_dir: Path | None = None) -> None:
        self.root = root
        self.listeners = listeners or Listeners()
        self.log_dir = log_dir

    def apply(self, routes: Sequence[Route], *, force: bool = False) -> None:
        """Check each changed app file with ``nginx -t`` and make the good ones live with one
        reload. RouterError (after the rest is live) names the apps whose file was refused."""
        with _locked(self.root):
            self._apply_unlocked(routes, force=force)

    def _apply_unlocked(self, routes: Sequence[Route], *, force: bool) -> None:
        d = _ensure_dirs(self.root)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        lst = self.listeners
        main = main_config(self.root, routes, lst, log_dir=self.log_dir)
        wanted = {r.app: r for r in routes}
        changed = force or _read(_conf(self.root)) != main
        for r in routes:  # side files first: a good config must find them
            self._side_files(r)
        for old in apps_dir(self.root).glob("*.conf"):
            if old.stem not in wanted:
                old.unlink()
                (apps_dir(self.root) / f"{old.stem}.htpasswd").unlink(missing_ok=True)
                (d / "pages" / f"{old.stem}.html").unlink(missing_ok=True)
                (d / "errors" / f"{old.stem}.txt").unlink(missing_ok=True)
                changed = True
        live = {a: _read(apps_dir(self.root) / f"{a}.conf") for a in wanted}
        new = {a: app_config(self.root, r, lst, log_dir=self.log_dir) for a, r in wanted.items()}
        todo = [a for a in sorted(wanted) if new[a] != live[a]]
        failed: dict[str, str] = {}
        if todo and self._test(main, {a: new[a] for a in todo}, live) is None:
            accepted = todo  # the common case: everything at once, one nginx -t
        else:
            accepted = []
            for a in todo:
                error = self._test(main, {a: new[a]}, live)
                if error is None:
                    accepted.append(a)
                    live[a] = new[a]
                else:
                    failed[a] = error
        for a in accepted:
            _write(apps_dir(self.root) / f"{a}.conf", new[a])
            changed = True
        for a in wanted:
            if a not in failed:  # live = wanted now: an old refusal no longer matters
                (d / "errors" / f"{a}.txt").unlink(missing_ok=True)
        for a, error in failed.items():
            _write(d / "errors" / f"{a}.txt", error + "\n")
        if changed:
            error = self._test(main, {}, {a: _read(apps_dir(self.root) / f"{a}.conf")
                                          for a in wanted})
            if error is not None:
                raise RouterError(f"nginx refused the config; the running one is kept:\n{error}")
            _write(_conf(self.root), main)
            if is_running(self.root):
                reload(self.root)
        if failed:
            names = ", ".join(sorted(failed))
            first = failed[sorted(failed)[0]]
            raise RouterError(f"nginx refused the new config of {names} (its last good config "
                              f"keeps serving; the other apps are live):\n{first}")

    def _side_files(self, route: Route) -> None:
        d = nginx_dir(self.root)
        auth = apps_dir(self.root) / f"{route.app}.htpasswd"
        if route.auth:
            if _read(auth) != htpasswd(route):
                _write(auth, htpasswd(route))
        page = d / "pages" / f"{route.app}.html"
        if route.maintenance:
            from berth.routers.caddy import default_maintenance_page

            text = route.maintenance_page or default_maintenance_page(route.app)
            if _read(page) != text:
                _write(page, text, 0o644)

    def _test(self, main: str, candidates: dict[str, str], live: dict[str, str | None]
              ) -> str | None:
        """nginx -t on ``main`` with the live app files, ``candidates`` replacing theirs."""
        test = nginx_dir(self.root) / "test"
        includes = []
        for a in sorted(set(live) | set(candidates)):
            if a in candidates:
                path = test / f"{a}.conf"
                _write(path, candidates[a])
                includes.append(path)
            elif live.get(a) is not None:
                includes.append(apps_dir(self.root) / f"{a}.conf")
        conf = test / "nginx.conf"
        _write(conf, _with_includes(main, self.root, includes))
        try:
            return test_config(self.root, conf)
        finally:
            for a in candidates:
                (test / f"{a}.conf").unlink(missing_ok=True)

    def is_running(self) -> bool:
        return is_running(self.root)

    def ensure_running(self) -> bool:
        return ensure_running(self.root, self.listeners)

    def stop(self) -> bool:
        return stop(self.root)

    def errors(self) -> dict[str, str]:
        d = nginx_dir(self.root) / "errors"
        return {p.stem: (_read(p) or "").strip() for p in sorted(d.glob("*.txt"))} \
            if d.is_dir() else {}

    def status(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "router": self.name,
            "running": self.is_running(),
            "pid": master_pid(self.root),
            "config": str(_conf(self.root)),
            "listen": [self.listeners.http],
            "route_count": 0,
            "routes": [],
            "lacks": list(LACKS),
            "errors": self.errors(),
        }
        routes = []
        for conf in sorted(apps_dir(self.root).glob("*.conf")) if nginx_dir(self.root).is_dir() \
                else []:
            routes.append(_read_back(conf))
        report.update(route_count=len(routes), routes=routes)
        return report


def _with_includes(main: str, root: Path, includes: list[Path]) -> str:
    glob_line = f"    include {_q(str(apps_dir(root) / '*.conf'))};"
    explicit = "\n".join(f"    include {_q(str(p))};" for p in includes)
    return main.replace(glob_line, explicit)


def _read_back(conf: Path) -> dict[str, Any]:
    """App, hosts, upstreams and listeners from a live app file."""
    hosts: list[str] = []
    ups: list[str] = []
    listen: list[str] = []
    redirects: list[str] = []
    text = _read(conf) or ""
    lines = [ln.strip() for ln in text.splitlines()]
    for i, ln in enumerate(lines):
        if ln.startswith("server_name "):
            names = ln[len("server_name "):].rstrip(";").split()
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt.startswith("return 30") and "$scheme://" in nxt:
                redirects.extend(names)
            else:
                hosts.extend(h for h in names if h not in hosts)
        elif ln.startswith("server ") and "max_fails" in ln:
            ups.append(ln.split()[1])
        elif ln.startswith("listen "):
            addr = ln.split()[1].rstrip(";")
            if addr not in listen:
                listen.append(addr)
    maintenance = "return 503;" in lines
    state = "maintenance" if maintenance else "up" if ups else "down"
    entry: dict[str, Any] = {"app": conf.stem, "hosts": hosts, "upstreams": sorted(set(ups)),
                             "listen": listen, "state": state}
    if redirects:
        entry["redirects"] = sorted(set(redirects))
    return entry
