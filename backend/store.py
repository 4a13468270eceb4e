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
import hashlib
import logging
import os
import secrets
import sqlite3
import stat
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .names import normalise, skeleton

log = logging.getLogger("buddyscope.store")

DB_NAME: Final = "sessions.sqlite3"
KEY_NAME: Final = "server.key"
KEY_BYTES: Final = 32

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS saved_sessions (
    name      TEXT PRIMARY KEY,
    saved_at  REAL NOT NULL,
    scenario  TEXT NOT NULL,
    steps     INTEGER NOT NULL,
    document  TEXT NOT NULL,
    owner     TEXT,
    skeleton  TEXT
)
"""
#: Columns added after the first release: a database made before gets them (NULL owner:
#: an entry saved before owners existed, which anybody may replace or delete).
_ADDED_COLUMNS: Final = (("owner", "TEXT"), ("skeleton", "TEXT"))
#: Characters of an owner key: 24 random bytes, base64url.
OWNER_KEY_CHARS: Final = 32


def new_owner_key() -> str:
    """A new owner key (shown once, at save time; the store keeps only its digest)."""
    return secrets.token_urlsafe(24)


def owner_digest(key: str) -> str:
    """What the store keeps of an owner key: a reader of the database cannot use it."""
    return hashlib.sha256(b"buddyscope owner key\0" + key.encode()).hexdigest()


def user_data_dir() -> Path:
    """Where buddyscope keeps saved sessions by default."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "buddyscope"


def private_dir(path: Path) -> None:
    """Make ``path`` (mode 0700: saved sessions hold uploaded traces) or, when it exists
    readable by others, say so (it may be a folder the user shares on purpose)."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True)
        return
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "buddyscope: %s is open to other users (mode %o); saved sessions in it are "
            "not: chmod 700 it to hide even their names",
            path,
            stat.S_IMODE(path.stat().st_mode),
        )


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if missing; make an existing one 0600 (it is
    the server's own file: a database of saved sessions)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if extra.exists():
            extra.chmod(0o600)


class KeyExposed(RuntimeError):
    """``server.key`` can be read by other users: they could control every session."""


def server_key(data_dir: Path | None) -> bytes:
    """The server's secret key from ``data_dir/server.key``, made there (mode 0600) when
    missing; with no data directory, a new key that lasts as long as the process.

    Deleting the file makes every control token issued before invalid (the next start
    makes a new key)."""
    if data_dir is None:
        return secrets.token_bytes(KEY_BYTES)
    path = data_dir / KEY_NAME
    private_dir(data_dir)
    if not path.exists():
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
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # As ssh does with a private key: whoever reads it can make every control token.
        raise KeyExposed(
            f"{path} can be read by other users (mode {mode:o}): anyone who reads it can "
            f"control every session. Run chmod 600 {path} (or delete it to make a new key; "
            "control tokens issued before stop working)"
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise RuntimeError(
            f"{path} holds {len(key)} bytes, not a {KEY_BYTES}-byte buddyscope server key; "
            "delete it to make a new one (control tokens issued before stop working)"
        )
    return key


class NameTaken(Exception):
    """``Store.save`` without ``replace`` of a name that is saved already."""


class NameConfusable(Exception):
    """``Store.save`` of a name that looks like another saved name (``names.skeleton``);
    ``args[0]`` is that name."""


class NotOwner(Exception):
    """Replacing, deleting (or, on a shared server, opening) an entry of another owner."""


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
            private_dir(Path(self.path).parent)
            private_file(Path(self.path))
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            if self.path != ":memory:":
                # The -wal and -shm files SQLite makes take the database file's mode.
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(_SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        have = {row[1] for row in self._conn.execute("PRAGMA table_info(saved_sessions)")}
        for column, kind in _ADDED_COLUMNS:
            if column not in have:
                self._conn.execute(f"ALTER TABLE saved_sessions ADD COLUMN {column} {kind}")
        rows = self._conn.execute(
            "SELECT name FROM saved_sessions WHERE skeleton IS NULL"
        ).fetchall()
        for (name,) in rows:
            self._conn.execute(
                "UPDATE saved_sessions SET skeleton = ? WHERE name = ?", (skeleton(name), name)
            )
        self._conn.execute("CREATE INDEX IF NOT EXISTS saved_skeleton ON saved_sessions (skeleton)")

    def save(
        self,
        name: str,
        scenario: str,
        steps: int,
        document: str,
        *,
        replace: bool = False,
        owner: str | None = None,
    ) -> SavedInfo:
        """Insert ``name`` (normalised) owned by ``owner`` (a digest, ``owner_digest``;
        None: anybody's) in one transaction.  Raises ``NameConfusable`` when another
        saved name looks the same, ``NameTaken`` for a name saved already without
        ``replace``, and ``NotOwner`` for replacing an entry of another owner."""
        name = normalise(name)
        shape = skeleton(name)
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rows = self._conn.execute(
                    "SELECT name, owner FROM saved_sessions WHERE skeleton = ? OR name = ?",
                    (shape, name),
                ).fetchall()
                for other, other_owner in rows:
                    if other != name:
                        raise NameConfusable(str(other))
                    if not replace:
                        raise NameTaken(name)
                    if other_owner is not None and other_owner != owner:
                        raise NotOwner(name)
                self._conn.execute(
                    "INSERT OR REPLACE INTO saved_sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (name, now, scenario, steps, document, owner, shape),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return SavedInfo(name, now, scenario, steps)

    def load(self, name: str, owner: str | None = None, *, check_owner: bool = False) -> str | None:
        """The document saved as ``name`` (None: none).  ``check_owner``: raise
        ``NotOwner`` unless ``owner`` owns it (a shared server's rule)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT document, owner FROM saved_sessions WHERE name = ?", (normalise(name),)
            ).fetchone()
        if row is None:
            return None
        if check_owner and row[1] is not None and row[1] != owner:
            raise NotOwner(name)
        return str(row[0])

    def list(self, owner: str | None = None, *, check_owner: bool = False) -> list[SavedInfo]:
        """Every entry; ``check_owner``: only ``owner``'s (and the unowned ones)."""
        query = "SELECT name, saved_at, scenario, steps FROM saved_sessions"
        if check_owner:
            query += " WHERE owner IS NULL OR owner = ?"
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY name", (owner,) if check_owner else ())
            found = rows.fetchall()
        return [SavedInfo(str(n), float(t), str(s), int(k)) for n, t, s, k in found]

    def delete(self, name: str, owner: str | None = None) -> bool:
        """Forget ``name``; False when it is not saved.  Raises ``NotOwner`` unless
        ``owner`` owns it (or nobody does)."""
        name = normalise(name)
        with self._lock:
            row = self._conn.execute(
                "SELECT owner FROM saved_sessions WHERE name = ?", (name,)
            ).fetchone()
            if row is not None and row[0] is not None and row[0] != owner:
                raise NotOwner(name)
            cur = self._conn.execute("DELETE FROM saved_sessions WHERE name = ?", (name,))
        return cur.rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()
