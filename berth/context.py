"""What every service call needs: where state lives, who is acting, where output goes."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from berth.errors import BerthError
from berth.paths import Paths, paths
from berth.store import db


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class Ctx:
    paths: Paths = field(default_factory=paths)
    actor: str = "root"
    out: Callable[[str], None] = _print
    _conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.paths.ensure()
            except OSError as e:
                raise BerthError(f"cannot create the berth root {self.paths.root}: {e}") from None
            self._conn = db.connect(self.paths.db)
        return self._conn

    def step(self, text: str) -> None:
        """A Heroku-style step line."""
        self.out(f"-----> {text}")

    def info(self, text: str) -> None:
        self.out(f"       {text}")
