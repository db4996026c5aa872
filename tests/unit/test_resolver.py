"""berth's DNS responder (the resolver Caddy asks for app containers) and the Caddy router's
choice between a reload and a resolver update. Real UDP on loopback, no Caddy."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from berth.routers import Route, caddy, resolver
from berth.routers.caddy import CaddyRouter, build_config, shape_digest, upstream_table

NAME = resolver.name_for("web1")


@pytest.fixture
def responder(tmp_path: Path) -> Iterator[tuple[resolver.Responder, int]]:
    r = resolver.Responder(tmp_path)
    port = r.start()
    yield r, port
    r.stop()


def test_answers_a_records_from_the_published_table(
        tmp_path: Path, responder: tuple[resolver.Responder, int]) -> None:
    _, port = responder
    resolver.publish(tmp_path, {NAME: ["10.213.0.3", "10.213.0.2"]})
    assert resolver.lookup(port, NAME) == ["10.213.0.2", "10.213.0.3"]
    assert resolver.lookup(port, NAME.upper()) == ["10.213.0.2", "10.213.0.3"]
    resolver.publish(tmp_path, {NAME: ["10.213.0.9"]})
    assert resolver.lookup(port, NAME) == ["10.213.0.9"]
    assert resolver.lookup(port, resolver.name_for("other")) is None  # NXDOMAIN
    assert resolver.answers(port, {NAME: ["10.213.0.9"]})
    assert not resolver.answers(port, {NAME: ["10.213.0.2"]})


def test_port_is_remembered_and_a_taken_port_is_replaced(tmp_path: Path) -> None:
    first = resolver.Responder(tmp_path)
    port = first.start()
    assert resolver.read_port(tmp_path) == port
    second = resolver.Responder(tmp_path)  # the port is taken: a new one is chosen and kept
    try:
        other = second.start()
        assert other != port and resolver.read_port(tmp_path) == other
    finally:
        second.stop()
        first.stop()
    third = resolver.Responder(tmp_path)
    try:
        assert third.start() == other  # free again: the remembered port is reused
    finally:
        third.stop()


def test_no_responder_means_no_answer(tmp_path: Path) -> None:
    r = resolver.Responder(tmp_path)
    port = r.start()
    r.stop()
    assert resolver.lookup(port, NAME, timeout=0.2) is None
    assert not resolver.answers(port, {NAME: ["10.0.0.1"]})
    assert not resolver.answers(None, {})


@pytest.mark.parametrize("packet", [
    b"", b"\x00" * 11,
    struct.pack("!HHHHHH", 1, 0x8000, 1, 0, 0, 0) + resolver.encode_name(NAME) + b"\0\1\0\1",
    struct.pack("!HHHHHH", 1, 0x0100, 2, 0, 0, 0) + resolver.encode_name(NAME) + b"\0\1\0\1",
    struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\x3f" + b"a" * 10,
    struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + resolver.encode_name(NAME),
])
def test_malformed_packets_get_no_reply(packet: bytes) -> None:
    assert resolver.answer(packet, {NAME: ["10.0.0.1"]}) is None


def test_other_query_types_get_an_empty_answer() -> None:
    aaaa = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + resolver.encode_name(NAME) + \
        struct.pack("!HH", 28, 1)
    reply = resolver.answer(aaaa, {NAME: ["10.0.0.1"]})
    assert reply is not None
    ident, flags, _, ancount = struct.unpack_from("!HHHH", reply)
    assert (ident, flags & 0xF, ancount) == (7, 0, 0)


def _proxies(config: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for srv in config["apps"]["http"]["servers"].values():
        for route in srv["routes"]:
            out += [h for h in route.get("handle", []) if h.get("handler") == "reverse_proxy"]
    return out


def test_config_looks_upstreams_up_and_keeps_a_static_fallback() -> None:
    route = Route("web1", ("web1.test",), ("10.213.0.2:5000",))
    config = build_config([route], admin="unix//x", access_log=None, resolver_port=5353)
    [proxy] = _proxies(config)
    assert proxy["upstreams"] == [{"dial": "10.213.0.2:5000"}]
    dyn = proxy["dynamic_upstreams"]
    assert (dyn["source"], dyn["name"], dyn["port"]) == ("a", NAME, "5000")
    assert dyn["resolver"] == {"addresses": ["udp/127.0.0.1:5353"]}
    moved = Route("web1", ("web1.test",), ("10.213.0.7:5000", "10.213.0.8:5000"))
    again = build_config([moved], admin="unix//x", access_log=None, resolver_port=5353)
    assert shape_digest(again) == shape_digest(config)  # containers alone: no reload needed
    for changed in (Route("web1", ("other.test",), ("10.213.0.2:5000",)),
                    Route("web1", ("web1.test",), ("10.213.0.2:8080",)),
                    Route("web1", ("web1.test",), ())):
        cfg = build_config([changed], admin="unix//x", access_log=None, resolver_port=5353)
        assert shape_digest(cfg) != shape_digest(config)
    plain = build_config([route], admin="unix//x", access_log=None)
    assert "dynamic_upstreams" not in _proxies(plain)[0]
    assert upstream_table([moved, Route("idle", ("i.test",), ())]) == {
        NAME: ["10.213.0.7", "10.213.0.8"]}


class Loads:
    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []

    def __call__(self, root: Path, config: dict[str, Any]) -> None:
        self.posted.append(config)


def test_container_changes_skip_the_reload_only_while_the_resolver_answers(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loads = Loads()
    monkeypatch.setattr(caddy, "load_config", loads)
    monkeypatch.setattr(caddy, "is_running", lambda root: True)
    caddy_dir = tmp_path / "caddy"
    caddy_dir.mkdir()
    dns = resolver.Responder(caddy_dir)
    dns.start()
    router = CaddyRouter(tmp_path, listen="127.0.0.1:1")
    try:
        assert router.switch_delay > resolver.REFRESH
        router.apply([Route("web1", ("web1.test",), ("10.213.0.2:5000",))])
        assert len(loads.posted) == 1
        router.apply([Route("web1", ("web1.test",), ("10.213.0.3:5000",))])
        assert len(loads.posted) == 1  # a new container: the resolver tells Caddy
        assert resolver.lookup(dns.sock.getsockname()[1], NAME) == ["10.213.0.3"]
        router.apply([Route("web1", ("web1.test", "www.test"), ("10.213.0.3:5000",))])
        assert len(loads.posted) == 2  # a new host needs a load
    finally:
        dns.stop()
    router.apply([Route("web1", ("web1.test", "www.test"), ("10.213.0.4:5000",))])
    assert len(loads.posted) == 3  # nobody answers: the static upstreams must be current
    assert _proxies(loads.posted[-1])[0]["upstreams"] == [{"dial": "10.213.0.4:5000"}]


def test_the_resolver_process_is_started_adopted_and_stopped(tmp_path: Path) -> None:
    try:
        assert resolver.ensure_running(tmp_path) is True
        port = resolver.read_port(tmp_path)
        pid = resolver._daemon(tmp_path).pid()
        assert port is not None and pid is not None and resolver.alive(port)
        resolver.publish(tmp_path, {NAME: ["10.213.0.5"]})
        assert resolver.lookup(port, NAME) == ["10.213.0.5"]
        assert resolver.ensure_running(tmp_path) is False  # adopted, not restarted
        assert resolver._daemon(tmp_path).pid() == pid
    finally:
        assert resolver.stop(tmp_path) is True
    assert not resolver.alive(port, timeout=0.2)
    assert resolver.stop(tmp_path) is False


def test_the_resolver_command_needs_its_directory() -> None:
    assert resolver.main([]) == 2
    assert resolver.main(["--other"]) == 2


def test_an_orphaned_resolver_process_exits_by_itself(tmp_path: Path) -> None:
    import os
    import time

    assert resolver.ensure_running(tmp_path) is True
    pid = resolver._daemon(tmp_path).pid()
    assert pid is not None
    (tmp_path / "resolver.pid").unlink()  # its state was cleared (or its root removed)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            break
        if state == "Z":
            os.waitpid(pid, 0)
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        raise AssertionError("the resolver kept running without its pid file")
