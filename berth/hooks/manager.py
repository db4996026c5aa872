"""The plugin manager: which plugins are loaded, and how each kind of hook is called.

Plugins, in load order:

    builtin     berth's own builders, routers, scheduler and add-ons (BUILTINS), through the
                same hooks
    entrypoint  installed Python packages with an entry point in the group `berth.plugins`
    python      modules recorded by `plugin:install MODULE`
    env         $BERTH_PLUGINS: paths of .py files or package directories, ':'-separated
    shell       directories ROOT/plugins/NAME with executable hooks/HOOK scripts

A plugin disabled in the store (`plugin:disable NAME`) is not loaded. One manager per process
and root; `reset()` forgets it after a change. BERTH_TRACE_HOOKS=1 prints every hook call to
stderr.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from berth.errors import PluginError, ValidationError
from berth.hooks import PROJECT, shell, specs

if TYPE_CHECKING:
    from berth.context import Ctx
    from berth.routers.base import Route

ENTRY_POINT_GROUP = "berth.plugins"
ENV_VAR = "BERTH_PLUGINS"

#: name, module, may be disabled
BUILTINS: list[tuple[str, str, bool]] = [
    ("builders", "berth.builders.plugin", False),
    ("caddy", "berth.routers.plugin", False),
    ("schedulers", "berth.schedulers.plugin", False),
    ("addons", "berth.addons.plugin", False),
    ("postgres", "berth.addons.postgres", True),
    ("mysql", "berth.addons.mysql", True),
    ("redis", "berth.addons.redis", True),
]


@dataclass
class PluginInfo:
    name: str
    kind: str  # builtin | entrypoint | python | env | shell
    source: str
    enabled: bool
    hooks: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class Manager:
    root: Path
    pm: pluggy.PluginManager
    plugins: dict[str, PluginInfo]
    shell_dirs: dict[str, Path]  # enabled shell plugins
    stamp: int = 0


_cache: dict[Path, Manager] = {}
STAMP = ".changed"  # ROOT/plugins/.changed, touched by every plugin:* change


def stamp_path(root: Path) -> Path:
    return root / "plugins" / STAMP


def _stamp(root: Path) -> int:
    try:
        return stamp_path(root).stat().st_mtime_ns
    except OSError:
        return 0


def changed(root: Path) -> None:
    """Tell every berth process (a running `berth server` too) to load plugins again."""
    path = stamp_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    reset()


def hook_names() -> list[str]:
    """Every hook, in the order specs.py declares them."""
    return [n for n in vars(specs) if _is_spec(getattr(specs, n))]


def _is_spec(obj: Any) -> bool:
    return callable(obj) and hasattr(obj, f"{PROJECT}_spec")


def params(hook: str) -> list[str]:
    import inspect

    return list(inspect.signature(getattr(specs, hook)).parameters)


# ------------------------------------------------------------------------------- loading


def get(root: Path | None = None) -> Manager:
    if root is None:
        from berth.paths import default_root

        root = default_root()
    key = root.resolve() if root.exists() else root
    stamp = _stamp(root)
    if key not in _cache or _cache[key].stamp != stamp:
        _cache[key] = load(root)
        _cache[key].stamp = stamp
    return _cache[key]


def reset() -> None:
    _cache.clear()


def load(root: Path) -> Manager:
    from berth.store import plugins as store

    rows = {r.name: r for r in store.read_only(root / "berth.db")}
    disabled = {n for n, r in rows.items() if not r.enabled}
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(specs)
    found: dict[str, PluginInfo] = {}

    def add(name: str, kind: str, source: str, loader: Callable[[], object]) -> None:
        if name in found:
            return
        info = PluginInfo(name, kind, source, name not in disabled)
        found[name] = info
        if not info.enabled:
            return
        try:
            module = loader()
            pm.register(module, name=name)
            callers = pm.get_hookcallers(module) or []
            unknown = sorted(h.name for h in callers if not h.has_spec())
            if unknown:
                raise PluginError(f"unknown hook(s) {', '.join(unknown)}; known hooks: "
                                  + ", ".join(hook_names()))
            info.hooks = sorted(h.name for h in callers)
        except Exception as e:  # a broken plugin must not take berth down
            info.error = f"{type(e).__name__}: {e}"[:300]
            info.enabled = False
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)

    for name, module, _ in BUILTINS:
        add(name, "builtin", module, functools.partial(importlib.import_module, module))
    for ep in _entry_points():
        add(ep.name, "entrypoint", ep.value, ep.load)
    for row in rows.values():
        if row.kind == "python":
            add(row.name, "python", row.source,
                functools.partial(importlib.import_module, row.source))
    for entry in filter(None, os.environ.get(ENV_VAR, "").split(os.pathsep)):
        name = Path(entry).stem if entry.endswith(".py") else Path(entry).name
        add(name, "env", entry, functools.partial(_load_path, Path(entry)))
    shell_dirs: dict[str, Path] = {}
    plugins_dir = root / "plugins"
    if plugins_dir.is_dir():
        for d in sorted(plugins_dir.iterdir()):
            if not d.is_dir() or d.name.startswith(".") or d.name in found:
                continue
            info = PluginInfo(d.name, "shell", str(d), d.name not in disabled,
                              sorted(shell.scripts(d)))
            found[d.name] = info
            if info.enabled:
                shell_dirs[d.name] = d
    return Manager(root=root, pm=pm, plugins=found, shell_dirs=shell_dirs)


def _entry_points() -> list[Any]:
    from importlib import metadata

    try:
        return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    except Exception:  # a broken distribution's metadata must not stop berth
        return []


def _load_path(path: Path) -> ModuleType:
    """A .py file, or a package directory, named in $BERTH_PLUGINS."""
    if path.is_dir():
        if not (path / "__init__.py").is_file():
            raise ImportError(f"{path} is not a Python package (no __init__.py)")
        parent = str(path.parent.resolve())
        if parent not in sys.path:
            sys.path.insert(0, parent)
        return importlib.import_module(path.name)
    spec = importlib.util.spec_from_file_location(f"berth_plugin_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------- calling


def tracing() -> bool:
    return os.environ.get("BERTH_TRACE_HOOKS", "") not in ("", "0")


def _trace(text: str) -> None:
    if tracing():
        sys.stderr.write(f"hook: {text}\n")
        sys.stderr.flush()


def _show(kwargs: dict[str, Any]) -> str:
    parts = []
    for k, v in kwargs.items():
        if k == "ctx":
            continue
        text = repr(v)
        parts.append(f"{k}={text[:120]}{'...' if len(text) > 120 else ''}")
    return ", ".join(parts)


def _impls(m: Manager, hook: str) -> list[tuple[str, Callable[..., Any], list[str]]]:
    """(plugin name, function, its argument names) in pluggy's calling order."""
    caller = getattr(m.pm.hook, hook)
    out = []
    for impl in reversed(caller.get_hookimpls()):
        out.append((impl.plugin_name, impl.function, list(impl.argnames)))
    return out


