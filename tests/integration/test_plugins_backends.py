"""Backends from a plugin, for real: tests/plugins/recording.py registers a scheduler that
wraps docker-local and a router that is the Caddy router with a Caddy of its own. Selected
with `scheduler:set` and `router:set`, they deploy, restart and route a pushed Flask app;
their log shows berth went through them; unknown names are refused and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration

PLUGIN = "tests.plugins.recording"
APP = "recorded"


def recorded(env: Env, who: str) -> list[tuple[str, str]]:
    """(operation, apps) of each call the plugin's scheduler or router recorded."""
    log = env.root / "recording.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [(w[1], w[2]) for w in (line.split(" ") for line in lines) if w[0] == who]


def setting(env: Env, key: str) -> str:
    return str(json.loads(env.berth("settings:show", "--format", "json").stdout)[key])


def test_plugin_scheduler_and_router_deploy_and_route_a_pushed_app(berth_env: Env,
                                                                   tmp_path: Path):
    from berth.routers import caddy

    env = berth_env
    env.berth("plugin:install", PLUGIN)
    try:
        env.berth("apps:create", APP)
        res = env.berth("scheduler:set", APP, "k8s", check=False)
        assert res.returncode != 0
        assert ("unknown scheduler 'k8s': use one of the registered schedulers: docker-local, "
                "recording") in res.stderr
        report = json.loads(env.berth("scheduler:report", APP, "--format", "json").stdout)
        assert (report["selected"], report["app_setting"]) == ("docker-local", "")
        env.berth("scheduler:set", APP, "recording")

        # the push deploys through the plugin's scheduler
        repo = make_repo(APPS / "flask", tmp_path / APP)
        res = push(env, repo, env.ssh_remote(APP))
        assert res.returncode == 0, res.stderr
        assert env.wait_for(APP, "hello from flask") == "hello from flask"
        ops = recorded(env, "scheduler")
        assert ("start", APP) in ops and ("finish", APP) in ops
        assert ops.index(("start", APP)) < ops.index(("finish", APP))
        assert any(op == "web_upstreams" and APP in apps.split(",") for op, apps in ops)
        env.berth("ps:restart", APP)
        ops = recorded(env, "scheduler")
        assert {"process_containers", "promote", "settle", "retire"} <= {op for op, _ in ops}
        assert env.wait_for(APP, "hello from flask")

        # the plugin's router: an unknown name changes nothing, then it takes over
        res = env.berth("router:set", "traefik", check=False)
        assert res.returncode != 0
        assert ("unknown router 'traefik': use one of the registered routers: caddy, nginx, "
                "recording-caddy") in res.stderr
        assert setting(env, "router") == "caddy"
        env.berth("router:set", "recording-caddy")
        assert ("start", "-") in recorded(env, "router")
        assert not caddy.is_running(env.root)  # the built-in Caddy was stopped
        assert caddy.is_running(env.root / "rc")
        assert env.wait_for(APP, "hello from flask")
        report = json.loads(env.berth("router:report", "--format", "json").stdout)
        assert report["selected"] == "recording-caddy"

        # a new release is routed by the plugin's router, run by the plugin's scheduler
        (repo / "app.py").write_text((repo / "app.py").read_text().replace(
            "hello from flask", "hello again"))
        commit(repo, "again")
        before, started = len(recorded(env, "router")), len(recorded(env, "scheduler"))
        res = push(env, repo, env.ssh_remote(APP))
        assert res.returncode == 0, res.stderr
        assert env.wait_for(APP, "hello again") == "hello again"
        assert any(op == "apply" and APP in apps.split(",")
                   for op, apps in recorded(env, "router")[before:])
        assert ("start", APP) in recorded(env, "scheduler")[started:]
    finally:
        env.berth("router:set", "caddy", check=False)
        caddy.stop_caddy(env.root / "rc")
        env.berth("apps:destroy", APP, "--force", check=False)
        env.berth("plugin:uninstall", PLUGIN, check=False)
    assert ("stop", "-") in recorded(env, "router")
    assert caddy.is_running(env.root)
