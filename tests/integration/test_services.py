"""Add-on services for real: postgres, mysql and redis containers from berth's own stacks,
linked to a Flask app that reaches them only through the injected URLs; dumps that round-trip,
destroy refused while linked, containers the reconciler brings back, data that outlive
restarts, and the service's own client over SSH."""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import select
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration


def request(env: Env, app: str, method: str, path: str, body: str | None = None,
            timeout: float = 20) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", env.router_port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": f"{app}.localhost"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def eventually(env: Env, app: str, method: str, path: str, body: str | None = None,
               want: str = "", timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            status, text = request(env, app, method, path, body)
            last = f"{status} {text[:300]}"
            if status == 200 and want in text:
                return text
        except OSError as e:
            last = repr(e)
        time.sleep(0.5)
    raise AssertionError(f"{method} {path} on {app} never gave {want!r}; last: {last}")


def container_name(env: Env, type_: str, name: str) -> str:
    info = json.loads(env.berth(f"{type_}:info", name, "--format", "json").stdout)
    return str(info["container"])


def ssh_argv(env: Env) -> list[str]:
    return ["ssh", "-p", str(env.ssh_port), "-i", str(env.key), "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR"]


def tty_session(argv: list[str], steps: list[tuple[str, str]], timeout: float = 60) -> str:
    """Run argv on a pseudo-terminal (40x120); for each step wait for its text, then type
    its input. Returns everything the terminal showed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    out = b""
    try:
        for expect, send in steps:
            deadline = time.monotonic() + timeout
            while expect.encode() not in out:
                if time.monotonic() > deadline:
                    raise AssertionError(f"never saw {expect!r}; got {out[-500:]!r}")
                if select.select([master], [], [], 0.5)[0]:
                    try:
                        out += os.read(master, 4096)
                    except OSError:
                        break
            os.write(master, send.encode())
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    out += os.read(master, 4096)
                except OSError:
                    break
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return out.decode(errors="replace")


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def services_app(berth_env: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The services fixture app, deployed once (its dependency layer is cached after)."""
    repo = make_repo(APPS / "services", tmp_path_factory.mktemp("svcapp") / "svcapp")
    res = push(berth_env, repo, berth_env.ssh_remote("svcapp"))
    assert res.returncode == 0, res.stdout + res.stderr
    berth_env.wait_for("svcapp", "hello from services")
    yield "svcapp"
    berth_env.berth("apps:destroy", "svcapp", "--force", check=False)


def test_postgres_link_dump_round_trip_and_destroy(berth_env: Env, services_app: str,
                                                    tmp_path: Path):
    env, app = berth_env, services_app
    env.berth("postgres:create", "pgdb")
    out = env.berth("postgres:link", "pgdb", app).stdout
    assert "DATABASE_URL" in out
    url = env.berth("config:get", app, "DATABASE_URL").stdout.strip()
    assert url.startswith("postgres://postgres:") and "@postgres-pgdb:5432/pgdb" in url
    rels = json.loads(env.berth("releases", app, "--format", "json").stdout)
    assert rels[0]["description"] == "Link postgres pgdb (DATABASE_URL)"
    assert rels[0]["current"]
    # the app writes and reads through DATABASE_URL
    assert request(env, app, "POST", "/pg", "first")[0] == 200
    assert request(env, app, "GET", "/pg") == (200, "first")

    # destroy is refused while linked, and changes nothing
    res = env.berth("postgres:destroy", "pgdb", "--force", check=False)
    assert res.returncode != 0 and "linked to svcapp" in res.stderr
    assert request(env, app, "GET", "/pg") == (200, "first")

    # export, change, import: back to the exported state
    dump = tmp_path / "pg.dump"
    with open(dump, "wb") as f:
        subprocess.run(["berth", "postgres:export", "pgdb"], stdout=f, env=env.env(),
                       check=True, timeout=120)
    assert dump.read_bytes().startswith(b"PGDMP")
    assert request(env, app, "POST", "/pg", "second")[0] == 200
    assert request(env, app, "GET", "/pg") == (200, "first\nsecond")
    with open(dump, "rb") as f:
        subprocess.run(["berth", "postgres:import", "pgdb"], stdin=f, env=env.env(),
                       check=True, timeout=120)
    assert request(env, app, "GET", "/pg") == (200, "first")

    # a killed service container comes back (the server's reconciler), data intact
    name = container_name(env, "postgres", "pgdb")
    assert docker("kill", name).returncode == 0
    eventually(env, app, "GET", "/pg", want="first", timeout=60)
    # a restart of the service keeps the data too
    assert docker("restart", name).returncode == 0
    eventually(env, app, "GET", "/pg", want="first", timeout=60)

    # the service's own client, interactive on a terminal over `ssh -t`
    out = tty_session([*ssh_argv(env), "-tt", "root@127.0.0.1", "postgres:connect pgdb"], [
        ("pgdb=#", "select 40 + 2 as answer;\r"), ("(1 row)", "\\q\r")])
    assert " answer " in out and " 42" in out

    # backup with retention
    bdir = tmp_path / "backups"
    for _ in range(3):
        env.berth("postgres:backup", "pgdb", "--dir", str(bdir), "--keep", "2")
    kept = sorted(bdir.iterdir())
    assert len(kept) == 2 and all(p.name.startswith("postgres-pgdb-") for p in kept)
    assert all(p.read_bytes().startswith(b"PGDMP") for p in kept)

    # unlink: the var goes, the service leaves the app's network; then destroy works
    env.berth("postgres:unlink", "pgdb", app)
    assert env.berth("config:get", app, "DATABASE_URL", check=False).stdout.strip() == ""
    nets = docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", name).stdout
    assert f"-{app}\"" not in nets
    data_dir = Path(json.loads(env.berth("postgres:info", "pgdb", "--format",
                                         "json").stdout)["data_dir"])
    assert data_dir.is_dir()
    res = env.berth("postgres:destroy", "pgdb", input="wrong\n", check=False)
    assert res.returncode != 0 and data_dir.is_dir()
    env.berth("postgres:destroy", "pgdb", input="pgdb\n")
    assert docker("inspect", name).returncode != 0
    assert not data_dir.exists()
    assert "pgdb" not in env.berth("postgres:list").stdout


def test_redis_link_survives_redeploy_and_connects_over_ssh(berth_env: Env, tmp_path: Path):
    env = berth_env
    repo = make_repo(APPS / "services", tmp_path / "rapp")
    assert push(env, repo, env.ssh_remote("rapp")).returncode == 0
    env.berth("redis:create", "cache")
    env.berth("redis:link", "cache", "rapp")
    assert env.berth("config:get", "rapp", "REDIS_URL").stdout.startswith("redis://:")
    assert request(env, "rapp", "PUT", "/redis/greeting", "hi there")[0] == 200
    assert request(env, "rapp", "GET", "/redis/greeting") == (200, "hi there")

    # a redeploy (new containers) still reaches the service, and the data is there
    (repo / "extra.txt").write_text("v2")
    commit(repo, "v2")
    assert push(env, repo, env.ssh_remote("rapp")).returncode == 0
    assert request(env, "rapp", "GET", "/redis/greeting") == (200, "hi there")

    # export / import round trip (an RDB snapshot)
    dump = tmp_path / "cache.rdb"
    with open(dump, "wb") as f:
        subprocess.run(["berth", "redis:export", "cache"], stdout=f, env=env.env(), check=True,
                       timeout=120)
    assert dump.read_bytes().startswith(b"REDIS")
    assert request(env, "rapp", "PUT", "/redis/greeting", "changed")[0] == 200
    with open(dump, "rb") as f:
        subprocess.run(["berth", "redis:import", "cache"], stdin=f, env=env.env(), check=True,
                       timeout=120)
    eventually(env, "rapp", "GET", "/redis/greeting", want="hi there", timeout=30)
    # not an RDB: refused before anything stops
    res = env.berth("redis:import", "cache", input="SET x y\n", check=False)
    assert res.returncode != 0 and "not a Redis RDB dump" in res.stderr

    # the service's own client over SSH, without a terminal: it reads stdin
    res = subprocess.run([*ssh_argv(env), "-T", "root@127.0.0.1", "redis:connect cache"],
                         input="GET greeting\n", capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "hi there"

    # a linked app renamed: the service follows it to its new network, the old one goes
    env.berth("apps:rename", "rapp", "rapp2")
    assert request(env, "rapp2", "GET", "/redis/greeting") == (200, "hi there")
    name = container_name(env, "redis", "cache")
    prefix = name.split(".svc.")[0]
    nets = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Networks}}",
                             name).stdout)
    assert f"{prefix}-rapp2" in nets and f"{prefix}-rapp" not in nets
    assert docker("network", "inspect", f"{prefix}-rapp").returncode != 0

    # apps:destroy of a linked app unlinks it (the service leaves its network first)
    env.berth("apps:destroy", "rapp2", "--force")
    assert json.loads(env.berth("redis:info", "cache", "--format", "json").stdout)["links"] == []
    env.berth("redis:destroy", "cache", "--force")


