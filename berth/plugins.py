"""Plugins: install, enable, disable, uninstall, list, trigger (the plugin:* commands).

    install DIR       a shell plugin: DIR/hooks/HOOK scripts, copied to ROOT/plugins/NAME
    install MODULE    a Python module already installed in berth's environment, with
                      @hookimpl functions; recorded in the store and loaded from then on
    enable/disable    any plugin but the built-ins berth cannot work without
    uninstall         removes what install added (pip packages stay: `pip uninstall` them)

Python packages that declare an entry point in the group `berth.plugins` load without
install. The manager (hooks/manager.py) loads what this module records."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from berth.context import Ctx
from berth.errors import AlreadyExists, NotFound, ValidationError
from berth.hooks import manager, shell
from berth.store import events
from berth.store import plugins as store
from berth.store.db import transaction

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def plugin_name(value: str) -> str:
    if not isinstance(value, str) or len(value) > 64 or not _NAME.fullmatch(value):
        raise ValidationError(f"invalid plugin name {str(value)[:70]!r}: use a-z, 0-9, '.', "
                              "'_' and '-', starting with a letter or digit (max 64)")
    return value


def plugins_dir(ctx: Ctx) -> Path:
    return ctx.paths.root / "plugins"


def all_plugins(ctx: Ctx) -> list[manager.PluginInfo]:
    manager.reset()
    ctx.conn  # noqa: B018 - make sure the store (and its plugins table) exists
    return list(manager.get(ctx.paths.root).plugins.values())


def find(ctx: Ctx, name: str) -> manager.PluginInfo:
    for info in all_plugins(ctx):
        if info.name == name:
            return info
    raise NotFound(f"no plugin named {name!r}; see `berth plugin:list`")


# ------------------------------------------------------------------------------- install


def install(ctx: Ctx, source: str) -> manager.PluginInfo:
    path = Path(source)
    if path.is_dir():
        name = _install_dir(ctx, path)
    elif "/" in source or source.startswith("."):
        raise NotFound(f"no directory {source!r}")
    else:
        name = _install_module(ctx, source)
    manager.changed(ctx.paths.root)
    return find(ctx, name)


def check_hooks_dir(path: Path) -> list[str]:
    """The hooks a shell plugin directory implements; refuses unknown or non-executable
    files, so a typo does not go unnoticed."""
    hooks = path / "hooks"
    if not hooks.is_dir():
        raise ValidationError(f"{path} has no hooks/ directory: a shell plugin is "
                              "hooks/HOOK executables (see docs/plugins.md)")
    names = []
    for f in sorted(hooks.iterdir()):
        if f.name.startswith("."):
            continue
        if f.name not in shell.SHELL_HOOKS:
            raise ValidationError(f"hooks/{f.name[:60]} is not a hook shell plugins can "
                                  f"implement; use one of: {', '.join(shell.SHELL_HOOKS)}")
        if not f.is_file() or not os.access(f, os.X_OK):
            raise ValidationError(f"hooks/{f.name} is not an executable file (chmod +x it)")
        names.append(f.name)
    if not names:
        raise ValidationError(f"{path}/hooks is empty: add at least one hook script")
    return names


def _install_dir(ctx: Ctx, path: Path) -> str:
    name = plugin_name(path.resolve().name)
    check_hooks_dir(path)
    if name in {p.name for p in all_plugins(ctx)}:
        raise AlreadyExists(f"a plugin named {name!r} is already installed")
    dest = plugins_dir(ctx) / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{name}.installing")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(path, tmp, symlinks=False)
    with transaction(ctx.conn):
        store.put(ctx.conn, name, "shell", str(dest), True)
        events.record(ctx.conn, actor=ctx.actor, app=None, action="plugin.install",
                      details={"plugin": name, "kind": "shell"})
        tmp.rename(dest)
    return name


def _install_module(ctx: Ctx, module: str) -> str:
    if len(module) > 64 or not _MODULE.fullmatch(module):
        raise ValidationError(f"invalid plugin {module[:70]!r}: give a directory path or the "
                              "name of an installed Python module (a.b.c)")
    if importlib.util.find_spec(module.split(".")[0]) is None or \
            importlib.util.find_spec(module) is None:
        raise NotFound(f"no directory or installed Python module named {module!r}: install "
                       "the package into berth's Python environment first (its pip)")
    loaded = {p.source.split(":")[0]: p for p in all_plugins(ctx)
              if p.kind in ("builtin", "entrypoint")}
    if module in loaded:
        how = "is built in" if loaded[module].kind == "builtin" else "loads through its entry point"
        raise AlreadyExists(f"{module} {how} as plugin {loaded[module].name!r}")
    name = plugin_name(module.lower())
    hooks = implemented_hooks(importlib.import_module(module))
    if not hooks:
        raise ValidationError(f"module {module} implements no berth hooks "
                              "(decorate functions with berth.hooks.hookimpl)")
    if name in {p.name for p in all_plugins(ctx)}:
        raise AlreadyExists(f"a plugin named {name!r} is already installed")
    with transaction(ctx.conn):
        store.put(ctx.conn, name, "python", module, True)
        events.record(ctx.conn, actor=ctx.actor, app=None, action="plugin.install",
                      details={"plugin": name, "kind": "python"})
    return name


def implemented_hooks(module: object) -> list[str]:
    """The hooks a module implements; unknown hook names or arguments are refused."""
    import pluggy

    from berth.hooks import PROJECT, specs

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(specs)
    try:
        pm.register(module)
    except pluggy.PluginValidationError as e:
        raise ValidationError(f"invalid plugin: {e}") from None
    callers = pm.get_hookcallers(module) or []
    unknown = [c.name for c in callers if not c.has_spec()]
    if unknown:
        raise ValidationError(f"unknown hook(s) {', '.join(unknown)}; known hooks: "
                              + ", ".join(manager.hook_names()))
    return sorted(c.name for c in callers)


# ------------------------------------------------------------------------------- state


def set_enabled(ctx: Ctx, name: str, enabled: bool) -> manager.PluginInfo:
    info = find(ctx, name)
    required = {n for n, _, optional in manager.BUILTINS if not optional}
    if not enabled and name in required:
        raise ValidationError(f"built-in plugin {name!r} cannot be disabled: berth needs it")
    if info.kind == "env":
        raise ValidationError(f"plugin {name!r} comes from ${manager.ENV_VAR}; remove it there")
    with transaction(ctx.conn):
        store.put(ctx.conn, name, info.kind, info.source, enabled)
        events.record(ctx.conn, actor=ctx.actor, app=None,
                      action="plugin.enable" if enabled else "plugin.disable",
                      details={"plugin": name})
    manager.changed(ctx.paths.root)
    return find(ctx, name)


def uninstall(ctx: Ctx, name: str) -> None:
    info = find(ctx, name)
    if info.kind in ("builtin", "env"):
        where = "built in" if info.kind == "builtin" else f"from ${manager.ENV_VAR}"
        raise ValidationError(f"plugin {name!r} is {where}; it cannot be uninstalled "
                              "(berth plugin:disable stops it)")
    if info.kind == "entrypoint":
        raise ValidationError(f"plugin {name!r} was installed with pip: `pip uninstall` its "
                              "package, or `berth plugin:disable` it")
    with transaction(ctx.conn):
        store.delete(ctx.conn, name)
        events.record(ctx.conn, actor=ctx.actor, app=None, action="plugin.uninstall",
                      details={"plugin": name})
    if info.kind == "shell":
        shutil.rmtree(plugins_dir(ctx) / name, ignore_errors=True)
    manager.changed(ctx.paths.root)


# ------------------------------------------------------------------------------- trigger


def trigger(ctx: Ctx, hook: str, args: list[str]) -> Any:
    """Call a hook by hand with string arguments, as berth would; returns what it gave."""
    import inspect

    from berth.hooks import specs

    if hook not in manager.hook_names():
        raise ValidationError(f"unknown hook {hook!r}: choose from "
                              + ", ".join(manager.hook_names()))
    sig = inspect.signature(getattr(specs, hook))
    kwargs: dict[str, Any] = {}
    rest = list(args)
    # router_config amends the app's computed route: only APP is given
    wanted = [p for p in sig.parameters.values() if p.name not in ("ctx", "route")]
    usage = f"usage: berth plugin:trigger {hook} " + " ".join(p.name.upper() for p in wanted)
    for param in wanted:
        kind = str(param.annotation)
        if kind.startswith("list"):
            kwargs[param.name], rest = rest, []
        elif not rest:
            raise ValidationError(usage)
        elif kind == "int":
            value = rest.pop(0)
            if not value.isdigit():
                raise ValidationError(f"{param.name} must be a number; {usage}")
            kwargs[param.name] = int(value)
        else:
            kwargs[param.name] = rest.pop(0)
    if rest:
        raise ValidationError(usage)
    manager.reset()
    if hook == "env_for_app":
        return manager.env_for_app(ctx, kwargs["app"])
    if hook == "router_config":
        from berth import routing

        for route in routing.compute(ctx):  # compute() runs router_config already
            if route.app == kwargs["app"]:
                return dataclasses.asdict(route)
        raise NotFound(f"app {kwargs['app']!r} has no route (no release, or proxy disabled)")
    if hook in ("builders", "addon_types", "routers", "cli_commands"):
        return _registry(hook)
    manager.fire(ctx, hook, **kwargs)
    return None


def _registry(hook: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for plugin, result in manager.collect(hook):
        if isinstance(result, dict):
            out[plugin] = sorted(result)
        else:
            out[plugin] = [getattr(x, "name", repr(x)) for x in result]
    return out


def describe(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)

