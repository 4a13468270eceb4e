"""Saved sessions: export documents in SQLite (standard library ``sqlite3``).

A saved session is its export document (configuration, seed and command log per branch;
see ``backend/export.py``): small, exact, and independent of the model's internals.
Every write is one transaction in WAL mode with ``synchronous=FULL``, so a crash in the
middle of a save loses nothing that was saved before (SQLite either commits the whole
row or none of it).

The database lives in ``--data-dir`` or the user's data directory
(``$XDG_DATA_HOME/buddyscope``, ``~/Library/Application Support/buddyscope``,
``%APPDATA%\\buddyscope``).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DB_NAME: Final = "sessions.sqlite3"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS saved_sessions (
    name      TEXT PRIMARY KEY,
    saved_at  REAL NOT NULL,
    scenario  TEXT NOT NULL,
    steps     INTEGER NOT NULL,
    document  TEXT NOT NULL
)
"""


def user_data_dir() -> Path:
    """Where buddyscope keeps saved sessions by default."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "buddyscope"


@dataclass(frozen=True)
class SavedInfo:
    name: str
    saved_at: float
    scenario: str
    steps: int


class Store:
    """A small thread-safe wrapper around one SQLite database file."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(_SCHEMA)

    def save(self, name: str, scenario: str, steps: int, document: str) -> SavedInfo:
        """Insert or replace ``name`` in one transaction."""
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "INSERT OR REPLACE INTO saved_sessions VALUES (?, ?, ?, ?, ?)",
                    (name, now, scenario, steps, document),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return SavedInfo(name, now, scenario, steps)

    def load(self, name: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT document FROM saved_sessions WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else str(row[0])

    def list(self) -> list[SavedInfo]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT name, saved_at, scenario, steps FROM saved_sessions ORDER BY name"
            ).fetchall()
        return [SavedInfo(str(n), float(t), str(s), int(k)) for n, t, s, k in rows]

    def delete(self, name: str) -> bool:
        with self._lock:
            cur = self._conn.execute("DELETE FROM saved_sessions WHERE name = ?", (name,))
        return cur.rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()
