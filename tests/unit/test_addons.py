"""Add-on services without Docker: names, container specs and command argv as data, the
Redis dump handling, backup retention, and the service reconciler's plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from berth.addons import base, reconcile
from berth.addons.mysql import MySQL
from berth.addons.postgres import Postgres
from berth.addons.redis import Redis, strip_eof_mark, write_aof_base
from berth.addons.services import prune_backups
from berth.errors import ValidationError
from berth.instance import prefix
from berth.store.services import Service

SVC = Service(id=1, type="postgres", name="main-db", image="berth/stack-postgres:bookworm",
              password="s3cret-pw", created_at=0.0)


@pytest.mark.parametrize("bad", ["", "Db", "1db", "db_1", "db-", "a" * 41, "db;rm"])
def test_service_names_are_checked(bad: str) -> None:
    with pytest.raises(ValidationError, match="invalid service name"):
        base.service_name(bad)


def test_alias_and_password_rules() -> None:
    assert base.alias_name("DATABASE") == "DATABASE"
    for bad in ("database", "MY-DB", "1DB", ""):
        with pytest.raises(ValidationError, match="invalid alias"):
            base.alias_name(bad)
    assert base.password("abc.DEF_12~-") == "abc.DEF_12~-"
    for bad in ("short", "has space1", "quote'quote", "x" * 129, "p@ssword!"):
        with pytest.raises(ValidationError, match="invalid service password"):
            base.password(bad)


def test_postgres_spec_is_exact(tmp_path: Path) -> None:
    spec = base.service_spec(Postgres(), SVC, root=tmp_path, stack=True)
    sdir = tmp_path / "services" / "postgres" / "main-db"
    assert spec == {
        "image": "berth/stack-postgres:bookworm",
        "name": f"{prefix()}.svc.postgres.main-db",
        "command": ["/bin/sh", "/berth/entrypoint.sh"],
        "environment": {"POSTGRES_PASSWORD": "s3cret-pw", "POSTGRES_USER": "postgres",
                        "POSTGRES_DB": "main_db", "PGDATA": "/var/lib/postgresql/data"},
        "labels": {"berth.service.type": "postgres", "berth.service.name": "main-db",
                   "berth.instance": prefix()},
        "network": f"{prefix()}-svc.postgres.main-db",
        "hostname": "postgres-main-db",
        "volumes": {str(sdir / "data"): {"bind": "/var/lib/postgresql/data", "mode": "rw"},
                    str(sdir / "entrypoint.sh"): {"bind": "/berth/entrypoint.sh",
                                                  "mode": "ro"}},
        "restart_policy": {"Name": "unless-stopped"},
        "security_opt": ["no-new-privileges"],
        "init": True,
        "log_config": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
    }
    # a registry image runs its own entrypoint, without berth's script
    other = base.service_spec(Postgres(), SVC, root=tmp_path, stack=False)
    assert other["command"] is None and len(other["volumes"]) == 1


def test_urls_and_commands() -> None:
    host = base.host_alias("postgres", "main-db")
    assert Postgres().url(SVC, host) == \
        "postgres://postgres:s3cret-pw@postgres-main-db:5432/main_db"
    assert MySQL().url(SVC, "mysql-main-db") == \
        "mysql://berth:s3cret-pw@mysql-main-db:3306/main_db"
    assert Redis().url(SVC, "redis-main-db") == "redis://:s3cret-pw@redis-main-db:6379/0"
    assert Postgres().import_argv(SVC, b"PGDMP\x01")[0] == "pg_restore"
    assert Postgres().import_argv(SVC, b"CREATE TABLE")[0] == "psql"
    assert Redis().command(SVC, stack=False) == [
        "redis-server", "--appendonly", "yes", "--requirepass", "s3cret-pw"]
    assert base.exec_argv("/usr/bin/docker", "c1", ["psql", "db"], user="postgres", stdin=True,
                          tty=True) == ["/usr/bin/docker", "exec", "-i", "-t", "-u", "postgres",
                                        "c1", "psql", "db"]
    assert base.logs_argv("docker", "c1", tail=5, follow=True) == [
        "docker", "logs", "--tail", "5", "--follow", "c1"]


def test_every_type_ships_its_entrypoint_script() -> None:
    for t in (Postgres(), MySQL(), Redis()):
        text = t.entrypoint_script()
        assert text.startswith("#!/bin/sh") and "exec setpriv" in text


RDB = b"REDIS0010" + b"\xfa\x09redis-ver" + b"x" * 300 + b"\xff" + bytes(range(1, 9))
MARK = b"0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("size", [1, 7, 49, 50, 4096])
def test_strip_eof_mark(size: int) -> None:
    def chunks(data: bytes):
        for i in range(0, len(data), size):
            yield data[i:i + size]

    assert b"".join(strip_eof_mark(chunks(RDB + MARK))) == RDB
    assert b"".join(strip_eof_mark(chunks(RDB))) == RDB  # no mark: unchanged
    assert b"".join(strip_eof_mark(chunks(b"tiny"))) == b"tiny"


def test_redis_import_writes_a_fresh_aof_base(tmp_path: Path) -> None:
    old = tmp_path / "appendonlydir"
    old.mkdir()
    (old / "appendonly.aof.5.incr.aof").write_text("old")
    (tmp_path / "dump.rdb").write_text("old")
    write_aof_base(tmp_path, iter([RDB[:10], RDB[10:]]))
    assert sorted(p.name for p in old.iterdir()) == ["appendonly.aof.1.base.rdb",
                                                     "appendonly.aof.manifest"]
    assert (old / "appendonly.aof.1.base.rdb").read_bytes() == RDB
    assert (old / "appendonly.aof.manifest").read_text() == \
        "file appendonly.aof.1.base.rdb seq 1 type b\n"
    assert not (tmp_path / "dump.rdb").exists()
    with pytest.raises(ValidationError, match="not a Redis RDB dump"):
        Redis().check_dump(b"SET x y")


def test_backup_retention_keeps_newest_of_this_service_only(tmp_path: Path) -> None:
    names = ["postgres-db-20260101T000000Z.dump", "postgres-db-20260102T000000Z.dump",
             "postgres-db-20260102T000000Z-2.dump", "postgres-db-20260103T000000Z.dump",
             "postgres-db-2-20250101T000000Z.dump", "notes.txt"]
    for n in names:
        (tmp_path / n).write_text("x")
    removed = prune_backups(tmp_path, "postgres", "db", keep=2)
    assert sorted(p.name for p in removed) == ["postgres-db-20260101T000000Z.dump",
                                               "postgres-db-20260102T000000Z.dump"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "postgres-db-2-20250101T000000Z.dump",
        "postgres-db-20260102T000000Z-2.dump", "postgres-db-20260103T000000Z.dump"]


def net(app: str) -> str:
    return f"{prefix()}-{app}"


def test_reconcile_plan() -> None:
    own = f"{prefix()}-svc.postgres.db"
    facts = reconcile.Facts(
        desired={("postgres", "db"): {"web", "api"}, ("redis", "no-box"): set(),
                 ("mysql", "m"): {"web"}, ("redis", "busy"): set()},
        actual=[
            reconcile.Actual("postgres", "db", True, frozenset({own, net("web"), net("old")})),
            reconcile.Actual("mysql", "m", False, frozenset()),
            reconcile.Actual("redis", "orphan", True, frozenset()),
            reconcile.Actual("redis", "busy", False, frozenset()),
        ],
        apps={"web", "api", "old", "deploying"},
        busy_services={("redis", "busy")},
        busy_apps={"deploying"},
        known_types={"postgres", "mysql", "redis"},
    )
    assert reconcile.plan(facts) == [
        reconcile.Action("start", "mysql", "m"),
        reconcile.Action("connect", "postgres", "db", app="api"),
        reconcile.Action("disconnect", "postgres", "db", app="old"),
        reconcile.Action("start", "redis", "no-box"),
        reconcile.Action("remove", "redis", "orphan"),
    ]
    # an app whose deploy holds its lock is left alone
    facts.actual[0] = reconcile.Actual("postgres", "db", True,
                                       frozenset({own, net("web"), net("api"),
                                                  net("deploying")}))
    assert [a for a in reconcile.plan(facts) if a.type == "postgres"] == []
