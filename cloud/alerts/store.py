"""Alert states and an outbox of their changes in one SQLite file.

A change and the new state are committed together, and a change leaves the outbox only once the
required sinks (InfluxDB, MQTT) took it: a crash or an unreachable database delays notifications,
it never loses or invents one. WAL mode and a busy timeout let another process (the API)
acknowledge alerts while the service runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable

from cloud.alerts.state import ACTIVE, Instance, State, Transition

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    state TEXT NOT NULL,
    since_ns INTEGER NOT NULL,
    changed_ns INTEGER NOT NULL,
    city TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts (rule);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    dispatched INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_pending ON transitions (dispatched, id);
"""


class AlertStore:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, key: str) -> Instance | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM alerts WHERE key = ?", (key,)).fetchone()
        return _instance(row[0]) if row else None

    def instances(self, rule: str) -> dict[str, Instance]:
        """Every instance of a rule the store knows, in any state."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM alerts WHERE rule = ?", (rule,)).fetchall()
        return {i.key: i for i in (_instance(r[0]) for r in rows)}

    def active(self, rule: str | None = None, city: str | None = None) -> list[Instance]:
        """Firing and acknowledged alerts, oldest first."""
        sql = "SELECT body FROM alerts WHERE state IN (?, ?)"
        args: list[str] = list(ACTIVE)
        for column, value in (("rule", rule), ("city", city)):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(value)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY since_ns, key", args).fetchall()
        return [_instance(r[0]) for r in rows]

    def commit(
        self, upserts: Iterable[Instance], deletes: Iterable[str], transitions: Iterable[Transition]
    ) -> None:
        """New states, forgotten pending instances and the changes to publish, all or nothing."""
        upserts, deletes, transitions = list(upserts), list(deletes), list(transitions)
        if not (upserts or deletes or transitions):
            return  # most rules change nothing most of the time: no write transaction for them
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO alerts (key, rule, state, since_ns, changed_ns, city, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_row(i) for i in upserts],
            )
            self._db.executemany("DELETE FROM alerts WHERE key = ?", [(k,) for k in deletes])
            self._db.executemany(
                "INSERT INTO transitions (key, time_ns, body) VALUES (?, ?, ?)",
                [(t.key, t.time_ns, json.dumps(t.to_dict(), ensure_ascii=False)) for t in transitions],
            )

    def acknowledge(self, key: str, who: str, now_ns: int | None = None) -> Transition | None:
        """Mark a firing alert acknowledged; None if it is not firing (already acknowledged or
        resolved). KeyError for an alert the store does not know."""
        now = time.time_ns() if now_ns is None else now_ns
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")  # read and write in one go: the engine may run meanwhile
            row = self._db.execute("SELECT body FROM alerts WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise KeyError(key)
            instance = _instance(row[0])
            if instance.state != "firing":
                return None
            instance.state, instance.changed_ns, instance.acknowledged_by = "acknowledged", now, who
            transition = Transition.of(instance, "firing", now, instance.since_ns, by=who)
            self._db.execute(
                "INSERT OR REPLACE INTO alerts (key, rule, state, since_ns, changed_ns, city, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                _row(instance),
            )
            self._db.execute(
                "INSERT INTO transitions (key, time_ns, body) VALUES (?, ?, ?)",
                (key, now, json.dumps(transition.to_dict(), ensure_ascii=False)),
            )
        return transition

    def undispatched(self, limit: int = 1000) -> list[tuple[int, Transition]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body FROM transitions WHERE dispatched = 0 ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [(row[0], Transition.from_dict(json.loads(row[1]))) for row in rows]

    def mark_dispatched(self, ids: Iterable[int]) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE transitions SET dispatched = 1 WHERE id = ?", [(i,) for i in ids])

    def history(self, key: str | None = None, limit: int = 100) -> list[Transition]:
        """The latest changes, newest first (of one alert, or of all)."""
        sql, args = "SELECT body FROM transitions", []
        if key is not None:
            sql, args = sql + " WHERE key = ?", [key]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
        return [Transition.from_dict(json.loads(r[0])) for r in rows]

    def prune(self, before_ns: int) -> None:
        """Forget resolved alerts and published changes older than before_ns. Event rules rely on
        resolved rows to never fire twice for one point: keep them longer than any rule's window."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM alerts WHERE state = 'resolved' AND changed_ns < ?", (before_ns,))
            self._db.execute("DELETE FROM transitions WHERE dispatched = 1 AND time_ns < ?", (before_ns,))


def _row(i: Instance) -> tuple[str, str, State, int, int, str | None, str]:
    body = json.dumps(_body(i), ensure_ascii=False)
    return (i.key, i.rule, i.state, i.since_ns, i.changed_ns, i.tags.get("city"), body)


def _body(i: Instance) -> dict[str, object]:
    return {name: getattr(i, name) for name in Instance.__slots__}  # type: ignore[attr-defined]


def _instance(body: str) -> Instance:
    return Instance(**json.loads(body))
