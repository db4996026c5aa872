"""Plain records passed between layers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class App:
    id: int
    name: str
    created_at: float
    current_release: int | None


@dataclass(frozen=True)
class Release:
    app: str
    version: int
    image: str | None
    git_sha: str | None
    config: dict[str, str]
    processes: dict[str, str]
    formation: dict[str, int]
    app_json: dict
    port: int | None
    description: str
    status: str
    created_at: float

    @property
    def label(self) -> str:
        return f"v{self.version}"


@dataclass(frozen=True)
class SSHKey:
    id: int
    user: str
    fingerprint: str
    public_key: str
    created_at: float


@dataclass(frozen=True)
class Event:
    id: int
    time: float
    actor: str
    app: str | None
    action: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Resources for one container: limits (hard caps) and reservations (soft, under
    contention). memory in bytes, cpu in CPUs (0.5 = half a core)."""

    memory: int | None = None
    cpu: float | None = None
    memory_reservation: int | None = None
    cpu_reservation: float | None = None


@dataclass(frozen=True)
class Mount:
    """A bind mount: a host directory (or file) seen inside the app's containers."""

    host: str
    container: str
    read_only: bool = False


@dataclass(frozen=True)
class RunOptions:
    """What an app's containers get beyond the release: per-type limits and mounts.
    `limits` is keyed by process type; DEFAULT_TYPE applies to every type without its own."""

    limits: dict[str, Limits] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    read_only: bool = False  # read-only root filesystem (a tmpfs on /tmp)

    def limits_for(self, ptype: str) -> Limits:
        base = self.limits.get(DEFAULT_TYPE, Limits())
        own = self.limits.get(ptype)
        if own is None:
            return base
        return Limits(
            memory=own.memory if own.memory is not None else base.memory,
            cpu=own.cpu if own.cpu is not None else base.cpu,
            memory_reservation=(own.memory_reservation if own.memory_reservation is not None
                                else base.memory_reservation),
            cpu_reservation=(own.cpu_reservation if own.cpu_reservation is not None
                             else base.cpu_reservation))


DEFAULT_TYPE = "_default"
