"""A tiny DNS responder that tells Caddy where each app's web containers are.

Caddy's config changes only when routes change (hosts, TLS, settings). A deploy, scale,
restart or rollback changes only the containers behind a route: berth writes the new
addresses to ``upstreams.json`` and Caddy finds them by an A lookup of
``APP.berth.internal.`` (cached for REFRESH), with no config reload. A reload drops
a few requests under load; this does not.

The responder is a small process of its own (``python -m berth.routers.resolver``) on
``127.0.0.1:PORT`` (UDP; PORT kept in ``resolver.port`` so Caddy's config stays the same
across restarts), started and adopted with Caddy (:func:`ensure_running`), so neither a
restart nor a hang of `berth server` reaches app traffic. It answers A queries for names in
the table (TTL 0), an empty answer for other types of a known name, and NXDOMAIN for the
rest. When it does not answer, Caddy falls back to the static upstreams of the config it last
loaded; so the router only skips a reload after :func:`answers` saw the responder give out
the new table.

Files under ``ROOT/caddy/``::

    upstreams.json  {"NAME.": ["IP", ...]}: the whole table, replaced atomically
    resolver.port   the UDP port the responder listens on
    resolver.pid    resolver.log    its process and what it printed
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from berth.files import write_atomic
from berth.routers.daemon import Daemon

ZONE = "berth.internal."
REFRESH = 0.25  # seconds Caddy caches an answer; old containers must serve this long after
_A, _AAAA, _IN = 1, 28, 1
_MAX_QUERY = 512
OWNER_CHECK = 2.0  # seconds between a resolver process's checks that it is still wanted


def table_path(caddy_dir: Path) -> Path:
    return caddy_dir / "upstreams.json"


def port_path(caddy_dir: Path) -> Path:
    return caddy_dir / "resolver.port"


def name_for(app: str) -> str:
    """The lookup name of an app's web containers (absolute, so no search domain applies).
    Each berth root has its own Caddy and responder, so the app name is enough."""
    return f"{app}.{ZONE}"


def read_port(caddy_dir: Path) -> int | None:
    try:
        value = port_path(caddy_dir).read_text().strip()
    except OSError:
        return None
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else None


def read_table(caddy_dir: Path) -> dict[str, list[str]] | None:
    """The published table; None when there is none or it cannot be read."""
    try:
        data = json.loads(table_path(caddy_dir).read_text())
    except (OSError, ValueError):
        return None
    return {str(k): [str(ip) for ip in v] for k, v in data.items()}


def publish(caddy_dir: Path, table: dict[str, list[str]]) -> None:
    """Replace the whole table atomically (readers see the old or the new one)."""
    text = json.dumps({k: sorted(v) for k, v in sorted(table.items())}) + "\n"
    write_atomic(table_path(caddy_dir), text, if_changed=True)


# -- wire format (RFC 1035, only what A lookups need) ----------------------------------------


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad DNS label in {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def _decode_question(packet: bytes) -> tuple[str, int, int, int]:
    """(name, qtype, qclass, end offset) of the first question; ValueError if malformed.
    Names in queries are never compressed."""
    pos, labels = 12, []
    while True:
        if pos >= len(packet):
            raise ValueError("truncated name")
        length = packet[pos]
        pos += 1
        if length == 0:
            break
        if length > 63 or pos + length > len(packet):
            raise ValueError("bad label")
        labels.append(packet[pos:pos + length].decode("ascii", "replace").lower())
        pos += length
    if pos + 4 > len(packet):
        raise ValueError("truncated question")
    qtype, qclass = struct.unpack_from("!HH", packet, pos)
    return ".".join(labels) + ".", qtype, qclass, pos + 4


def query(name: str, *, ident: int | None = None) -> bytes:
    ident = random.getrandbits(16) if ident is None else ident
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + encode_name(name) + \
        struct.pack("!HH", _A, _IN)


def answer(packet: bytes, table: dict[str, list[str]]) -> bytes | None:
    """The reply to one query packet, or None for anything that is not a plain query."""
    if len(packet) < 12:
        return None
    ident, flags, qdcount = struct.unpack_from("!HHH", packet)
    if flags & 0x8000 or (flags >> 11) & 0xF or qdcount != 1:
        return None  # a response, not a standard query, or not exactly one question
    try:
        name, qtype, qclass, end = _decode_question(packet)
    except ValueError:
        return None
    ips = table.get(name)
    rcode = 3 if ips is None else 0  # NXDOMAIN for names we do not know
    answers = b""
    count = 0
    if ips and qtype == _A and qclass == _IN:
        for ip in ips:
            try:
                addr = socket.inet_aton(ip)
            except OSError:
                continue
            # name pointer to the question (offset 12), type A, class IN, TTL 0, 4 bytes
            answers += struct.pack("!HHHIH", 0xC00C, _A, _IN, 0, 4) + addr
            count += 1
    # QR, AA, keep RD; question echoed
    out_flags = 0x8400 | (flags & 0x0100) | rcode
    return struct.pack("!HHHHHH", ident, out_flags, 1, count, 0, 0) + packet[12:end] + answers


def parse_answer(packet: bytes, ident: int) -> list[str] | None:
    """The A addresses in a reply to ``ident``; None for NXDOMAIN or a reply not ours."""
    if len(packet) < 12:
        return None
    rid, flags, _, ancount = struct.unpack_from("!HHHH", packet)
    if rid != ident or not flags & 0x8000 or flags & 0xF:
        return None
    _, _, _, pos = _decode_question(packet)
    out = []
    for _ in range(ancount):
        if packet[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while packet[pos]:
                pos += packet[pos] + 1
            pos += 1
        rtype, _, _, length = struct.unpack_from("!HHIH", packet, pos)
        pos += 10
        if rtype == _A and length == 4:
            out.append(socket.inet_ntoa(packet[pos:pos + 4]))
        pos += length
    return sorted(out)


def _exchange(port: int, name: str, timeout: float) -> tuple[bytes, int] | None:
    ident = random.getrandbits(16)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(("127.0.0.1", port))
            sock.send(query(name, ident=ident))
            return sock.recv(4096), ident
        except OSError:
            return None


def lookup(port: int, name: str, *, timeout: float = 0.5) -> list[str] | None:
    """Ask the responder on ``port`` for ``name``; None if it is not there or says NXDOMAIN."""
    got = _exchange(port, name, timeout)
    if got is None:
        return None
    try:
        return parse_answer(*got)
    except (ValueError, struct.error, IndexError):
        return None


def alive(port: int | None, *, timeout: float = 0.5) -> bool:
    """True if a responder answers on ``port`` (any well-formed reply)."""
    if port is None:
        return False
    got = _exchange(port, f"probe.{ZONE}", timeout)
    return got is not None and len(got[0]) >= 12 and got[0][:2] == got[1].to_bytes(2, "big")


def answers(port: int | None, table: dict[str, list[str]]) -> bool:
    """True if the responder on ``port`` gives out exactly ``table`` now."""
    if port is None:
        return False
    for name, ips in table.items():
        got = lookup(port, name)
        if got is None or got != sorted(ips):
            return False
    return True


# -- the responder ---------------------------------------------------------------------------


class Responder:
    """Answers from ``upstreams.json``, re-read whenever the file was replaced."""

    def __init__(self, caddy_dir: Path, *, log: Callable[[str], None] = lambda _: None) -> None:
        self.caddy_dir = caddy_dir
        self.log = log
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._seen: tuple[int, int, int] | None = None
        self._table: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def bind(self) -> int:
        """Listen on the remembered port, or a new one if it is taken; remember it."""
        port = read_port(self.caddy_dir)
        try:
            self.sock.bind(("127.0.0.1", port or 0))
        except OSError:
            self.sock.bind(("127.0.0.1", 0))
        bound = int(self.sock.getsockname()[1])
        if bound != port:
            write_atomic(port_path(self.caddy_dir), f"{bound}\n")
        return bound

    def table(self) -> dict[str, list[str]]:
        path = table_path(self.caddy_dir)
        try:
            st = path.stat()
        except OSError:
            self._seen, self._table = None, {}
            return self._table
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if key != self._seen:
            table = read_table(self.caddy_dir)
            if table is None:
                return self._table  # keep the last good table
            self._table, self._seen = table, key
        return self._table

    def serve(self, *, owned: bool = False) -> None:
        """Answer until stopped; ``owned`` (the process): also stop once this process is no
        longer the one ``resolver.pid`` names, or its directory is gone (never orphaned)."""
        self.sock.settimeout(0.5)
        checked = time.monotonic()
        while not self._stop.is_set():
            if owned and time.monotonic() - checked > OWNER_CHECK:
                checked = time.monotonic()
                if not self._still_ours():
                    self.log("resolver: no longer in resolver.pid; exiting")
                    break
            try:
                packet, peer = self.sock.recvfrom(_MAX_QUERY)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                continue
            reply = answer(packet, self.table())
            if reply is not None:
                try:
                    self.sock.sendto(reply, peer)
                except OSError as e:
                    self.log(f"resolver: reply failed: {e}")

    def _still_ours(self) -> bool:
        try:
            return int((self.caddy_dir / "resolver.pid").read_text().strip()) == os.getpid()
        except (OSError, ValueError):
            return False

    def start(self) -> int:
        port = self.bind()
        self.thread = threading.Thread(target=self.serve, name="berth-resolver", daemon=True)
        self.thread.start()
        return port

    def stop_soon(self) -> None:
        """End :meth:`serve` (from a signal handler or another thread)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self.thread is not None:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as wake:  # end recvfrom now
                wake.sendto(b"", self.sock.getsockname())
            self.thread.join(timeout=2)
        self.sock.close()


