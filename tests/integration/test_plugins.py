"""Plugins for real: a shell plugin whose pre_deploy hook refuses a `git push` (and a failing
post_deploy hook that is only reported), and a Python package found through its entry point
that adds a command and an environment variable."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, REPO, Env, commit, make_repo, push

pytestmark = pytest.mark.integration


def hook(plugin: Path, name: str, body: str) -> None:
    path = plugin / "hooks" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)


def releases(env: Env, app: str) -> list[dict]:
    return json.loads(env.berth("releases", app, "--format", "json").stdout)  # type: ignore[no-any-return]


def test_shell_hook_aborts_a_deploy(berth_env: Env, tmp_path: Path):
    env = berth_env
    repo = make_repo(APPS / "static", tmp_path / "hooked")
    assert push(env, repo, env.ssh_remote("hooked")).returncode == 0
    env.wait_for("hooked", "hello from static")

    freeze = tmp_path / "freeze"
    hook(freeze, "pre_deploy", """\
        # refuse deploys of the app `hooked` while ROOT/freeze exists
        if [ "$1" = hooked ] && [ -e "$BERTH_ROOT/freeze" ]; then
            echo "deploys of $1 are frozen: $(cat "$BERTH_ROOT/freeze")" >&2
            exit 1
        fi
        """)
    hook(freeze, "post_deploy", """\
        [ "$1" = hooked ] && echo "$BERTH_PLUGIN saw $*" >> "$BERTH_ROOT/deploys.log"
        echo "recorded v$2"
        """)
    hook(freeze, "post_domains_update", """\
        [ "$1" = hooked ] && echo "$*" >> "$BERTH_ROOT/domains.log"
        exit 0
        """)
    hook(freeze, "pre_delete", """\
        if [ "$1" = hooked ] && [ -e "$BERTH_ROOT/freeze" ]; then
            echo "hooked is frozen" >&2
            exit 1
        fi
        """)
    noisy = tmp_path / "noisy"
    hook(noisy, "post_deploy", """\
        [ "$1" = hooked ] || exit 0
        echo "the chat server is down" >&2
        exit 1
        """)
    try:
        out = env.berth("plugin:install", str(freeze)).stdout
        assert "Installed plugin freeze (shell): post_deploy, post_domains_update, " \
               "pre_delete, pre_deploy" in out
        env.berth("plugin:install", str(noisy))
        listed = {p["name"]: p for p in json.loads(env.berth("plugin:list", "--format",
                                                              "json").stdout)}
        assert listed["freeze"]["kind"] == "shell" and listed["freeze"]["enabled"]

        # frozen: the push is refused with the hook's message; v1 keeps serving
        (env.root / "freeze").write_text("release week")
        (repo / "index.html").write_text("<p>hello from static v2</p>")
        commit(repo, "v2")
        res = push(env, repo, env.ssh_remote("hooked"))
        assert res.returncode != 0
        assert "pre_deploy hook of plugin freeze refused (exit 1): deploys of hooked are " \
               "frozen: release week" in res.stderr
        assert "hello from static v2" not in env.get("hooked")[1]
        rels = releases(env, "hooked")
        assert rels[0]["status"] == "failed" and rels[1]["current"]
        # and so is destroying the app
        res = env.berth("apps:destroy", "hooked", "--force", check=False)
        assert res.returncode == 10 and "hooked is frozen" in res.stderr
        assert env.berth("apps:exists", "hooked").returncode == 0

        # post_domains_update gets the app and all its hosts
        env.berth("domains:add", "hooked", "www.hooked.test")
        assert (env.root / "domains.log").read_text() == \
            "hooked hooked.localhost www.hooked.test\n"

        # thawed: the deploy goes through; the failing post hook is reported, not fatal
        (env.root / "freeze").unlink()
        res = push(env, repo, env.ssh_remote("hooked"))
        assert res.returncode == 0, res.stderr
        assert "the post_deploy hook of plugin noisy failed: exit 1: the chat server is " \
               "down" in res.stderr
        assert "recorded v3" in res.stderr  # hook output is shown to the pusher
        env.wait_for("hooked", "hello from static v2")
        log = (env.root / "deploys.log").read_text()
        assert f"freeze saw hooked 3 http://hooked.localhost:{env.router_port}" in log
        assert "noisy: exit 1: the chat server is down" in \
            (env.root / "logs" / "hooks.log").read_text()
        assert releases(env, "hooked")[0]["status"] == "succeeded"

        # disabled: no longer called
        env.berth("plugin:disable", "freeze")
        (env.root / "freeze").write_text("ignored")
        (repo / "index.html").write_text("<p>hello from static v3</p>")
        commit(repo, "v3")
        assert push(env, repo, env.ssh_remote("hooked")).returncode == 0
        env.wait_for("hooked", "hello from static v3")

        # plugin:trigger with tracing calls a hook by hand
        env.berth("plugin:enable", "freeze")
        res = subprocess.run(["berth", "plugin:trigger", "pre_deploy", "hooked", "4", "img"],
                             env={**env.env(), "BERTH_TRACE_HOOKS": "1"}, capture_output=True,
                             text=True)
        assert res.returncode == 10
        assert "hook: pre_deploy(app='hooked', version=4, image='img') -> addons, freeze" \
            in res.stderr
        assert "deploys of hooked are frozen: ignored" in res.stderr
    finally:
        (env.root / "freeze").unlink(missing_ok=True)
        for name in ("freeze", "noisy"):
            env.berth("plugin:uninstall", name, check=False)
    assert not (env.root / "plugins" / "freeze").exists()
    env.berth("apps:destroy", "hooked", "--force")


def test_python_plugin_adds_a_command_and_env(berth_env: Env, tmp_path: Path):
    env = berth_env
    src = tmp_path / "src"
    shutil.copytree(REPO / "tests" / "plugins" / "berth_hello", src)
    target = tmp_path / "site"
    pip = Path(shutil.which("berth") or "").parent / "pip"
    subprocess.run([str(pip), "install", "-q", "--no-deps", "--disable-pip-version-check",
                    "--target", str(target), str(src)], check=True, capture_output=True,
                   timeout=300)
    plugged = {**env.env(), "PYTHONPATH": f"{REPO}:{target}"}

    def berth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["berth", *args], env=plugged, capture_output=True, text=True,
                              timeout=600)

    # found through its entry point: the command is listed, dispatched, documented
    assert "hello:greet" in berth("--help").stdout
    res = berth("hello:greet", "Ada", "--shout")
    assert (res.returncode, res.stdout) == (0, "HELLO ADA, FROM A BERTH PLUGIN\n")
    assert "Example:" in berth("hello:greet", "--help").stdout
    info = {p["name"]: p for p in json.loads(berth("plugin:list", "--format", "json").stdout)}
    assert info["hello"]["kind"] == "entrypoint"
    assert info["hello"]["hooks"] == ["cli_commands", "env_for_app"]
    # without the package the command does not exist
    assert "hello:greet" not in env.berth("--help").stdout

    # env_for_app: a release made with the plugin loaded carries its variable
    repo = make_repo(APPS / "flask", tmp_path / "plugged")
    assert push(env, repo, env.ssh_remote("plugged")).returncode == 0
    res = berth("config:set", "plugged", "OWN=1")
    assert res.returncode == 0, res.stderr
    assert env.get("plugged", "/env/HELLO_PLUGIN") == (200, "hello plugged")

    # disabled: gone from the CLI until enabled again
    assert berth("plugin:disable", "hello").returncode == 0
    res = berth("hello:greet", "Ada")
    assert res.returncode != 0 and "No such command" in res.stderr
    assert berth("plugin:enable", "hello").returncode == 0
    assert berth("hello:greet", "Ada").returncode == 0

    # the same package as a path in $BERTH_PLUGINS
    res = subprocess.run(["berth", "hello:greet", "Bo"], capture_output=True, text=True,
                         env={**env.env(), "BERTH_PLUGINS": str(src / "berth_hello")})
    assert res.stdout == "hello Bo, from a berth plugin\n"
    env.berth("apps:destroy", "plugged", "--force")
