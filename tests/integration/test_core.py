"""The core loop for real: git push over SSH and HTTP -> build -> release -> containers ->
Caddy, with redeploys that drop no request and failed releases that change nothing."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration


def test_flask_push_over_ssh_builds_releases_and_serves(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "flask")
    res = push(berth_env, repo, berth_env.ssh_remote("flask1"))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "-----> Building flask1" in out and "buildpack" in out
    assert "release ok" in out  # the Procfile release command ran
    assert f"Application deployed: http://flask1.localhost:{berth_env.router_port}" in out
    assert berth_env.wait_for("flask1", "hello from flask", timeout=10)
    rel = json.loads(berth_env.berth("releases", "flask1", "--format", "json").stdout)
    assert [r["version"] for r in rel] == [1] and rel[0]["status"] == "succeeded"
    assert rel[0]["description"].startswith("Deploy ")
    _apps_list_after_push(berth_env, "flask1", "v1")


def _apps_list_after_push(env: Env, app: str, release: str) -> None:
    """`berth apps:list` through the installed console script, answered by its fast entry
    (berth/entry.py, no click), lists the pushed app, and prints the same bytes as the click
    command locally and over SSH."""
    script = shutil.which("berth", path=env.env()["PATH"])
    assert script is not None
    text = Path(script).read_text()
    assert "from berth.entry import main" in text, "the installed berth is stale: ./install.sh"
    listed = json.loads(env.berth("apps:list", "--format", "json").stdout)
    assert {"name": app, "release": release} in listed
    out = env.berth("apps:list").stdout
    assert out == "".join(f"{line}\n" for line in
                          ["=====> My Apps", *sorted(a["name"] for a in listed)])
    python = text.splitlines()[0][2:].strip()  # the script's own interpreter
    timed = subprocess.run([python, "-X", "importtime", script, "apps:list"],
                           capture_output=True, text=True, env=env.env(), timeout=60)
    assert timed.stdout == out and timed.returncode == 0
    loaded = {line.rsplit("|", 1)[-1].strip() for line in timed.stderr.splitlines()}
    assert "berth.entry" in loaded and "click" not in loaded and "berth.cli.main" not in loaded
    for args in (["apps:list"], ["apps:list", "--format", "json"]):
        full = subprocess.run([python, "-m", "berth.cli.main", *args], capture_output=True,
                              text=True, env=env.env(), timeout=60)
        assert (full.returncode, full.stdout) == (0, env.berth(*args).stdout)
    over_ssh = env.ssh("apps:list")
    assert (over_ssh.returncode, over_ssh.stdout) == (0, out), over_ssh.stderr


def test_config_round_trips_byte_for_byte(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "cfg")
    assert push(berth_env, repo, berth_env.ssh_remote("cfg")).returncode == 0
    values = {"SPACES": "a b  c", "QUOTES": "it's \"q\"", "DOLLAR": "$HOME `id` $(id)",
              "EQ": "a=b=c", "NL": "line1\nline2", "UNI": "ünï ✓ 日本"}
    pairs = [f"{k}={base64.b64encode(v.encode()).decode()}" for k, v in values.items()]
    berth_env.berth("config:set", "--encoded", "cfg", *pairs)
    for key, value in values.items():
        status, body = berth_env.get("cfg", f"/env/{key}")
        assert (status, body) == (200, value), key
        assert berth_env.berth("config:get", "cfg", key).stdout == value + "\n"
    # over SSH as a berth command, with shell metacharacters kept literal
    res = berth_env.ssh("config:set cfg 'SSHVAR=x; rm -rf / $(id)'")
    assert res.returncode == 0, res.stderr
    assert berth_env.get("cfg", "/env/SSHVAR") == (200, "x; rm -rf / $(id)")
    rels = json.loads(berth_env.berth("releases", "cfg", "--format", "json").stdout)
    assert rels[0]["description"] == "Set SSHVAR" and rels[0]["current"]
    # --no-restart records without a new release
    berth_env.berth("config:set", "--no-restart", "cfg", "LATER=1")
    assert len(json.loads(berth_env.berth("releases", "cfg", "--format", "json").stdout)) == \
        len(rels)
    berth_env.berth("config:unset", "cfg", "SPACES")
    assert berth_env.get("cfg", "/env/SPACES") == (200, "")
    assert berth_env.get("cfg", "/env/LATER") == (200, "1")


def test_redeploy_drops_no_request(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "zdt")
    assert push(berth_env, repo, berth_env.ssh_remote("zdt")).returncode == 0
    berth_env.wait_for("zdt", "hello from flask")
    failures: list[str] = []
    count = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal count
        deadline = time.monotonic() + 240
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                status, body = berth_env.get("zdt", timeout=5)
                if status != 200 or not body.startswith("hello from"):
                    failures.append(f"{status} {body[:80]}")
            except OSError as e:
                failures.append(repr(e))
            count += 1
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        app = repo / "app.py"
        app.write_text(app.read_text().replace("hello from flask", "hello from flask v2"))
        commit(repo, "v2")
        res = push(berth_env, repo, berth_env.ssh_remote("zdt"))
        assert res.returncode == 0, res.stdout + res.stderr
        berth_env.wait_for("zdt", "hello from flask v2", timeout=5)
        time.sleep(1)
    finally:
        stop.set()
        poller.join()
    assert count > 50
    assert failures == []


def test_crashing_release_leaves_the_old_one_serving(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "flask", tmp_path / "crash")
    assert push(berth_env, repo, berth_env.ssh_remote("crash")).returncode == 0
    berth_env.wait_for("crash", "hello from flask")
    (repo / "Procfile").write_text(
        "web: python -c \"print('boom at start'); raise SystemExit(3)\"\n")
    commit(repo, "broken")
    res = push(berth_env, repo, berth_env.ssh_remote("crash"))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "failed its checks" in out and "boom at start" in out
    assert berth_env.get("crash") == (200, "hello from flask")
    rels = json.loads(berth_env.berth("releases", "crash", "--format", "json").stdout)
    assert [(r["version"], r["status"], r["current"]) for r in rels] == \
        [(2, "failed", False), (1, "succeeded", True)]


def test_node_over_http_static_and_dockerfile(berth_env: Env, tmp_path: Path):
    node = make_repo(APPS / "node", tmp_path / "node")
    res = push(berth_env, node, berth_env.http_remote("node1"))
    assert res.returncode == 0, res.stdout + res.stderr
    berth_env.wait_for("node1", "hello from node", timeout=10)
    static = make_repo(APPS / "static", tmp_path / "static")
    res = push(berth_env, static, berth_env.ssh_remote("static1"))
    assert res.returncode == 0, res.stdout + res.stderr
    berth_env.wait_for("static1", "hello from static", timeout=10)
    df = make_repo(APPS / "dockerfile", tmp_path / "df")
    res = push(berth_env, df, berth_env.ssh_remote("df1"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "dockerfile builder" in res.stdout + res.stderr
    berth_env.wait_for("df1", "hello from dockerfile", timeout=10)


def test_http_push_needs_a_token(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "noauth")
    bad = f"http://tester:wrong@127.0.0.1:{berth_env.http_port}/noauth.git"
    res = push(berth_env, repo, bad, timeout=60)
    assert res.returncode != 0
    assert berth_env.berth("apps:exists", "noauth", check=False).returncode == 3


def test_other_branches_do_not_deploy(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "branches")
    assert push(berth_env, repo, berth_env.ssh_remote("branches")).returncode == 0
    subprocess.run(["git", "checkout", "-q", "-b", "feature"], cwd=repo, check=True)
    (repo / "index.html").write_text("<p>feature</p>")
    commit(repo, "feature")
    res = push(berth_env, repo, berth_env.ssh_remote("branches"), branch="feature")
    assert res.returncode == 0
    assert "not deploying" in res.stderr + res.stdout
    assert "hello from static" in berth_env.get("branches")[1]
    res = subprocess.run(["git", "push", berth_env.ssh_remote("branches"), ":main"], cwd=repo,
                         capture_output=True, text=True, env=berth_env.git_env())
    assert res.returncode != 0 and "refusing to delete the deploy branch" in res.stderr


def test_killed_container_is_restored(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "heal")
    assert push(berth_env, repo, berth_env.ssh_remote("heal")).returncode == 0
    report = json.loads(berth_env.berth("apps:report", "heal", "--format", "json").stdout)
    [name] = report["containers"]
    subprocess.run(["docker", "rm", "-f", name], check=True, capture_output=True)
    berth_env.wait_for("heal", "hello from static", timeout=30)


def test_destroy_removes_everything(berth_env: Env, tmp_path: Path):
    repo = make_repo(APPS / "static", tmp_path / "gone")
    assert push(berth_env, repo, berth_env.ssh_remote("gone")).returncode == 0
    report = json.loads(berth_env.berth("apps:report", "gone", "--format", "json").stdout)
    res = berth_env.berth("apps:destroy", "gone", input="wrong\n", check=False)
    assert res.returncode != 0 and berth_env.berth("apps:exists", "gone", check=False
                                                   ).returncode == 0
    berth_env.berth("apps:destroy", "gone", "--force")
    assert berth_env.berth("apps:exists", "gone", check=False).returncode == 3
    ps = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True,
                        text=True).stdout.split()
    assert not set(report["containers"]) & set(ps)
    assert not Path(report["repo"]).exists()
    assert berth_env.get("gone")[0] == 404
