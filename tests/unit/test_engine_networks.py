import ipaddress
from types import SimpleNamespace

from berth import engine


def test_free_subnets_skip_docker_networks_and_host_routes(monkeypatch):
    api = SimpleNamespace(networks=lambda: [
        {"IPAM": {"Config": [{"Subnet": "10.213.0.0/24"}]}},
        {"IPAM": {"Config": None}},
    ])
    monkeypatch.setattr(engine, "client", lambda: SimpleNamespace(api=api))
    monkeypatch.setattr(engine, "host_routes",
                        lambda: [ipaddress.ip_network("10.213.1.0/25")])
    monkeypatch.setenv("BERTH_NETWORK_POOL", "10.213.0.0/22")
    assert engine.free_subnets() == ["10.213.2.0/24", "10.213.3.0/24"]


def test_pool_holds_far_more_than_dockers_default(monkeypatch):
    api = SimpleNamespace(networks=lambda: [])
    monkeypatch.setattr(engine, "client", lambda: SimpleNamespace(api=api))
    monkeypatch.setattr(engine, "host_routes", lambda: [])
    monkeypatch.delenv("BERTH_NETWORK_POOL", raising=False)
    assert len(engine.free_subnets(limit=1000)) == 256
