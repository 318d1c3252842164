"""Alerts as the alert engine keeps them: its own SQLite store (``cloud.alerts.AlertStore``), the
file ``ioc cloud alerts --state`` writes. Acknowledging here acknowledges in that store, so the
engine publishes the change (alerts measurement, retained MQTT, Grafana, webhook) at its next round
and does not notify about the alert again.

The public key is the engine's: ``rule|city=bmt,device=pm01`` (``|event`` for event rules).
Operators see firing and acknowledged alerts, plus the ones resolved within ``RESOLVED_WITHIN_S``
among the engine's last ``RECENT_CHANGES`` changes; pending alerts (a condition not yet held for
its rule's ``for``) are the engine's business and never shown.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from pydantic import Field

from cloud.alerts.state import Instance, Transition
from cloud.alerts.store import AlertStore
from cloud.api import audit, models
from cloud.api.models import AlertState, from_ns
from cloud.api.state import State
from ioc.reading import FieldValue

NS = 1_000_000_000
RESOLVED_WITHIN_S = 24 * 3600
# The engine's history has no time or city filter: how far back the resolved ones are looked for.
RECENT_CHANGES = 2000
_ORDER: dict[str, int] = {"firing": 0, "acknowledged": 1, "resolved": 2}


class AlertOut(models.AlertOut):
    title_vi: str
    title_en: str
    since: datetime = Field(description="when this episode began firing (an event: the point's time)")
    tags: dict[str, str] = Field(description="the alert group's tags, identity tags included")
    event: str | None = Field(description="the event an event rule fired for, e.g. a weighing's hash")


class AlertsUnavailable(RuntimeError):
    pass


class AlertNotFound(LookupError):
    pass


class AlertNotFiring(ValueError):
    pass


def open_store(path: Path) -> AlertStore:
    """The engine's store; AlertsUnavailable when the file is not there (yet) or is no store.

    Never created here: an API pointed at the wrong file would otherwise serve an empty alert list
    as if all were well."""
    if not path.is_file():
        raise AlertsUnavailable(
            f"no alert state at {path}: start `ioc cloud alerts --state {path}`, or point the API's "
            "alerts_state_path at the file it writes"
        )
    try:
        return AlertStore(path)
    except sqlite3.Error as exc:
        raise AlertsUnavailable(f"cannot open the alert state {path}: {exc}") from None


def _number(value: FieldValue | None) -> float | None:
    # As the alerts measurement has it: a bool reads as 1.0/0.0, text stays in the message.
    return float(value) if isinstance(value, int | float) else None


def _out(
    source: Instance | Transition, state: AlertState, since_ns: int, changed_ns: int, by: str | None
) -> AlertOut:
    tags = source.tags
    return AlertOut(
        key=source.key,
        rule=source.rule,
        severity=source.severity or None,
        city=tags.get("city") or None,
        site=tags.get("site") or None,
        gateway=tags.get("gateway") or None,
        device=tags.get("device") or None,
        state=state,
        value=_number(source.value),
        message=source.message or None,
        changed_at=from_ns(changed_ns),
        # The engine sets changed_ns when an alert is acknowledged and not on later value updates.
        acknowledged_by=by if state == "acknowledged" else None,
        acknowledged_at=from_ns(changed_ns) if state == "acknowledged" else None,
        title_vi=source.title.get("vi", ""),
        title_en=source.title.get("en", ""),
        since=from_ns(since_ns),
        tags=dict(tags),
        event=source.event,
    )


# Alerts travel with their change time in ns: the engine spaces one round's changes 1 ns apart, finer
# than a datetime holds, and that order is the one to keep.
Dated = tuple[int, AlertOut]


def _active(store: AlertStore, city: str | None) -> list[Dated]:
    out = []
    for i in store.active(city=city):
        state: AlertState = "acknowledged" if i.state == "acknowledged" else "firing"
        out.append((i.changed_ns, _out(i, state, i.since_ns, i.changed_ns, i.acknowledged_by)))
    return out


def _resolved(
    changes: Iterable[Transition], active: set[str], city: str | None, after_ns: int
) -> list[Dated]:
    """Alerts whose latest published change is a resolve at or after after_ns. The change, not
    the store's row, is what operators saw: a resolved alert that turned pending again stays
    resolved for them until it fires."""
    seen: set[str] = set()
    out = []
    for t in changes:  # newest first: the first change of a key is its latest
        if t.key in seen:
            continue
        seen.add(t.key)
        if t.state == "resolved" and t.key not in active and t.time_ns >= after_ns and city in (None, t.city):
            out.append((t.time_ns, _out(t, "resolved", t.since_ns, t.time_ns, None)))
    return out


def list_alerts(
    store: AlertStore, city: str | None = None, status: AlertState | None = None, now_ns: int | None = None
) -> list[AlertOut]:
    """Firing first, then acknowledged, then resolved; the newest change first within each."""
    now = time.time_ns() if now_ns is None else now_ns
    active = _active(store, city)
    alerts = [(ns, a) for ns, a in active if status in (None, a.state)]
    if status in (None, "resolved"):
        keys = {a.key for _, a in active}
        alerts += _resolved(store.history(limit=RECENT_CHANGES), keys, city, now - RESOLVED_WITHIN_S * NS)
    alerts.sort(key=lambda d: (_ORDER[d[1].state], -d[0], d[1].key))
    return [a for _, a in alerts]


def acknowledge(store: AlertStore, state: State, key: str, who: str) -> AlertOut:
    """Acknowledge a firing alert in the engine's store, with its audit row in the API's state.

    The two are different SQLite files, so not one transaction: the audit row's transaction commits
    only after the store took the acknowledgement, and a refused one (404, 409) leaves no row."""
    with state.transaction() as db:
        try:
            change = store.acknowledge(key, who)
        except KeyError:
            raise AlertNotFound(f"no alert {key!r} (keys look like 'rule|city=bmt,device=pm01')") from None
        if change is None:
            raise AlertNotFiring(_why_not_firing(store, key))
        audit.record(db, who, "alert.acknowledge", key, {"rule": change.rule, "message": change.message})
    return _out(change, "acknowledged", change.since_ns, change.time_ns, change.by)


def _why_not_firing(store: AlertStore, key: str) -> str:
    instance = store.get(key)
    if instance is not None and instance.state == "acknowledged":
        at = from_ns(instance.changed_ns).isoformat(timespec="seconds")
        return f"alert {key!r} was already acknowledged by {instance.acknowledged_by} at {at}"
    state = instance.state if instance is not None else "gone"
    return f"alert {key!r} is {state}; only a firing alert can be acknowledged"
