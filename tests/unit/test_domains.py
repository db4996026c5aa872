"""Domains: every validation rule, ownership across apps, default vhosts, global domains."""

from __future__ import annotations

from pathlib import Path

import pytest

from berth import domains, names, proxy, routing
from berth.context import Ctx
from berth.errors import AlreadyExists, NotFound, ValidationError
from berth.paths import Paths
from berth.store import apps as store_apps


@pytest.mark.parametrize("value,expected", [
    ("example.com", "example.com"),
    ("WWW.Example.COM", "www.example.com"),
    ("example.com.", "example.com"),
    ("  app.example.com ", "app.example.com"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("*.example.com", "*.example.com"),
    ("*.Bücher.example", "*.xn--bcher-kva.example"),
    ("a-b.c-d.example", "a-b.c-d.example"),
    ("localhost", "localhost"),
    ("x" * 63 + ".com", "x" * 63 + ".com"),
])
def test_valid_domains_are_normalised(value: str, expected: str) -> None:
    assert names.domain(value) == expected


@pytest.mark.parametrize("value,rule", [
    ("", "empty"),
    ("   ", "empty"),
    ("http://example.com", "no scheme"),
    ("https://example.com/", "no scheme"),
    ("example.com/path", "no path"),
    ("example.com:8080", "no port"),
    ("[::1]", "no port"),
    ("1.2.3.4", "IP addresses"),
    ("exa mple.com", "labels of a-z"),
    ("exa_mple.com", "labels of a-z"),
    ("-example.com", "labels of a-z"),
    ("example-.com", "labels of a-z"),
    ("foo.*.example.com", "labels of a-z"),
    ("*example.com", "labels of a-z"),
    ("**.example.com", "labels of a-z"),
    ("*.com", "at least two labels"),
    ("a..b", "not a valid host name"),
    ("x" * 64 + ".com", "not a valid host name"),
    (".".join(["abcdefghij"] * 24) + ".com", "labels of a-z"),
    ("example.com;rm -rf /", "no path"),
    ("example.com;id", "labels of a-z"),
    ("exam\nple.com", "labels of a-z"),
    ("@example.com", "labels of a-z"),
])
def test_invalid_domains_are_refused_with_the_rule(value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        names.domain(value)


def test_wildcards_can_be_refused() -> None:
    with pytest.raises(ValidationError, match="wildcards are not allowed"):
        names.domain("*.example.com", wildcard=False)


@pytest.fixture
def ctx(tmp_path: Path) -> Ctx:
    c = Ctx(paths=Paths(tmp_path / "root"))
    for name in ("web", "api", "other"):
        store_apps.create(c.conn, name)
    return c


def app(c: Ctx, name: str):  # type: ignore[no-untyped-def]
    return store_apps.get(c.conn, name)


def test_add_is_idempotent_and_normalises(ctx: Ctx) -> None:
    assert domains.add(ctx, app(ctx, "web"), ("WWW.Example.com", "*.example.org")) == \
        ["www.example.com", "*.example.org"]
    assert domains.add(ctx, app(ctx, "web"), ("www.example.com",)) == []
    assert routing.hosts_for(ctx, "web") == ("web.localhost", "www.example.com",
                                             "*.example.org")


def test_a_domain_of_another_app_is_refused(ctx: Ctx) -> None:
    domains.add(ctx, app(ctx, "web"), ("www.example.com",))
    with pytest.raises(AlreadyExists, match="already used by app 'web'"):
        domains.add(ctx, app(ctx, "api"), ("www.example.com",))
    with pytest.raises(AlreadyExists, match="already used by app 'api'"):
        domains.add(ctx, app(ctx, "web"), ("api.localhost",))  # another app's default vhost
    with pytest.raises(AlreadyExists):
        domains.set_(ctx, app(ctx, "api"), ("new.example.com", "www.example.com"))
    assert routing.hosts_for(ctx, "api") == ("api.localhost",)


def test_a_redirect_source_is_taken_too(ctx: Ctx) -> None:
    proxy.redirect_set(ctx, app(ctx, "web"), "old.example.com", "www.example.com", 301)
    with pytest.raises(AlreadyExists, match="already used by app 'web'"):
        domains.add(ctx, app(ctx, "api"), ("old.example.com",))


def test_remove_set_clear(ctx: Ctx) -> None:
    web = app(ctx, "web")
    domains.set_(ctx, web, ("a.example.com", "b.example.com"))
    domains.remove(ctx, web, ("A.example.com",))
    assert routing.hosts_for(ctx, "web") == ("web.localhost", "b.example.com")
    with pytest.raises(NotFound, match="no domain 'zzz.example.com'"):
        domains.remove(ctx, web, ("zzz.example.com",))
    domains.clear(ctx, web)
    assert routing.hosts_for(ctx, "web") == ("web.localhost",)
    with pytest.raises(ValidationError, match="at least one domain"):
        domains.add(ctx, web, ())


def test_bad_input_changes_nothing(ctx: Ctx) -> None:
    web = app(ctx, "web")
    domains.add(ctx, web, ("keep.example.com",))
    with pytest.raises(ValidationError):
        domains.set_(ctx, web, ("ok.example.com", "http://bad.example.com"))
    assert routing.hosts_for(ctx, "web") == ("web.localhost", "keep.example.com")


def test_default_vhost_can_be_disabled(ctx: Ctx) -> None:
    web = app(ctx, "web")
    domains.add(ctx, web, ("www.example.com",))
    domains.set_vhost(ctx, web, False)
    assert routing.hosts_for(ctx, "web") == ("www.example.com",)
    assert routing.url_for(ctx, "web") == "http://www.example.com"
    domains.set_vhost(ctx, web, True)
    assert routing.hosts_for(ctx, "web")[0] == "web.localhost"


def test_global_domains(ctx: Ctx) -> None:
    assert domains.set_globals(ctx, ("Example.com", "apps.example.net")) == \
        ["example.com", "apps.example.net"]
    assert routing.hosts_for(ctx, "web") == ("web.example.com", "web.apps.example.net")
    assert domains.add_globals(ctx, ("third.example", "example.com")) == \
        ["example.com", "apps.example.net", "third.example"]
    domains.remove_globals(ctx, ("example.com",))
    assert routing.global_domains(ctx) == ["apps.example.net", "third.example"]
    with pytest.raises(ValidationError, match="wildcards are not allowed"):
        domains.add_globals(ctx, ("*.example.com",))
    with pytest.raises(NotFound):
        domains.remove_globals(ctx, ("nope.example",))
    with pytest.raises(ValidationError, match="at least one global domain"):
        domains.remove_globals(ctx, ("apps.example.net", "third.example"))


def test_a_custom_domain_wins_over_a_later_default_vhost(ctx: Ctx) -> None:
    domains.add(ctx, app(ctx, "web"), ("api.example.com",))
    domains.set_globals(ctx, ("example.com",))
    # api's default vhost would be api.example.com, which web owns: api does not get it
    assert routing.hosts_for(ctx, "api") == ()
    assert "api.example.com" in routing.hosts_for(ctx, "web")
    with pytest.raises(AlreadyExists):
        domains.set_vhost(ctx, app(ctx, "api"), True)


def test_domains_go_with_the_app(ctx: Ctx) -> None:
    domains.add(ctx, app(ctx, "web"), ("www.example.com",))
    store_apps.delete(ctx.conn, app(ctx, "web"))
    domains.add(ctx, app(ctx, "api"), ("www.example.com",))
    assert "www.example.com" in routing.hosts_for(ctx, "api")
