"""Where berth keeps its state. Everything lives under one root (BERTH_ROOT)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from berth import rootdir


def default_root() -> Path:
    return Path(rootdir.default_root())


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / rootdir.DB_NAME

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
