"""Parallel pushes: ten apps at once, and five pushes of different commits to one app. Every
push ends with a clear outcome, deploys of one app never overlap, and the store, containers
and routes end consistent."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, commit, make_repo, push
from tests.integration.private import Site, private_site

pytestmark = pytest.mark.integration

PUSH_TIMEOUT = 600


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with private_site(tmp_path_factory.mktemp("conc")) as s:
        yield s


def head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                          text=True, check=True).stdout.strip()


def static_repo(dest: Path, text: str) -> Path:
    repo = make_repo(APPS / "static", dest)
    (repo / "index.html").write_text(f"<p>{text}</p>\n")
    commit(repo, text)
    return repo


def parallel(jobs: list, workers: int) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: job(), jobs))


def test_ten_apps_deploy_in_parallel(site: Site, tmp_path: Path):
    env = site.env
    apps = [f"par{i}" for i in range(10)]
    repos = {app: static_repo(tmp_path / app, f"hello from {app}") for app in apps}
    started = time.monotonic()
    results = parallel([lambda a=app: push(env, repos[a], env.ssh_remote(a),
                                           timeout=PUSH_TIMEOUT) for app in apps], 10)
    took = time.monotonic() - started
    for app, res in zip(apps, results, strict=True):
        out = res.stdout + res.stderr
        assert res.returncode == 0, f"{app}:\n{out}"
        assert f"Building {app} from {head(repos[app])[:7]}" in out
        assert f"Application deployed: http://{app}.localhost:{env.router_port}" in out
    for app in apps:
        site.wait_converged(app, f"hello from {app}", timeout=60)
        assert [(r["version"], r["status"]) for r in site.releases(app)] == [(1, "succeeded")]
    print(f"ten parallel first deploys took {took:.1f}s")
    site.destroy(*apps)


def test_five_pushes_to_one_app_are_serialised(site: Site, tmp_path: Path):
    env = site.env
    app = "five"
    base = static_repo(tmp_path / "base", "hello from five base")
    assert push(env, base, env.ssh_remote(app)).returncode == 0
    clones = []
    for k in range(5):
        repo = tmp_path / f"c{k}"
        shutil.copytree(base, repo)
        (repo / "index.html").write_text(f"<p>hello from five clone {k}</p>\n")
        commit(repo, f"clone {k}")
        clones.append(repo)
    shas = [head(r) for r in clones]
    results = parallel([lambda r=repo: push(env, r, env.ssh_remote(app),
                                            timeout=PUSH_TIMEOUT) for repo in clones], 5)
    versions: dict[int, int] = {}  # release version -> clone
    for k, res in enumerate(results):
        out = res.stdout + res.stderr
        assert res.returncode == 0, f"push {k}:\n{out}"
        assert f"Building {app} from {shas[k][:7]}" in out, out
        assert out.count("Application deployed") == 1, out
        m = re.findall(r"Starting v(\d+)", out)
        assert len(m) == 1, out
        versions[int(m[0])] = k
    assert sorted(versions) == [2, 3, 4, 5, 6]  # consecutive, one per push
    rels = site.releases(app)
    assert [(r["version"], r["status"]) for r in rels] == \
        [(v, "succeeded") for v in range(1, 7)]
    for r in rels[1:]:
        assert r["git_sha"] == shas[versions[r["version"]]]
    # serialised: each release was built only after the previous deploy had finished
    conn = site.db()
    try:
        made = dict(conn.execute(
            "SELECT r.version, r.created_at FROM releases r JOIN apps a ON a.id = r.app_id"
            " WHERE a.name = ?", (app,)).fetchall())
        done = {int(json.loads(d)["release"]): t for d, t in conn.execute(
            "SELECT details_json, time FROM events WHERE app = ? AND action = 'deploy'",
            (app,)).fetchall()}
    finally:
        conn.close()
    for v in range(2, 7):
        assert made[v] >= done[v - 1], (v, made, done)
    last = versions[6]
    site.wait_converged(app, f"hello from five clone {last}", timeout=60)
    assert site.current(app) == 6
    assert bare_head(site, app) == shas[last]  # git and the store agree


def bare_head(site: Site, app: str) -> str:
    return subprocess.run(["git", "-C", str(site.env.root / "repos" / f"{app}.git"),
                           "rev-parse", "refs/heads/main"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_parallel_http_pushes_deploy_or_are_refused_before_deploying(site: Site,
                                                                      tmp_path: Path):
    # over HTTP git advertises the refs in a request of its own, before the push's lock is
    # taken: a push whose branch moved meanwhile is refused before it builds anything
    env = site.env
    app = "webfive"
    base = static_repo(tmp_path / "base", "hello from webfive base")
    assert push(env, base, env.http_remote(app)).returncode == 0
    clones = []
    for k in range(5):
        repo = tmp_path / f"c{k}"
        shutil.copytree(base, repo)
        (repo / "index.html").write_text(f"<p>hello from webfive {k}</p>\n")
        commit(repo, f"webfive {k}")
        clones.append(repo)
    shas = [head(r) for r in clones]
    results = parallel([lambda r=repo: push(env, r, env.http_remote(app),
                                            timeout=PUSH_TIMEOUT) for repo in clones], 5)
    won = [k for k, res in enumerate(results) if res.returncode == 0]
    assert won, [r.stderr for r in results]
    for k, res in enumerate(results):
        if k in won:
            assert f"Building {app} from {shas[k][:7]}" in res.stderr, res.stderr
            assert "Application deployed" in res.stderr
        else:
            assert "while this push waited for the deploy lock (another push got there " \
                   "first); nothing was deployed" in res.stderr, res.stderr
            assert "Building" not in res.stderr
    rels = site.releases(app)
    assert [r["status"] for r in rels] == ["succeeded"] * (1 + len(won))
    last = shas.index(rels[-1]["git_sha"])
    assert bare_head(site, app) == shas[last]
    site.wait_converged(app, f"hello from webfive {last}", timeout=60)


def test_parallel_pushes_with_a_short_lock_timeout_fail_clearly(site: Site, tmp_path: Path):
    env = site.env
    app = "hurry"
    base = static_repo(tmp_path / "base", "hello from hurry base")
    assert push(env, base, env.ssh_remote(app)).returncode == 0
    env.berth("settings:set", "lock-timeout", "1")
    try:
        clones = []
        for k in range(5):
            repo = tmp_path / f"c{k}"
            shutil.copytree(base, repo)
            (repo / "index.html").write_text(f"<p>hello from hurry {k}</p>\n")
            commit(repo, f"hurry {k}")
            clones.append(repo)
        results = parallel([lambda r=repo: push(env, r, env.ssh_remote(app),
                                                timeout=PUSH_TIMEOUT) for repo in clones], 5)
    finally:
        env.berth("settings:set", "lock-timeout")
    won = [k for k, res in enumerate(results) if res.returncode == 0]
    assert won, [r.stderr for r in results]
    for res in results:
        if res.returncode != 0:
            assert "timed out after 1s waiting for another deploy of hurry" in res.stderr, \
                res.stderr
            assert "Building" not in res.stderr
    rels = site.releases(app)
    assert [r["status"] for r in rels] == ["succeeded"] * (1 + len(won))
    site.wait_converged(app, f"hello from hurry {won[-1]}" if len(won) == 1 else "hello from",
                        timeout=60)
