"""Shell plugins: executable hook scripts in ROOT/plugins/NAME/hooks/HOOK.

A script runs with argv [HOOK_SCRIPT, app, values...] (an argv list, never a shell string),
its plugin directory as working directory, and BERTH_ROOT, BERTH_HOOK, BERTH_PLUGIN,
BERTH_PLUGIN_DIR in its environment. Exit 0 is success; for a pre_* hook anything else aborts
the change with the script's stderr as the message."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

#: Hooks a shell script may implement (the registry hooks need Python objects).
SHELL_HOOKS = ("post_create", "pre_build", "post_build", "pre_deploy", "post_deploy",
               "pre_delete", "post_delete", "post_config_update", "post_domains_update",
               "router_config", "env_for_app", "reconcile")
TIMEOUT = float(os.environ.get("BERTH_HOOK_TIMEOUT", "300"))
MAX_OUTPUT = 1 << 20


def scripts(plugin_dir: Path) -> dict[str, Path]:
    """hook name -> executable script of one plugin directory."""
    hooks = plugin_dir / "hooks"
    found: dict[str, Path] = {}
    if not hooks.is_dir():
        return found
    for hook in SHELL_HOOKS:
        path = hooks / hook
        if path.is_file() and os.access(path, os.X_OK):
            found[hook] = path
    return found


def word(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if is_dataclass(value) and not isinstance(value, type):
        return json.dumps(asdict(value), sort_keys=True)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def argv(script: Path, params: list[str], kwargs: dict[str, Any]) -> list[str]:
    """The script's argv: each parameter in spec order (ctx left out); a list spreads into
    one word per item."""
    out = [str(script)]
    for name in params:
        if name == "ctx":
            continue
        value = kwargs.get(name)
        if isinstance(value, (list, tuple)):
            out.extend(word(v) for v in value)
        else:
            out.append(word(value))
    return out


def run(script: Path, args: list[str], *, root: Path, hook: str,
        plugin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BERTH_ROOT": str(root), "BERTH_HOOK": hook, "BERTH_PLUGIN": plugin,
           "BERTH_PLUGIN_DIR": str(script.parent.parent)}
    try:
        proc = subprocess.run(args, cwd=script.parent.parent, env=env, capture_output=True,
                              text=True, errors="replace", timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 124, "", f"timed out after {TIMEOUT:.0f}s")
    except OSError as e:
        return subprocess.CompletedProcess(args, 126, "", f"cannot run {script.name}: {e}")
    proc.stdout = proc.stdout[:MAX_OUTPUT]
    proc.stderr = proc.stderr[:MAX_OUTPUT]
    return proc


def parse_env(text: str) -> dict[str, str]:
    """KEY=VALUE lines printed by an env_for_app script (blank lines and # comments skipped)."""
    from berth import names

    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=VALUE lines, got {line[:40]!r}")
        out[names.env_key(key.strip())] = names.env_value(key, value)
    return out
