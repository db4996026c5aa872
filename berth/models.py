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