def test_mysql_link_with_alias_and_data_after_a_stop(berth_env: Env, services_app: str,
                                                     tmp_path: Path):
    env, app = berth_env, services_app
    env.berth("mysql:create", "shop-db")
    bad = env.berth("mysql:link", "shop-db", app, "--alias", "my-sql", check=False)
    assert bad.returncode == 2 and "invalid alias" in bad.stderr
    env.berth("mysql:link", "shop-db", app, "--alias", "MYSQL")
    url = env.berth("config:get", app, "MYSQL_URL").stdout.strip()
    assert url.startswith("mysql://berth:") and url.endswith("@mysql-shop-db:3306/shop_db")
    assert request(env, app, "POST", "/mysql", "order-1")[0] == 200
    assert request(env, app, "GET", "/mysql") == (200, "order-1")
    # stopped by hand (or left stopped by an engine restart): the reconciler starts it again,
    # with its data
    name = container_name(env, "mysql", "shop-db")
    assert docker("stop", name).returncode == 0
    eventually(env, app, "GET", "/mysql", want="order-1", timeout=60)
    # export and import over SSH, streamed through the connection
    dump = tmp_path / "shop.sql"
    with open(dump, "wb") as f:
        res = subprocess.run([*ssh_argv(env), "-T", "root@127.0.0.1", "mysql:export shop-db"],
                             stdout=f, stdin=subprocess.DEVNULL, timeout=120)
    assert res.returncode == 0 and b"INSERT INTO `notes`" in dump.read_bytes()
    assert request(env, app, "POST", "/mysql", "order-2")[0] == 200
    with open(dump, "rb") as f:
        res = subprocess.run([*ssh_argv(env), "-T", "root@127.0.0.1", "mysql:import shop-db"],
                             stdin=f, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert request(env, app, "GET", "/mysql") == (200, "order-1")
    env.berth("mysql:unlink", "shop-db", app)
    env.berth("mysql:destroy", "shop-db", "--force")


def test_service_input_is_checked(berth_env: Env):
    env = berth_env
    res = env.berth("postgres:create", "Bad_Name", check=False)
    assert res.returncode == 2 and "invalid service name" in res.stderr
    res = env.berth("postgres:link", "nosuch", "nosuchapp", check=False)
    assert res.returncode == 3 and "does not exist" in res.stderr
    res = env.berth("postgres:create", "weak", "--password-from-env", "WEAK_PW", check=False)
    assert res.returncode != 0 and "WEAK_PW is not set" in res.stderr
    res = subprocess.run(["berth", "postgres:create", "weak", "--password-from-env", "WEAK_PW"],
                         env={**env.env(), "WEAK_PW": "a b"}, capture_output=True, text=True)
    assert res.returncode == 2 and "invalid service password" in res.stderr
    res = env.berth("redis:create", "x1", "--image", "no-such/image:1", check=False)
    assert res.returncode == 2 and "berth never pulls" in res.stderr
    assert "weak" not in env.berth("postgres:list").stdout


def test_service_data_survive_a_killed_server_and_container(tmp_path: Path):
    """A root of its own, so its `berth server` can be killed: the service container and its
    data do not depend on the server; a new server's reconciler restarts a dead service."""
    from tests.integration.private import private_site, wait_until

    with private_site(tmp_path) as site:
        env = site.env
        env.berth("redis:create", "keep")
        env.berth("redis:connect", "keep", input="SET survivor yes\n")
        name = container_name(env, "redis", "keep")
        site.kill_server()
        # the service outlives the server (it is the engine's container, not the server's)
        assert docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"
        assert docker("kill", name).returncode == 0
        time.sleep(2)  # no server: nothing brings it back
        assert docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "false"
        site.start_server()
        wait_until("the reconciler to restart the service", lambda: docker(
            "inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true", timeout=30)
        got = env.berth("redis:connect", "keep", input="GET survivor\n").stdout
        assert got.strip() == "yes"
        assert "reconcile: start redis service keep" in site.server_log()
        env.berth("redis:destroy", "keep", "--force")
