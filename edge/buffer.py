"""Durable store-and-forward buffer: SQLite in WAL mode, group commits, lanes for live and backlog.

Readings wait in memory for at most one commit interval (default 250 ms); each group commit is
fsynced (``synchronous=FULL``), so a crash or power cut loses at most that group. A reading leaves
the buffer only when the uplink confirms it (``ack``). SQLite because it is on every gateway OS,
survives power loss by design, and needs no server (Telegraf's and ThingsBoard's file buffers
neither fsync nor bound themselves: see anchors.md).

Sending runs in two lanes so that after an outage the live data is not stuck behind the backlog:
the *live* lane holds what was committed since the uplink last (re)connected, the *backlog* lane
everything older; the uplink drains the backlog at a bounded rate. Each lane hands out contiguous
id ranges in order, so a batch is ``(lane, first_id, last_id)`` and its ack is one range delete.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edge.quota import Quota, enforce_quota, priority_of
from ioc.payload import encode_reading
from ioc.reading import Reading

Lane = Literal["live", "backlog"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    measurement TEXT NOT NULL,
    priority INTEGER NOT NULL,      -- 0: events, weighings, faults; 1: routine samples
    time_ns INTEGER NOT NULL,
    body BLOB NOT NULL              -- the reading exactly as it goes into a payload
);
CREATE INDEX IF NOT EXISTS readings_priority ON readings (priority, id);
CREATE TABLE IF NOT EXISTS drops (
    device TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (device, reason)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
SEQ_BLOCK = 1000  # sequence numbers are reserved in blocks: one write per thousand batches


@dataclass(frozen=True, slots=True)
class Batch:
    lane: Lane
    first_id: int
    last_id: int
    seq: int
    items: list[bytes]


class DurableBuffer:
    def __init__(
        self,
        path: Path,
        commit_interval_s: float = 0.25,
        quota: Quota | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.commit_interval_s = commit_interval_s
        self.quota = quota
        self.on_commit = on_commit  # the uplink wakes up to send the new group at once
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()  # one connection, used by the committer, uplink and acks
        self._pending: list[tuple[str, str, int, int, bytes]] = []
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._committer = threading.Thread(target=self._commit_loop, name="buffer-commit", daemon=True)
        self._seq, self._seq_reserved = self._load_seq()
        self.committed = 0
        self.restart_lanes()

    # --- writing -------------------------------------------------------------------------
    def put(self, reading: Reading) -> None:
        row = (
            reading.tags.get("device", "-"),
            reading.measurement,
            priority_of(reading),
            reading.time_ns,
            encode_reading(reading),
        )
        with self._pending_lock:
            self._pending.append(row)

    def commit(self) -> int:
        """Write the pending group in one fsynced transaction; returns how many readings."""
        with self._pending_lock:
            rows, self._pending = self._pending, []
        if not rows:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO readings (device, measurement, priority, time_ns, body) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute("COMMIT")
            self.committed += len(rows)
            if self.quota is not None:
                enforce_quota(self._db, self.quota)
        if self.on_commit:
            self.on_commit()
        return len(rows)

    def _commit_loop(self) -> None:
        while not self._stop.wait(self.commit_interval_s):
            self.commit()

    def start(self) -> DurableBuffer:
        self._committer.start()
        return self

    def close(self) -> None:
        """Commit what is pending and close; nothing in memory is lost on a clean stop."""
        self._stop.set()
        if self._committer.is_alive():
            self._committer.join(timeout=5)
        self.commit()
        with self._lock:
            self._db.close()

    # --- sending -------------------------------------------------------------------------
    def restart_lanes(self) -> None:
        """After the uplink (re)connects: unconfirmed batches are forgotten and will be sent again
        (duplicates are harmless: a point's identity is fixed), and what is stored now becomes the
        backlog."""
        with self._lock:
            (max_id,) = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM readings").fetchone()
            self._live_start = max_id + 1
            self._cursor = {"live": max_id, "backlog": 0}

    def take(self, lane: Lane, limit: int) -> Batch | None:
        """The next batch of up to ``limit`` readings from ``lane``, or None when it is empty."""
        with self._lock:
            if lane == "live":
                query = "SELECT id, body FROM readings WHERE id > ? ORDER BY id LIMIT ?"
                rows = self._db.execute(query, (self._cursor["live"], limit)).fetchall()
            else:
                query = "SELECT id, body FROM readings WHERE id > ? AND id < ? ORDER BY id LIMIT ?"
                rows = self._db.execute(query, (self._cursor["backlog"], self._live_start, limit)).fetchall()
            if not rows:
                return None
            self._cursor[lane] = rows[-1][0]
            return Batch(lane, rows[0][0], rows[-1][0], self._next_seq(), [body for _id, body in rows])

    def ack(self, batch: Batch) -> None:
        """The uplink confirmed ``batch``: its readings leave the buffer."""
        with self._lock:
            if batch.lane == "live":
                self._db.execute(
                    "DELETE FROM readings WHERE id BETWEEN ? AND ?", (batch.first_id, batch.last_id)
                )
            else:
                # A backlog batch never crosses into the live lane's ids.
                self._db.execute(
                    "DELETE FROM readings WHERE id BETWEEN ? AND ? AND id < ?",
                    (batch.first_id, batch.last_id, self._live_start),
                )

    def _load_seq(self) -> tuple[int, int]:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        # Start past the last reserved block: numbers handed out before a crash are never reused.
        start = row[0] if row else 0
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (start + SEQ_BLOCK,))
        return start, start + SEQ_BLOCK

    def _next_seq(self) -> int:
        self._seq += 1
        if self._seq >= self._seq_reserved:
            self._seq_reserved += SEQ_BLOCK
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (self._seq_reserved,))
        return self._seq

    # --- what the wall and the technician see ---------------------------------------------
    def depth(self) -> int:
        with self._pending_lock:
            pending = len(self._pending)
        with self._lock:
            (stored,) = self._db.execute("SELECT COUNT(*) FROM readings").fetchone()
        return stored + pending

    def oldest_unsent_age_s(self, now_ns: int | None = None) -> float:
        with self._lock:
            (oldest,) = self._db.execute("SELECT MIN(time_ns) FROM readings").fetchone()
        if oldest is None:
            return 0.0
        return max(0.0, ((now_ns or time.time_ns()) - oldest) / 1e9)

    def drops(self) -> Counter[tuple[str, str]]:
        """(device, reason) → readings the quota policy dropped or merged."""
        with self._lock:
            rows = self._db.execute("SELECT device, reason, count FROM drops").fetchall()
        return Counter({(device, reason): count for device, reason, count in rows})
