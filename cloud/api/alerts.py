"""Alerts as the alert engine writes them to the ``alerts`` measurement (one point per state
change; tags rule, severity, city, site, gateway, device; fields firing, value, message), with the
operators' acknowledgements kept in the API's state.

An alert is one series: its key is its identifying tags joined with ':' (ids never contain ':'),
'-' for a tag the alert lacks. An acknowledgement holds until the alert resolves: a later firing
after a resolve needs a new one.
"""

from __future__ import annotations

import re
import time
from typing import Any

from cloud.api import audit
from cloud.api.models import AlertOut, AlertState, from_ns
from cloud.api.state import State
from cloud.influx_query import InfluxQuery, quote_literal

KEY_TAGS = ("rule", "city", "site", "gateway", "device")
# What a key's parts may hold: ids (ioc.topics.ID_PATTERN) and rule names; nothing else reaches a query.
_PART = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_GROUP_BY = ", ".join(f'"{t}"' for t in KEY_TAGS)


class AlertNotFound(LookupError):
    pass


class AlertNotFiring(ValueError):
    pass


def alert_key(tags: dict[str, Any]) -> str:
    return ":".join(str(tags.get(t) or "-") for t in KEY_TAGS)


def parse_key(key: str) -> dict[str, str] | None:
    parts = key.split(":")
    if len(parts) != len(KEY_TAGS) or parts[0] == "-" or not all(_PART.match(p) for p in parts):
        return None
    return {t: ("" if p == "-" else p) for t, p in zip(KEY_TAGS, parts, strict=True)}


def _where(filters: dict[str, str], extra: str = "") -> str:
    # An empty tag value matches the series that lack the tag, which is what '-' in a key means.
    clauses = [f'"{t}" = {quote_literal(v)}' for t, v in filters.items()]
    if extra:
        clauses.append(extra)
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def _series(query: InfluxQuery, filters: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The latest point of every alert series, and when each last resolved."""
    latest = query.rows(
        f'SELECT * FROM "alerts"{_where(filters)} GROUP BY {_GROUP_BY} ORDER BY time DESC LIMIT 1'
    )
    where_resolved = _where(filters, '"firing" = false')
    resolved = query.rows(f'SELECT last("firing") FROM "alerts"{where_resolved} GROUP BY {_GROUP_BY}')
    return latest, {alert_key(r): int(r["time"]) for r in resolved}


def _acks(state: State) -> dict[str, tuple[str, int]]:
    # SQLite returns the other columns of the row that holds the max: the latest ack per alert.
    rows = state.rows("SELECT alert_key, who, MAX(at_ns) AS at_ns FROM acks GROUP BY alert_key")
    return {r["alert_key"]: (r["who"], r["at_ns"]) for r in rows}


def _build(row: dict[str, Any], resolved_ns: int | None, ack: tuple[str, int] | None) -> AlertOut:
    firing = row.get("firing") is True
    valid_ack = ack if firing and ack and (resolved_ns is None or ack[1] > resolved_ns) else None
    status: AlertState = ("acknowledged" if valid_ack else "firing") if firing else "resolved"
    value = row.get("value")
    message = row.get("message")
    return AlertOut(
        key=alert_key(row),
        rule=str(row.get("rule") or ""),
        severity=row.get("severity") or None,
        city=row.get("city") or None,
        site=row.get("site") or None,
        gateway=row.get("gateway") or None,
        device=row.get("device") or None,
        state=status,
        value=float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None,
        message=message if isinstance(message, str) else None,
        changed_at=from_ns(int(row["time"])),
        acknowledged_by=valid_ack[0] if valid_ack else None,
        acknowledged_at=from_ns(valid_ack[1]) if valid_ack else None,
    )


def list_alerts(
    query: InfluxQuery, state: State, city: str | None = None, status: AlertState | None = None
) -> list[AlertOut]:
    latest, resolved = _series(query, {"city": city} if city else {})
    acks = _acks(state)
    alerts = [_build(r, resolved.get(alert_key(r)), acks.get(alert_key(r))) for r in latest]
    alerts = [a for a in alerts if status is None or a.state == status]
    # Firing first, then the newest change first: the order an operator works through them.
    order = {"firing": 0, "acknowledged": 1, "resolved": 2}
    return sorted(alerts, key=lambda a: (order[a.state], -a.changed_at.timestamp(), a.key))


def acknowledge(query: InfluxQuery, state: State, key: str, who: str) -> AlertOut:
    tags = parse_key(key)
    if tags is None:
        raise AlertNotFound(f"{key!r} is not an alert key ({':'.join(KEY_TAGS)}, '-' for an absent tag)")
    latest, resolved = _series(query, tags)
    if not latest:
        raise AlertNotFound(f"no alert {key!r}")
    if latest[0].get("firing") is not True:
        raise AlertNotFiring(f"alert {key!r} is not firing; only a firing alert can be acknowledged")
    now = time.time_ns()
    with state.transaction() as db:
        db.execute("INSERT INTO acks (alert_key, who, at_ns) VALUES (?, ?, ?)", (key, who, now))
        audit.record(db, who, "alert.acknowledge", key, {"message": latest[0].get("message")})
    return _build(latest[0], resolved.get(key), (who, now))