def _call_python(fn: Callable[..., Any], argnames: list[str], kwargs: dict[str, Any]) -> Any:
    return fn(**{a: kwargs[a] for a in argnames})


def _run_shell(m: Manager, plugin: str, hook: str,
               kwargs: dict[str, Any]) -> tuple[int, str, str] | None:
    script = shell.scripts(m.shell_dirs[plugin]).get(hook)
    if script is None:
        return None
    proc = shell.run(script, shell.argv(script, params(hook), kwargs), root=m.root,
                     hook=hook, plugin=plugin)
    return proc.returncode, proc.stdout, proc.stderr


def _each(m: Manager, hook: str, kwargs: dict[str, Any]) -> list[tuple[str, Callable[[], Any]]]:
    """Every implementation of ``hook`` as (plugin, thunk): Python ones, then shell scripts."""
    calls: list[tuple[str, Callable[[], Any]]] = []
    for plugin, fn, argnames in _impls(m, hook):
        calls.append((plugin, functools.partial(_call_python, fn, argnames, kwargs)))
    if hook in shell.SHELL_HOOKS:
        for plugin in sorted(m.shell_dirs):
            if hook in shell.scripts(m.shell_dirs[plugin]):
                calls.append((plugin, functools.partial(_shell_value, m, plugin, hook, kwargs)))
    return calls


