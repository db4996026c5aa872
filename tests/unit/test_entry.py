"""The fast entry (berth/entry.py) prints exactly what the click CLI prints, byte for byte and
with the same exit code, for every form of the commands it answers; everything it is not sure
about goes to the click CLI, and a read through it never creates or migrates anything."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from berth import entry
from berth.cli import main as cli_main
from berth.store import apps as store_apps
from berth.store import db, readonly, releases

REPO = Path(__file__).resolve().parents[2]
FORMATS = [[], ["--format", "text"], ["--format=text"], ["--format", "json"], ["--format=json"]]


def make_store(root: Path, apps: dict[str, int]) -> Path:
    """A migrated store with these apps, each with this many releases (0: never deployed)."""
    conn = db.connect(root / "berth.db")
    for name, count in apps.items():
        app = store_apps.create(conn, name)
        for _ in range(count):
            rel = releases.create(conn, app, image="i", git_sha=None, config={}, processes={},
                                  formation={}, app_json={}, port=None, description="d")
            store_apps.set_current(conn, app, rel.version)
    conn.close()
    return root / "berth.db"


def run(main, argv: list[str], monkeypatch, capsys) -> tuple[str, str, int]:
    monkeypatch.setattr(sys, "argv", ["berth", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    code = done.value.code
    return out.out, out.err, 0 if code is None else int(code)


def both(argv: list[str], monkeypatch, capsys) -> tuple[tuple[str, str, int], ...]:
    return (run(entry.main, argv, monkeypatch, capsys),
            run(cli_main.main, argv, monkeypatch, capsys))


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("BERTH_ACTOR", raising=False)
    monkeypatch.setenv("BERTH_ROOT", str(tmp_path / "root"))
    return tmp_path / "root"


STORES = {"empty": {}, "mixed": {"alpha": 2, "beta": 0, "zeta-9": 1}, "undeployed": {"solo": 0}}


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: " ".join(f) or "default")
def test_apps_list_is_the_same_bytes_on_both_paths(root, store, fmt, monkeypatch, capsys):
    make_store(root, STORES[store])
    for prefix in ([], ["--root", str(root)], [f"--root={root}"]):
        if prefix:  # --root wins over BERTH_ROOT on both paths
            monkeypatch.setenv("BERTH_ROOT", str(root.parent / "elsewhere"))
        argv = [*prefix, "apps:list", *fmt]
        assert entry.fast(argv) == 0, argv  # answered here, without click
        capsys.readouterr()
        fast, full = both(argv, monkeypatch, capsys)
        assert fast == full, argv
        assert fast[2] == 0 and fast[1] == ""
    assert not (root.parent / "elsewhere").exists()


def test_apps_list_output(root, monkeypatch, capsys):
    make_store(root, STORES["mixed"])
    out, _, _ = run(entry.main, ["apps:list"], monkeypatch, capsys)
    assert out == "=====> My Apps\nalpha\nbeta\nzeta-9\n"
    out, _, _ = run(entry.main, ["apps:list", "--format", "json"], monkeypatch, capsys)
    assert json.loads(out) == [{"name": "alpha", "release": "v2"},
                               {"name": "beta", "release": None},
                               {"name": "zeta-9", "release": "v1"}]


def test_version_is_the_same_on_both_paths(root, monkeypatch, capsys):
    assert entry.fast(["version"]) == 0
    capsys.readouterr()
    fast, full = both(["version"], monkeypatch, capsys)
    assert fast == full and fast[0].startswith("berth ") and fast[2] == 0


@pytest.mark.parametrize("argv", [
    ["apps:list", "--help"], ["--help"], ["apps:list", "-h"], ["apps:list", "--format", "yaml"],
    ["apps:list", "--format=JSON"], ["apps:list", "--format"], ["apps:list", "extra"],
    ["apps:list", "--format", "json", "--format", "text"], ["--root", "", "apps:list"],
    ["--root"], ["version", "--help"], ["apps:lis"], [],
])
def test_anything_else_goes_to_click(root, argv, monkeypatch, capsys):
    make_store(root, STORES["mixed"])
    assert entry.fast(argv) is None
    assert capsys.readouterr().out == ""
    fast, full = both(argv, monkeypatch, capsys)
    assert fast == full


def test_other_actors_go_to_click(root, monkeypatch, capsys):
    """Users see only their apps; the click command checks that, not the fast entry."""
    make_store(root, STORES["mixed"])
    monkeypatch.setenv("BERTH_ACTOR", "alice")
    assert entry.fast(["apps:list"]) is None
    fast, full = both(["apps:list"], monkeypatch, capsys)
    assert fast == full and fast[0] == "=====> My Apps\n"


def test_missing_store_is_created_by_the_full_path_only(root, monkeypatch, capsys):
    assert entry.fast(["apps:list"]) is None
    assert not root.exists()  # the fast entry created nothing
    fast, full = both(["apps:list"], monkeypatch, capsys)
    assert fast == full == ("=====> My Apps\n", "", 0)


@pytest.mark.parametrize("kind", ["directory", "garbage", "no-permission"])
def test_unreadable_store_is_the_same_clear_error(root, kind, monkeypatch, capsys):
    path = root / "berth.db"
    root.mkdir()
    if kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(b"not a database\n" * 100)
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads any file")
        make_store(root, STORES["mixed"])
        path.chmod(0)
    assert entry.fast(["apps:list"]) is None
    for fmt in FORMATS:
        fast, full = both(["apps:list", *fmt], monkeypatch, capsys)
        assert fast == full
        out, err, code = fast
        assert out == "" and code == 1
        assert err.startswith(f" !     cannot open the berth store {path}: "), err


def test_store_from_before_schema_migrations_is_migrated_by_the_full_path(root, monkeypatch,
                                                                          capsys):
    path = make_store(root, STORES["mixed"])
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE schema_migrations")
    conn.close()
    assert entry.fast(["apps:list"]) is None
    assert not _tables(path) >= {"schema_migrations"}  # the fast entry migrated nothing
    fast, full = both(["apps:list", "--format", "json"], monkeypatch, capsys)
    assert fast == full and [a["name"] for a in json.loads(fast[0])] == ["alpha", "beta",
                                                                          "zeta-9"]
    assert "schema_migrations" in _tables(path)


def test_store_missing_a_migration_is_migrated_by_the_full_path(root, monkeypatch, capsys):
    path = make_store(root, STORES["mixed"])
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE grants")
    conn.execute("DELETE FROM schema_migrations WHERE number = 6")
    conn.commit()
    conn.close()
    assert entry.fast(["apps:list"]) is None
    assert "grants" not in _tables(path)
    out, err, code = run(entry.main, ["apps:list"], monkeypatch, capsys)
    assert (out, err, code) == ("=====> My Apps\nalpha\nbeta\nzeta-9\n", "", 0)
    assert "grants" in _tables(path)  # migrated by the click path
    assert entry.fast(["apps:list"]) == 0  # and from now on answered fast


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def test_known_migrations_are_the_ones_db_applies():
    assert readonly.known_migrations() == {n for n, _ in db.migrations()}


def test_read_only_open_writes_nothing_to_the_store(tmp_path):
    path = make_store(tmp_path, STORES["mixed"])
    before = path.read_bytes()
    conn = readonly.open_current(str(path))
    assert conn is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM apps")
    conn.close()
    assert path.read_bytes() == before
    assert readonly.open_ro(str(tmp_path / "nothing.db")) is None
    assert not (tmp_path / "nothing.db").exists()


def test_odd_characters_in_the_root_path(tmp_path, monkeypatch, capsys):
    root = tmp_path / "a?b#c%20d e"
    make_store(root, STORES["undeployed"])
    monkeypatch.setenv("BERTH_ROOT", str(root))
    assert entry.fast(["apps:list"]) == 0
    assert capsys.readouterr().out == "=====> My Apps\nsolo\n"


def test_fast_path_loads_neither_click_nor_the_rest_of_berth(tmp_path):
    """What keeps `berth apps:list` near the cost of starting Python (issue 6)."""
    make_store(tmp_path, STORES["mixed"])
    probe = ("import sys\nbefore = set(sys.modules)\nfrom berth.entry import fast\n"
             "code = fast(sys.argv[1:])\n"
             "sys.stderr.write(' '.join(sorted(set(sys.modules) - before)))\n"
             "sys.exit(code)\n")
    env = {**os.environ, "BERTH_ROOT": str(tmp_path), "PYTHONPATH": str(REPO)}
    env.pop("BERTH_ACTOR", None)
    proc = subprocess.run([sys.executable, "-c", probe, "apps:list"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "=====> My Apps\nalpha\nbeta\nzeta-9\n"
    loaded = set(proc.stderr.split())
    assert {m for m in loaded if m.startswith("berth")} == {
        "berth", "berth.entry", "berth.appslist", "berth.rootdir", "berth.store",
        "berth.store.readonly"}
    heavy = {"click", "pathlib", "dataclasses", "typing", "json", "re", "importlib.resources"}
    assert not loaded & heavy, loaded & heavy
