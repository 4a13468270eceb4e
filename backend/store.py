"""Saved sessions: export documents in SQLite (standard library ``sqlite3``).

A saved session is its export document (configuration, seed and command log per branch;
see ``backend/export.py``): small, exact, and independent of the model's internals.
Every write is one transaction in WAL mode with ``synchronous=FULL``, so a crash in the
middle of a save loses nothing that was saved before (SQLite either commits the whole
row or none of it).

The database lives in ``--data-dir`` or the user's data directory
(``$XDG_DATA_HOME/buddyscope``, ``~/Library/Application Support/buddyscope``,
``%APPDATA%\\buddyscope``).

Next to it, ``server.key`` holds the server's secret key (32 random bytes, made once,
readable by its owner only): control tokens are HMACs of session ids under it
(``session.control_token``), so a token stays valid across a restart and a session
lost in one can be reopened under its own id by whoever holds its token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DB_NAME: Final = "sessions.sqlite3"
KEY_NAME: Final = "server.key"
KEY_BYTES: Final = 32

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


def server_key(data_dir: Path | None) -> bytes:
    """The server's secret key from ``data_dir/server.key``, made there (mode 0600) when
    missing; with no data directory, a new key that lasts as long as the process.

    Deleting the file makes every control token issued before invalid (the next start
    makes a new key)."""
    if data_dir is None:
        return secrets.token_bytes(KEY_BYTES)
    path = data_dir / KEY_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".{KEY_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
            # Atomic: of two servers starting at once, the first one's key stays.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise RuntimeError(
            f"{path} holds {len(key)} bytes, not a {KEY_BYTES}-byte buddyscope server key; "
            "delete it to make a new one (control tokens issued before stop working)"
        )
    return key


class NameTaken(Exception):
    """``Store.save`` without ``replace`` of a name that is saved already."""


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

    def save(
        self, name: str, scenario: str, steps: int, document: str, *, replace: bool = False
    ) -> SavedInfo:
        """Insert ``name`` (or replace it, with ``replace``) in one transaction; raises
        ``NameTaken`` for a name saved already when ``replace`` is false."""
        now = time.time()
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    f"{verb} INTO saved_sessions VALUES (?, ?, ?, ?, ?)",
                    (name, now, scenario, steps, document),
                )
            except sqlite3.IntegrityError:
                self._conn.execute("ROLLBACK")
                raise NameTaken(name) from None
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
