"""Per-app access: a collaborator reaches only the apps granted to them, over SSH and HTTP,
and every refusal is the same bare "permission denied"."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, make_repo, push

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def apps(berth_env: Env, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("access")
    for app in ("mine", "theirs"):
        repo = make_repo(APPS / "static", base / app)
        assert push(berth_env, repo, berth_env.ssh_remote(app)).returncode == 0
    bob = berth_env.add_user("bob", "user")
    berth_env.berth("apps:grant", "mine", "bob", "deploy")
    return bob, base


def test_listing_shows_only_granted_apps(berth_env: Env, apps):
    bob, _ = apps
    res = berth_env.ssh("apps:list --format json", key=bob)
    assert res.returncode == 0, res.stderr
    assert [a["name"] for a in json.loads(res.stdout)] == ["mine"]


@pytest.mark.parametrize("command", [
    "apps:report theirs", "config:show theirs", "config:set theirs A=1", "releases theirs",
    "config:set mine A=1",            # deploy level may not change config
    "config:set --global A=1", "apps:destroy mine --force", "apps:create new1",
    "apps:grant theirs bob manage", "users:list", "settings:show", "apps:report nosuchapp",
])
def test_refusals_say_only_permission_denied(berth_env: Env, apps, command: str):
    bob, _ = apps
    res = berth_env.ssh(command, key=bob)
    assert res.returncode == 13, (command, res.stdout, res.stderr)
    assert res.stderr.strip() == "!     permission denied"


def test_collaborator_can_push_granted_app_only(berth_env: Env, apps):
    bob, base = apps
    repo = base / "mine"
    assert push(berth_env, repo, berth_env.ssh_remote("mine"), key=bob).returncode == 0
    res = push(berth_env, repo, berth_env.ssh_remote("theirs"), key=bob)
    assert res.returncode != 0 and "permission denied" in res.stderr
    res = push(berth_env, repo, berth_env.ssh_remote("brandnew"), key=bob)
    assert res.returncode != 0 and "permission denied" in res.stderr
    assert berth_env.berth("apps:exists", "brandnew", check=False).returncode == 3


def test_manage_grant_allows_config(berth_env: Env, apps):
    bob, _ = apps
    berth_env.berth("apps:grant", "mine", "bob", "manage")
    try:
        res = berth_env.ssh("config:set mine FROM_BOB=1", key=bob)
        assert res.returncode == 0, res.stderr
    finally:
        berth_env.berth("apps:grant", "mine", "bob", "deploy")
    events = berth_env.berth("config:show", "mine", "--format", "json").stdout
    assert json.loads(events)["FROM_BOB"] == "1"


def test_http_push_follows_the_same_rules(berth_env: Env, apps):
    _, base = apps
    token = berth_env.berth("tokens:create", "bob").stdout.strip()
    url = f"http://bob:{token}@127.0.0.1:{berth_env.http_port}/theirs.git"
    res = subprocess.run(["git", "push", "--force", url, "main:main"], cwd=base / "mine",
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and "403" in res.stderr
    url = f"http://bob:{token}@127.0.0.1:{berth_env.http_port}/mine.git"
    res = subprocess.run(["git", "push", "--force", url, "main:main"], cwd=base / "mine",
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr


def test_revoked_user_loses_access(berth_env: Env, apps):
    bob, _ = apps
    berth_env.add_user("carol", "user")
    berth_env.berth("apps:grant", "mine", "carol")
    berth_env.berth("apps:revoke", "mine", "carol")
    carol = berth_env.root.parent / "id_carol"
    assert berth_env.ssh("apps:report mine", key=carol).returncode == 13
