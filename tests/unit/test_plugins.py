"""The plugin system without Docker: hook specs, loading, shell hooks (argv, abort, failure
reporting), Python plugins from $BERTH_PLUGINS, enable/disable, install checks, tracing."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import stat
from pathlib import Path

import click
import pytest

from berth.context import Ctx
from berth.errors import AlreadyExists, NotFound, PluginError, ValidationError
from berth.hooks import manager, shell, specs
from berth.paths import Paths
from berth.routers.base import Route

REQUIRED = {"post_create", "pre_build", "post_build", "pre_deploy", "post_deploy", "pre_delete",
            "post_delete", "post_config_update", "post_domains_update", "router_config",
            "cli_commands", "env_for_app", "addon_types", "builders", "routers", "schedulers"}


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ctx:
    root = tmp_path / "root"
    monkeypatch.setenv("BERTH_ROOT", str(root))
    monkeypatch.delenv("BERTH_PLUGINS", raising=False)
    monkeypatch.delenv("BERTH_TRACE_HOOKS", raising=False)
    manager.reset()
    lines: list[str] = []
    c = Ctx(paths=Paths(root), out=lines.append)
    c.lines = lines  # type: ignore[attr-defined]
    c.conn  # noqa: B018 - create the store
    yield c
    manager.reset()


def script(root: Path, plugin: str, hook: str, body: str) -> Path:
    path = root / "plugins" / plugin / "hooks" / hook
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    manager.reset()
    return path


def py_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: str) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text("from berth.hooks import hookimpl\n" + code)
    old = os.environ.get("BERTH_PLUGINS", "")
    monkeypatch.setenv("BERTH_PLUGINS", f"{old}:{path}" if old else str(path))
    manager.reset()


# ------------------------------------------------------------------------------- specs


def test_every_required_hook_is_specified_documented_and_typed() -> None:
    hooks = manager.hook_names()
    assert REQUIRED <= set(hooks)
    for hook in hooks:
        fn = getattr(specs, hook)
        assert (fn.__doc__ or "").strip(), f"{hook} has no docstring"
        sig = inspect.signature(fn)
        assert sig.return_annotation is not inspect.Signature.empty, hook
        for p in sig.parameters.values():
            assert p.annotation is not inspect.Parameter.empty, f"{hook}({p.name}) untyped"


def test_builtins_register_through_the_hooks(ctx: Ctx) -> None:
    from berth.builders import detect

    m = manager.get(ctx.paths.root)
    kinds = {p.name: (p.kind, p.enabled, p.error) for p in m.plugins.values()}
    for name in ("builders", "caddy", "schedulers", "addons", "postgres", "mysql", "redis"):
        assert kinds[name] == ("builtin", True, ""), name
    assert detect.BUILDER_ORDER == ["dockerfile", "buildpack"]
    assert sorted(manager.addon_types()) == ["mysql", "postgres", "redis"]
    assert set(dict(manager.collect("routers"))["caddy"]) == {"caddy", "nginx"}
    cmds = manager.commands()
    assert {"postgres:create", "mysql:link", "redis:export"} <= set(cmds)


# ------------------------------------------------------------------------------- shell


def test_shell_argv_spreads_lists_and_leaves_out_ctx(tmp_path: Path) -> None:
    s = tmp_path / "hook"
    assert shell.argv(s, ["ctx", "app", "keys"], {"app": "a", "keys": ["K1", "K2"]}) == \
        [str(s), "a", "K1", "K2"]
    assert shell.argv(s, ["ctx", "app", "version", "url"],
                      {"app": "a", "version": 3, "url": None}) == [str(s), "a", "3", ""]
    route = Route(app="a", hosts=("a.x",), upstreams=())
    word = shell.argv(s, ["ctx", "app", "route"], {"app": "a", "route": route})[2]
    assert json.loads(word)["hosts"] == ["a.x"]


def test_pre_hook_exit_aborts_with_stderr(ctx: Ctx, tmp_path: Path) -> None:
    log = tmp_path / "argv"
    script(ctx.paths.root, "freeze", "pre_deploy",
           f'printf "%s\\n" "$@" > {log}\necho "frozen: $BERTH_HOOK by $BERTH_PLUGIN" >&2\n'
           "exit 3\n")
    with pytest.raises(PluginError) as e:
        manager.fire(ctx, "pre_deploy", app="web", version=4, image="sha256:abc")
    assert "pre_deploy hook of plugin freeze refused (exit 3)" in str(e.value)
    assert "frozen: pre_deploy by freeze" in str(e.value)
    assert log.read_text().split("\n")[:3] == ["web", "4", "sha256:abc"]


def test_failing_post_hook_is_reported_logged_and_not_raised(
        ctx: Ctx, capsys: pytest.CaptureFixture[str]) -> None:
    script(ctx.paths.root, "a-bad", "post_deploy", "echo broken >&2\nexit 1\n")
    script(ctx.paths.root, "b-good", "post_deploy", 'echo "deployed $1 v$2"\n')
    manager.fire(ctx, "post_deploy", app="web", version=2, url="http://web.localhost")
    err = capsys.readouterr().err
    assert "the post_deploy hook of plugin a-bad failed: exit 1: broken" in err
    assert "       deployed web v2" in ctx.lines  # type: ignore[attr-defined]
    assert "post_deploy a-bad: exit 1: broken" in (ctx.paths.logs / "hooks.log").read_text()
    row = ctx.conn.execute("SELECT action, details_json FROM events "
                           "WHERE action = 'plugin.hook-failed'").fetchone()
    assert json.loads(row[1]) == {"hook": "post_deploy", "plugin": "a-bad"}


def test_python_post_hook_exception_is_reported(ctx: Ctx, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    py_plugin(tmp_path, monkeypatch, "boom", "@hookimpl\ndef post_create(app):\n"
              "    raise RuntimeError('no ' + app)\n")
    manager.fire(ctx, "post_create", app="x")
    assert "post_create hook of plugin boom failed: RuntimeError: no x" in capsys.readouterr().err
    py_plugin(tmp_path, monkeypatch, "veto", "@hookimpl\ndef pre_delete(ctx, app):\n"
              "    raise ValueError('keep ' + app)\n")
    with pytest.raises(PluginError, match="pre_delete hook of plugin veto refused: keep x"):
        manager.fire(ctx, "pre_delete", app="x")


def test_disabled_plugin_is_not_called(ctx: Ctx, tmp_path: Path) -> None:
    from berth import plugins

    script(ctx.paths.root, "freeze", "pre_deploy", "exit 1\n")
    plugins.set_enabled(ctx, "freeze", False)
    manager.fire(ctx, "pre_deploy", app="web", version=1, image="i")
    info = {p.name: p for p in plugins.all_plugins(ctx)}["freeze"]
    assert (info.kind, info.enabled, info.hooks) == ("shell", False, ["pre_deploy"])
    plugins.set_enabled(ctx, "freeze", True)
    with pytest.raises(PluginError):
        manager.fire(ctx, "pre_deploy", app="web", version=1, image="i")
    with pytest.raises(ValidationError, match="cannot be disabled"):
        plugins.set_enabled(ctx, "builders", False)


def test_trace_prints_each_call(ctx: Ctx, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    script(ctx.paths.root, "noop", "post_create", "exit 0\n")
    monkeypatch.setenv("BERTH_TRACE_HOOKS", "1")
    manager.fire(ctx, "post_create", app="web")
    err = capsys.readouterr().err
    assert "hook: post_create(app='web') -> noop" in err
    assert "hook:   post_create: noop ok" in err


# ------------------------------------------------------------------------------- values


def test_env_for_app_merges_python_and_shell(ctx: Ctx, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    py_plugin(tmp_path, monkeypatch, "envpy",
              "@hookimpl\ndef env_for_app(app):\n    return {'FROM_PY': app.upper()}\n")
    script(ctx.paths.root, "envsh", "env_for_app", 'echo "FROM_SH=$1 x"\necho "# note"\n')
    assert manager.env_for_app(ctx, "web") == {"FROM_PY": "WEB", "FROM_SH": "web x"}
    script(ctx.paths.root, "envsh", "env_for_app", "echo 'bad key=1'\n")
    with pytest.raises(PluginError, match="env_for_app hook of plugin envsh failed"):
        manager.env_for_app(ctx, "web")


def test_router_config_chains_and_skips_a_failing_plugin(
        ctx: Ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    py_plugin(tmp_path, monkeypatch, "rpy",
              "import dataclasses\n@hookimpl\ndef router_config(route):\n"
              "    return dataclasses.replace(route, hosts=route.hosts + ('www.example',))\n")
    script(ctx.paths.root, "rsh", "router_config",
           'case "$2" in *www.example*) echo \'{"upstreams": ["10.0.0.9:5000"]}\';; esac\n')
    script(ctx.paths.root, "rzz", "router_config", 'echo \'{"nope": 1}\'\n')
    route = Route(app="web", hosts=("web.localhost",), upstreams=("10.0.0.2:5000",))
    new = manager.amend_route(ctx, route)
    assert new == dataclasses.replace(route, hosts=("web.localhost", "www.example"),
                                      upstreams=("10.0.0.9:5000",))
    assert "router_config hook of plugin rzz failed" in capsys.readouterr().err


# ------------------------------------------------------------------------------- loading


def test_broken_plugins_are_listed_with_their_error(ctx: Ctx, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    py_plugin(tmp_path, monkeypatch, "syntax", "def (:\n")
    py_plugin(tmp_path, monkeypatch, "typo", "@hookimpl\ndef post_deplyo(app):\n    pass\n")
    py_plugin(tmp_path, monkeypatch, "okay", "@hookimpl\ndef post_create(app):\n    pass\n")
    found = {p.name: p for p in manager.get(ctx.paths.root).plugins.values()}
    assert "SyntaxError" in found["syntax"].error and not found["syntax"].enabled
    assert "unknown hook(s) post_deplyo" in found["typo"].error
    assert found["okay"].enabled and found["okay"].hooks == ["post_create"]
    manager.fire(ctx, "post_create", app="x")  # the broken ones are simply not there


def test_plugin_commands_join_the_cli(ctx: Ctx, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from berth.cli import main

    py_plugin(tmp_path, monkeypatch, "hello", (
        "import click\n"
        "@click.command('hello:say', help='Say it.\\n\\nExample:\\n  berth hello:say x')\n"
        "@click.argument('who')\n"
        "def say(who):\n    click.echo('hello ' + who)\n"
        "@hookimpl\ndef cli_commands():\n    return {'hello:say': say, 'apps:list': say}\n"))
    assert "hello:say" in main.all_commands()
    cmd = main.cli.get_command(click.Context(main.cli), "apps:list")
    assert cmd is not None and cmd.name == "apps:list" and "List apps" in (cmd.help or "")
    assert main.run(["hello:say", "world"]) == 0


def test_every_plugin_command_has_help_with_an_example(ctx: Ctx) -> None:
    cmds = manager.commands()
    assert cmds
    for name, cmd in cmds.items():
        assert cmd.name == name
        assert cmd.help and "Example" in cmd.help, name


# ------------------------------------------------------------------------------- install


def test_install_checks_the_directory_then_copies_it(ctx: Ctx, tmp_path: Path) -> None:
    from berth import plugins

    src = tmp_path / "deploy-freeze"
    with pytest.raises(NotFound):
        plugins.install(ctx, str(tmp_path / "missing"))
    src.mkdir()
    with pytest.raises(ValidationError, match="no hooks/ directory"):
        plugins.install(ctx, str(src))
    (src / "hooks").mkdir()
    (src / "hooks" / "pre_deplyo").write_text("#!/bin/sh\n")
    with pytest.raises(ValidationError, match="pre_deplyo is not a hook"):
        plugins.install(ctx, str(src))
    (src / "hooks" / "pre_deplyo").rename(src / "hooks" / "pre_deploy")
    with pytest.raises(ValidationError, match="not an executable file"):
        plugins.install(ctx, str(src))
    (src / "hooks" / "pre_deploy").chmod(0o755)
    info = plugins.install(ctx, str(src))
    assert (info.name, info.kind, info.hooks) == ("deploy-freeze", "shell", ["pre_deploy"])
    assert (ctx.paths.root / "plugins" / "deploy-freeze" / "hooks" / "pre_deploy").is_file()
    with pytest.raises(AlreadyExists):
        plugins.install(ctx, str(src))
    plugins.uninstall(ctx, "deploy-freeze")
    assert not (ctx.paths.root / "plugins" / "deploy-freeze").exists()
    with pytest.raises(ValidationError, match="built in"):
        plugins.uninstall(ctx, "postgres")


def test_install_module_must_exist_and_implement_hooks(ctx: Ctx, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from berth import plugins

    with pytest.raises(NotFound, match="no directory or installed Python module"):
        plugins.install(ctx, "no_such_module_xyz")
    with pytest.raises(ValidationError, match="implements no berth hooks"):
        plugins.install(ctx, "json")
    with pytest.raises(ValidationError, match="invalid plugin"):
        plugins.install(ctx, "bad name;rm")
    with pytest.raises(AlreadyExists, match="is built in"):
        plugins.install(ctx, "berth.addons.postgres")
    (tmp_path / "berth_unit_hello.py").write_text(
        "from berth.hooks import hookimpl\n@hookimpl\ndef post_create(app):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    info = plugins.install(ctx, "berth_unit_hello")
    assert (info.kind, info.enabled, info.hooks) == ("python", True, ["post_create"])
    plugins.set_enabled(ctx, "berth_unit_hello", False)
    assert not {p.name: p for p in plugins.all_plugins(ctx)}["berth_unit_hello"].enabled
    plugins.uninstall(ctx, "berth_unit_hello")
    assert "berth_unit_hello" not in {p.name for p in plugins.all_plugins(ctx)}


def test_trigger_checks_hook_and_arguments(ctx: Ctx, tmp_path: Path) -> None:
    from berth import plugins

    with pytest.raises(ValidationError, match="unknown hook"):
        plugins.trigger(ctx, "post_nothing", [])
    with pytest.raises(ValidationError, match="usage: berth plugin:trigger post_deploy APP "
                                              "VERSION URL"):
        plugins.trigger(ctx, "post_deploy", ["web"])
    with pytest.raises(ValidationError, match="version must be a number"):
        plugins.trigger(ctx, "post_deploy", ["web", "x", "u"])
    out = tmp_path / "seen"
    script(ctx.paths.root, "watch", "post_config_update", f'echo "$@" > {out}\n')
    assert plugins.trigger(ctx, "post_config_update", ["web", "A", "B"]) is None
    assert out.read_text() == "web A B\n"
    assert plugins.trigger(ctx, "builders", []) == {"builders": ["dockerfile", "buildpack"]}


def test_a_long_running_process_sees_plugin_changes(ctx: Ctx, tmp_path: Path) -> None:
    """`berth server` keeps its manager: plugin:* changes touch a stamp it checks."""
    from berth import plugins

    before = manager.get(ctx.paths.root)
    assert manager.get(ctx.paths.root) is before  # cached while nothing changes
    src = tmp_path / "late"
    (src / "hooks").mkdir(parents=True)
    (src / "hooks" / "reconcile").write_text("#!/bin/sh\n")
    (src / "hooks" / "reconcile").chmod(0o755)
    plugins.install(ctx, str(src))
    assert "late" in manager.get(ctx.paths.root).shell_dirs
    plugins.set_enabled(ctx, "late", False)
    assert "late" not in manager.get(ctx.paths.root).shell_dirs
    stamp = ctx.paths.root / "plugins" / ".changed"
    assert "late" in {p.name for p in plugins.all_plugins(ctx)}  # the stamp is no plugin
    cached = manager.get(ctx.paths.root)
    later = stamp.stat().st_mtime_ns + 10**9
    os.utime(stamp, ns=(later, later))  # as another process's plugin:* change does
    assert manager.get(ctx.paths.root) is not cached