@dataclass
class ShellResult:
    code: int
    stdout: str
    stderr: str


def _shell_value(m: Manager, plugin: str, hook: str, kwargs: dict[str, Any]) -> ShellResult:
    res = _run_shell(m, plugin, hook, kwargs)
    assert res is not None
    return ShellResult(*res)


def fire(ctx: Ctx, hook: str, **kwargs: Any) -> None:
    """Call an event hook (pre_*, post_*, reconcile). pre_*: the first failure raises
    PluginError and stops. Others: failures are reported and logged, never raised."""
    m = get(ctx.paths.root)
    kwargs["ctx"] = ctx
    calls = _each(m, hook, kwargs)
    _trace(f"{hook}({_show(kwargs)}) -> {', '.join(p for p, _ in calls) or 'no plugins'}")
    strict = hook.startswith("pre_")
    for plugin, thunk in calls:
        started = time.monotonic()
        try:
            result = thunk()
        except PluginError as e:
            if strict:
                raise
            report(ctx, hook, plugin, str(e))
            continue
        except Exception as e:
            if strict:
                raise PluginError(f"the {hook} hook of plugin {plugin} refused: {e}") from None
            report(ctx, hook, plugin, f"{type(e).__name__}: {e}", traceback.format_exc())
            continue
        if isinstance(result, ShellResult):
            for line in result.stdout.splitlines():
                ctx.out(f"       {line}")
            if result.code != 0:
                msg = result.stderr.strip() or f"exit code {result.code}"
                if strict:
                    raise PluginError(f"the {hook} hook of plugin {plugin} refused "
                                      f"(exit {result.code}): {msg}")
                report(ctx, hook, plugin, f"exit {result.code}: {msg}")
                continue
            if result.stderr.strip():
                sys.stderr.write(result.stderr)
        _trace(f"  {hook}: {plugin} ok ({time.monotonic() - started:.2f}s)")


_reported: dict[tuple[str, str, str], float] = {}
REPEAT_QUIET = 300.0  # seconds a repeated reconcile failure stays quiet


def report(ctx: Ctx, hook: str, plugin: str, message: str, detail: str = "") -> None:
    """A hook failed where failure must not stop berth: say so, log it, record an event.
    The reconcile hook runs every few seconds: the same failure is told once in 5 minutes,
    and not as an event."""
    if hook == "reconcile":
        key, now = (hook, plugin, message[:300]), time.monotonic()
        if now - _reported.get(key, -REPEAT_QUIET) < REPEAT_QUIET:
            return
        _reported[key] = now
    sys.stderr.write(f" !     the {hook} hook of plugin {plugin} failed: {message[:500]}\n")
    sys.stderr.flush()
    try:
        ctx.paths.logs.mkdir(parents=True, exist_ok=True)
        with open(ctx.paths.logs / "hooks.log", "a") as log:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            log.write(f"{stamp} {hook} {plugin}: {message}\n{detail}")
        if hook == "reconcile":
            return
        from berth.store import events
        from berth.store.db import transaction

        with transaction(ctx.conn):
            events.record(ctx.conn, actor=ctx.actor, app=None, action="plugin.hook-failed",
                          details={"hook": hook, "plugin": plugin})
    except Exception:  # reporting must never be what breaks
        pass


def env_for_app(ctx: Ctx, app: str) -> dict[str, str]:
    """Every plugin's extra env vars for ``app``; a failure aborts (the app would start
    without what it needs)."""
    m = get(ctx.paths.root)
    kwargs: dict[str, Any] = {"ctx": ctx, "app": app}
    out: dict[str, str] = {}
    calls = _each(m, "env_for_app", kwargs)
    _trace(f"env_for_app({_show(kwargs)}) -> {', '.join(p for p, _ in calls) or 'no plugins'}")
    for plugin, thunk in calls:
        try:
            result = thunk()
            if isinstance(result, ShellResult):
                if result.code != 0:
                    raise ValueError(result.stderr.strip() or f"exit {result.code}")
                result = shell.parse_env(result.stdout)
        except Exception as e:
            raise PluginError(f"the env_for_app hook of plugin {plugin} failed: {e}") from None
        if result:
            from berth import names

            for key, value in dict(result).items():
                out[names.env_key(key)] = names.env_value(key, str(value))
    return out


