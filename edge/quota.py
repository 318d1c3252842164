"""The buffer's disk quota and what gives way when it is reached.

Order of sacrifice, each step counted per device and reason in the ``drops`` table:
1. routine samples, oldest first, are merged per device, measurement, tags and minute into one
   reading of the minute's means (quality "uncertain") plus a ``downsampled`` reading per numeric
   field with its min, max, mean and count (``downsampled`` in the counters);
2. then routine rows, raw or downsampled, are dropped oldest first (``quota_routine`` counts raw
   readings, ``quota_downsampled`` summary rows);
3. only then events, weighings and faults, oldest first (``quota_critical``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass

from ioc.payload import decode_reading, encode_reading
from ioc.reading import Reading

CRITICAL, ROUTINE, DOWNSAMPLED = 0, 1, 2
CRITICAL_MEASUREMENTS = frozenset({"weighing", "alerts"})
CRITICAL_QUALITIES = frozenset({"bad", "device_error"})
CHUNK = 5000
MINUTE_NS = 60_000_000_000


@dataclass(frozen=True)
class Quota:
    max_bytes: int


def priority_of(reading: Reading) -> int:
    """Events, weighings and faults are kept before routine samples."""
    if reading.measurement in CRITICAL_MEASUREMENTS or reading.quality in CRITICAL_QUALITIES:
        return CRITICAL
    fields = reading.fields
    if fields.get("conflict") is True or fields.get("fault") not in (None, 0):
        return CRITICAL
    return ROUTINE


def used_bytes(db: sqlite3.Connection) -> int:
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    (free,) = db.execute("PRAGMA freelist_count").fetchone()
    (size,) = db.execute("PRAGMA page_size").fetchone()
    return (pages - free) * size


def _count(db: sqlite3.Connection, counts: dict[tuple[str, str], int]) -> None:
    db.executemany(
        "INSERT INTO drops VALUES (?, ?, ?)"
        " ON CONFLICT (device, reason) DO UPDATE SET count = count + excluded.count",
        [(device, reason, n) for (device, reason), n in counts.items() if n],
    )


def downsample(readings: list[Reading]) -> list[Reading]:
    """Per device, measurement, tags and minute: one reading of means plus min/max/mean/count."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...], int], list[Reading]] = defaultdict(list)
    for r in readings:
        groups[(r.measurement, tuple(sorted(r.tags.items())), r.time_ns // MINUTE_NS)].append(r)
    out: list[Reading] = []
    for (measurement, tags, minute), members in groups.items():
        time_ns = minute * MINUTE_NS
        fields: dict[str, float | int | bool | str] = {}
        for name in dict.fromkeys(k for r in members for k in r.fields):
            values = [r.fields[name] for r in members if name in r.fields]
            numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
            if len(numbers) != len(values):
                fields[name] = values[-1]  # states and flags: the minute's last value
                continue
            mean = sum(numbers) / len(numbers)
            fields[name] = mean if not all(isinstance(v, int) for v in numbers) else round(mean)
            stats = {
                "min": float(min(numbers)),
                "max": float(max(numbers)),
                "mean": float(mean),
                "count": len(numbers),
            }
            out.append(
                Reading("downsampled", dict(tags, of=measurement, field=name), stats, time_ns, "uncertain")
            )
        out.append(Reading(measurement, dict(tags), fields, time_ns, "uncertain"))
    return out


def _downsample_oldest(db: sqlite3.Connection) -> bool:
    rows = db.execute(
        "SELECT id, device, body FROM readings WHERE priority = ? ORDER BY id LIMIT ?", (ROUTINE, CHUNK)
    ).fetchall()
    if len(rows) < 2:
        return False
    readings = [decode_reading(body) for _id, _device, body in rows]
    merged = downsample(readings)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for _id, device, _body in rows:
        counts[(device, "downsampled")] += 1
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "DELETE FROM readings WHERE priority = ? AND id BETWEEN ? AND ?", (ROUTINE, rows[0][0], rows[-1][0])
    )
    db.executemany(
        "INSERT INTO readings (device, measurement, priority, time_ns, body) VALUES (?, ?, ?, ?, ?)",
        [
            (r.tags.get("device", "-"), r.measurement, DOWNSAMPLED, r.time_ns, encode_reading(r))
            for r in merged
        ],
    )
    _count(db, counts)
    db.execute("COMMIT")
    return True


DROP_REASONS = {CRITICAL: "quota_critical", ROUTINE: "quota_routine", DOWNSAMPLED: "quota_downsampled"}


def _drop_oldest(db: sqlite3.Connection, priorities: tuple[int, ...]) -> bool:
    marks = ",".join("?" * len(priorities))
    rows = db.execute(
        f"SELECT id, device, priority FROM readings WHERE priority IN ({marks}) ORDER BY id LIMIT ?",
        (*priorities, CHUNK),
    ).fetchall()
    if not rows:
        return False
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for _id, device, priority in rows:
        counts[(device, DROP_REASONS[priority])] += 1
    db.execute("BEGIN IMMEDIATE")
    db.executemany("DELETE FROM readings WHERE id = ?", [(row[0],) for row in rows])
    _count(db, counts)
    db.execute("COMMIT")
    return True


def enforce_quota(db: sqlite3.Connection, quota: Quota) -> None:
    """Bring the buffer under ``quota`` by the steps in this module's docstring."""
    steps = (
        lambda: _downsample_oldest(db),
        lambda: _drop_oldest(db, (DOWNSAMPLED, ROUTINE)),
        lambda: _drop_oldest(db, (CRITICAL,)),
    )
    for step in steps:
        while used_bytes(db) > quota.max_bytes:
            if not step():
                break