# -- its process -----------------------------------------------------------------------------


def _daemon(caddy_dir: Path) -> Daemon:
    return Daemon(caddy_dir / "resolver.pid", f"--dir={caddy_dir}")


def ensure_running(caddy_dir: Path, *, timeout: float = 10.0) -> bool:
    """Adopt the responder of ``caddy_dir`` or (re)start it; True if it had to start one.
    One that runs but does not answer is replaced. Callers hold the router's lock."""
    d = _daemon(caddy_dir)
    pid = d.pid()
    if pid is not None and alive(read_port(caddy_dir), timeout=1.0):  # slow is not dead
        return False
    if pid is not None:
        d.stop()
    # the same berth as the caller's, wherever it was imported from
    source = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
    proc = d.start([sys.executable, "-m", "berth.routers.resolver", f"--dir={caddy_dir}"],
                   log=caddy_dir / "resolver.log", cwd=caddy_dir,
                   env={**os.environ, "PYTHONPATH": path})
    deadline = time.monotonic() + timeout
    while not alive(read_port(caddy_dir), timeout=0.2):
        if proc.poll() is not None or time.monotonic() >= deadline:
            d.stop()
            return False  # Caddy falls back to static upstreams; the next pass tries again
        time.sleep(0.02)
    return True


def stop(caddy_dir: Path) -> bool:
    return _daemon(caddy_dir).stop()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].startswith("--dir="):
        sys.stderr.write("usage: python -m berth.routers.resolver --dir=CADDY_DIR\n")
        return 2
    responder = Responder(Path(args[0][len("--dir="):]),
                          log=lambda line: print(line, file=sys.stderr, flush=True))
    signal.signal(signal.SIGTERM, lambda *_: responder.stop_soon())
    responder.bind()
    responder.serve(owned=True)
    responder.sock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
