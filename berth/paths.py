"""Where berth keeps its state. Everything lives under one root (BERTH_ROOT)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_root() -> Path:
    env = os.environ.get("BERTH_ROOT")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/berth")
    return Path.home() / ".local" / "share" / "berth"


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / "berth.db"

    @property
    def repos(self) -> Path:
        return self.root / "repos"

    def repo(self, app: str) -> Path:
        return self.repos / f"{app}.git"

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def run(self) -> Path:
        return self.root / "run"

    def ensure(self) -> None:
        for d in (self.root, self.repos, self.builds, self.logs, self.locks, self.cache, self.run):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)


def paths() -> Paths:
    return Paths(default_root())
