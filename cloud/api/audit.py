"""The audit log: who changed what, when. Written in the same transaction as the change itself,
so a change without its audit row (or the reverse) cannot happen."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from cloud.api.state import State


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at_ns: int
    who: str
    action: str
    target: str
    detail: dict[str, object]


def record(
    db: sqlite3.Connection, who: str, action: str, target: str, detail: dict[str, object] | None = None
) -> None:
    db.execute(
        "INSERT INTO audit (at_ns, who, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (time.time_ns(), who, action, target, json.dumps(detail or {}, ensure_ascii=False)),
    )


def entries(state: State, limit: int = 100, before_seq: int | None = None) -> list[AuditEntry]:
    """Newest first; page with ``before_seq`` = the last ``seq`` seen."""
    rows = state.rows(
        "SELECT * FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?",
        (before_seq if before_seq is not None else 2**62, limit),
    )
    return [
        AuditEntry(r["seq"], r["at_ns"], r["who"], r["action"], r["target"], json.loads(r["detail"] or "{}"))
        for r in rows
    ]