def amend_route(ctx: Ctx, route: Route) -> Route:
    """Chain router_config: each plugin gets the previous result. A failing plugin is
    reported and skipped, so one plugin cannot take routing down."""
    m = get(ctx.paths.root)
    calls = _impls(m, "router_config")
    shell_plugins = [p for p in sorted(m.shell_dirs)
                     if "router_config" in shell.scripts(m.shell_dirs[p])]
    if not calls and not shell_plugins:
        return route
    _trace(f"router_config(app={route.app!r}) -> "
           f"{', '.join([p for p, _, _ in calls] + shell_plugins)}")
    for plugin, fn, argnames in calls:
        try:
            new = _call_python(fn, argnames, {"ctx": ctx, "app": route.app, "route": route})
            if new is not None:
                if type(new) is not type(route):
                    raise TypeError(f"returned {type(new).__name__}, not a Route")
                route = new
        except Exception as e:
            report(ctx, "router_config", plugin, f"{type(e).__name__}: {e}")
    for plugin in shell_plugins:
        res = _run_shell(m, plugin, "router_config", {"app": route.app, "route": route})
        try:
            assert res is not None
            code, out, err = res
            if code != 0:
                raise ValueError(err.strip() or f"exit {code}")
            if out.strip():
                route = _route_changes(route, json.loads(out))
        except Exception as e:
            report(ctx, "router_config", plugin, f"{type(e).__name__}: {e}")
    return route


def _route_changes(route: Route, changes: Any) -> Route:
    if not isinstance(changes, dict):
        raise ValueError("print a JSON object of route fields to change")
    types = {f.name: f.type for f in dataclasses.fields(route)}
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in types or key == "app":
            raise ValueError(f"unknown route field {key!r}")
        if key in ("ports", "redirects", "auth"):
            raise ValueError(f"route field {key!r} can be changed by Python plugins only")
        clean[key] = tuple(value) if isinstance(value, list) else value
    return dataclasses.replace(route, **clean)


def collect(hook: str, root: Path | None = None) -> list[tuple[str, Any]]:
    """(plugin, result) of a registry hook; a failing plugin is reported and skipped."""
    m = get(root)
    out = []
    for plugin, fn, argnames in _impls(m, hook):
        try:
            result = _call_python(fn, argnames, {})
        except Exception as e:
            sys.stderr.write(f" !     the {hook} hook of plugin {plugin} failed: {e}\n")
            continue
        if result:
            out.append((plugin, result))
    return out


def registry(hook: str, root: Path | None = None) -> dict[str, Any]:
    """{name: factory} of a registry hook that returns a dict (routers, schedulers); the
    first plugin to register a name keeps it (built-ins load first)."""
    found: dict[str, Any] = {}
    for _, result in collect(hook, root):
        for name, factory in dict(result).items():
            found.setdefault(name, factory)
    return found


def registered_name(hook: str, name: str, root: Path | None = None) -> str:
    """``name`` if a plugin registers it through ``hook`` (routers, schedulers), else a
    ValidationError naming the registered ones."""
    known = registry(hook, root)
    if name not in known:
        raise ValidationError(f"unknown {hook.removesuffix('s')} {name[:64]!r}: use one of "
                              f"the registered {hook}: {', '.join(sorted(known))}")
    return name


def builders(root: Path | None = None) -> list[Any]:
    return [b for _, result in collect("builders", root) for b in result]


def addon_types(root: Path | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for _, result in collect("addon_types", root):
        for t in result:
            found.setdefault(t.name, t)
    return found


def commands(root: Path | None = None, *, reserved: set[str] | frozenset[str] = frozenset()
             ) -> dict[str, Any]:
    """Commands plugins add; names berth already has (``reserved``) are skipped."""
    import click

    out: dict[str, Any] = {}
    for plugin, result in collect("cli_commands", root):
        for name, cmd in dict(result).items():
            if name in reserved or name in out:
                sys.stderr.write(f" !     plugin {plugin}: command {name!r} exists, ignored\n")
                continue
            if isinstance(cmd, click.Command):
                out[name] = cmd
    return out
