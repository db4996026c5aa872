import os
import stat

import pytest

from berth.errors import AlreadyExists, NotFound
from berth.store import apps, config, db, releases


@pytest.fixture
def conn(tmp_path):
    c = db.connect(tmp_path / "berth.db")
    yield c
    c.close()


def test_db_is_private_wal_and_migrated(tmp_path, conn):
    assert stat.S_IMODE(os.stat(tmp_path / "berth.db").st_mode) == 0o600
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.migrations()[-1][0]


def test_migrations_are_numbered_in_order():
    numbers = [n for n, _ in db.migrations()]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1


def test_transaction_rolls_back(conn):
    with pytest.raises(RuntimeError), db.transaction(conn):
        apps.create(conn, "x")
        raise RuntimeError
    assert apps.find(conn, "x") is None


def test_apps_unique_and_releases_numbered(conn):
    app = apps.create(conn, "x")
    with pytest.raises(AlreadyExists):
        apps.create(conn, "x")
    config.set_many(conn, config.GLOBAL, {"G": "1", "A": "global"})
    config.set_many(conn, app.id, {"A": "app"})
    assert config.merged(conn, app.id) == {"G": "1", "A": "app"}
    kw = dict(image="i", git_sha=None, config={}, processes={}, formation={}, app_json={},
              port=None, description="d")
    assert releases.create(conn, app, **kw).version == 1
    assert releases.create(conn, app, **kw).version == 2
    with pytest.raises(NotFound):
        releases.get(conn, app, 9)


def test_a_migration_numbered_below_the_current_version_still_runs(tmp_path):
    """Numbers are handed out to parallel work: a store at version 6 made before 0005 existed
    gets 0005 on its next start, and only once."""
    path = tmp_path / "old.db"
    c = db.connect(path)
    c.execute("DROP TABLE service_links")
    c.execute("DROP TABLE services")
    c.execute("DROP TABLE plugins")
    c.execute("DROP TABLE schema_migrations")
    c.close()
    c = db.connect(path)  # like a store from before schema_migrations, missing 0005
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"services", "service_links", "plugins", "apps", "grants"} <= tables
    assert {r[0] for r in c.execute("SELECT number FROM schema_migrations")} == \
        {n for n, _ in db.migrations()}
    assert c.execute("PRAGMA user_version").fetchone()[0] == db.migrations()[-1][0]
    c.close()
    db.connect(path).close()  # nothing left to do: no error from running 0005 twice
