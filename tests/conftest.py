"""Shared fixtures: a fresh berth root per test session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("BERTH_LOCK_TEST", "1")
