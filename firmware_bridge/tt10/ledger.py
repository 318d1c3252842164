"""The durable record of station files already read, so none is read twice across restarts.

SQLite in WAL mode with ``synchronous=FULL``: every ``record`` is on disk when it returns, and a
power cut loses at most the file being processed (which is then read again: at-least-once).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    name BLOB NOT NULL,  -- os.fsencode(name): file names need not be valid UTF-8
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    samples INTEGER NOT NULL,
    rejects INTEGER NOT NULL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (name, sha256)
)
"""


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # The edge may call Source.run again from another thread after a failure; the lock serialises.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)

    def hashes(self, name: str) -> dict[str, str]:
        """sha256 → outcome of every recorded version of the file called ``name``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT sha256, outcome FROM files WHERE name = ?", (os.fsencode(name),)
            ).fetchall()
        return dict(rows)

    def record(self, name: str, sha256: str, size: int, outcome: str, samples: int, rejects: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (os.fsencode(name), sha256, size, outcome, samples, rejects, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM files").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
