"""Container specs as data: pure functions from a release to docker SDK keyword arguments.
Tests compare these dicts exactly; engine.py runs them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from berth.instance import prefix
from berth.models import Limits, Mount, Release

DEFAULT_PORT = 5000
LABEL_APP = "berth.app"
LABEL_TYPE = "berth.process"
LABEL_INDEX = "berth.index"
LABEL_RELEASE = "berth.release"
LABEL_PORT = "berth.port"
LABEL_ROLE = "berth.role"
LABEL_INSTANCE = "berth.instance"
# Default capabilities an ordinary web app never needs (raw sockets, device nodes, chroot,
# file capabilities, audit). Apps that bind ports, drop to another user or chown keep working.
READ_ONLY = {"read_only": True, "tmpfs": {"/tmp": "rw,nosuid,nodev,size=64m"}}
CAP_DROP = ["AUDIT_WRITE", "MKNOD", "NET_RAW", "SETFCAP", "SETPCAP", "SYS_CHROOT"]


def network_name(app: str) -> str:
    return f"{prefix()}-{app}"


def container_name(app: str, ptype: str, index: int, *, suffix: str = "") -> str:
    name = f"{prefix()}.{app}.{ptype}.{index}"
    return f"{name}.{suffix}" if suffix else name


def port_of(release: Release) -> int:
    value = release.config.get("PORT")
    if value and value.isdigit() and 0 < int(value) < 65536:
        return int(value)
    return release.port or DEFAULT_PORT


def environment(release: Release, ptype: str, index: int) -> dict[str, str]:
    env = dict(release.config)
    env.setdefault("PORT", str(port_of(release)))
    env["DYNO"] = f"{ptype}.{index}"
    env["BERTH_APP"] = release.app
    env["BERTH_RELEASE"] = release.label
    return env


def command(release: Release, ptype: str) -> list[str] | None:
    """Procfile commands run through the container's own shell, as on Heroku; a type with no
    Procfile entry (a Dockerfile app's web) uses the image's CMD."""
    cmd = release.processes.get(ptype)
    return ["/bin/sh", "-c", cmd] if cmd else None


def labels(release: Release, ptype: str, index: int, role: str = "process") -> dict[str, str]:
    return {
        LABEL_APP: release.app,
        LABEL_TYPE: ptype,
        LABEL_INDEX: str(index),
        LABEL_RELEASE: str(release.version),
        LABEL_PORT: str(port_of(release)),
        LABEL_ROLE: role,
        LABEL_INSTANCE: prefix(),
    }


def resources(limits: Limits | None) -> dict[str, Any]:
    """Limits in docker SDK terms; only what is set (the engine's defaults otherwise)."""
    if limits is None:
        return {}
    out: dict[str, Any] = {}
    if limits.memory is not None:
        out["mem_limit"] = limits.memory
    if limits.cpu is not None:
        out["nano_cpus"] = round(limits.cpu * 1e9)
    if limits.memory_reservation is not None:
        out["mem_reservation"] = limits.memory_reservation
    if limits.cpu_reservation is not None:
        out["cpu_shares"] = max(2, round(limits.cpu_reservation * 1024))
    return out


def binds(mounts: Sequence[Mount]) -> dict[str, Any]:
    """Bind mounts as `host:container:mode` (paths are validated to hold no ':')."""
    if not mounts:
        return {}
    return {"volumes": [f"{m.host}:{m.container}:{'ro' if m.read_only else 'rw'}"
                        for m in mounts]}


def restart_policy_spec(value: str) -> dict[str, Any]:
    """'on-failure:5' -> {"Name": "on-failure", "MaximumRetryCount": 5} (validated in ps.py)."""
    name, _, count = value.partition(":")
    return {"Name": name, "MaximumRetryCount": int(count)} if count else {"Name": name}


def process_spec(release: Release, ptype: str, index: int, *, suffix: str = "",
                 restart_policy: str = "unless-stopped", limits: Limits | None = None,
                 mounts: Sequence[Mount] = (), read_only: bool = False) -> dict[str, Any]:
    assert release.image, "a release without an image cannot run"
    return {
        "image": release.image,
        "name": container_name(release.app, ptype, index, suffix=suffix),
        "command": command(release, ptype),
        "environment": environment(release, ptype, index),
        "labels": labels(release, ptype, index),
        "network": network_name(release.app),
        "hostname": f"{release.app}-{ptype}-{index}",
        "restart_policy": restart_policy_spec(restart_policy),
        "security_opt": ["no-new-privileges"],
        "cap_drop": CAP_DROP,
        "init": True,
        "log_config": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
        **resources(limits),
        **binds(mounts),
        **(READ_ONLY if read_only else {}),
    }


def oneoff_spec(release: Release, argv: list[str], *, name: str, role: str, index: int = 1,
                limits: Limits | None = None, mounts: Sequence[Mount] = (),
                interactive: bool = False, tty: bool = False,
                extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A one-off container (release phase, `run`, cron): same image, env and network, no
    restart. `role` is its process type (DYNO=role.index); interactive keeps stdin open."""
    assert release.image, "a release without an image cannot run"
    spec: dict[str, Any] = {
        "image": release.image,
        "name": name,
        "command": argv,
        "environment": environment(release, role, index),
        "labels": {**labels(release, role, index, role="oneoff"), **(extra_labels or {})},
        "network": network_name(release.app),
        "security_opt": ["no-new-privileges"],
        "init": True,
        **resources(limits),
        **binds(mounts),
    }
    if interactive:
        spec["stdin_open"] = True
    if tty:
        spec["tty"] = True
    return spec
