"""The completeness ledger: per device and hour, readings the edge produced against points stored.

Produced: the per-device ``gateway`` points of edge/health.py carry cumulative ``produced`` and
``dropped`` counters (every health interval, 10 s by default); ``produced`` counts from 0 again
when the agent or the device's runner restarts, ``dropped`` lives in the edge buffer and survives
restarts. See cloud/derive/counters.py for how they become hourly amounts.
Stored: the points in InfluxDB with that gateway and device tag in that hour, over every device
measurement (each point has a ``quality`` field, so ``count(quality)`` counts points).

A ratio below 1 says readings were lost between the device runner and InfluxDB, or are still on
their way (a gateway's backlog after an outage fills the hours in as it drains); ``dropped`` says
how many of them the edge's disk quota dropped on purpose. Readings the quota merged into minute
means are stored as one point per minute, so they lower the ratio too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from cloud.derive.clock import HOUR_NS, LocalClock
from cloud.derive.counters import Sample, hourly_increase
from cloud.influx_query import InfluxQuery, quote_ident, quote_literal
from edge.health import AGENT_DEVICE
from ioc.measurements import dictionary
from ioc.reading import Reading

MEASUREMENT = "completeness"
NOT_DEVICE_DATA = frozenset({"gateway", "aqi", "wqi", "alerts", "downsampled", "ingest_rejects", MEASUREMENT})
"""Dictionary measurements that are not a device's readings (agent health, derived, summaries)."""
LOOKBACK_NS = HOUR_NS
"""How far before the range a counter sample is looked for as the baseline."""
LOOKAHEAD_NS = HOUR_NS
"""How far after the range: the increase up to the next sample is spread back over the last hour."""

Key = tuple[str, str]
"""(gateway, device)."""


@dataclass(frozen=True)
class Row:
    city: str
    site: str
    gateway: str
    device: str
    time_ns: int
    """The hour's start."""
    produced: int
    stored: int
    dropped: int
    ratio: float | None
    """stored / produced; None when nothing was produced (the field is then left out)."""

    def reading(self) -> Reading:
        tags = {"city": self.city, "site": self.site, "gateway": self.gateway, "device": self.device}
        fields: dict[str, int | float] = {"produced": self.produced, "stored": self.stored}
        fields["dropped"] = self.dropped
        if self.ratio is not None:
            fields["ratio"] = self.ratio
        return Reading(MEASUREMENT, tags, fields, self.time_ns)


def device_measurements() -> list[str]:
    return sorted(name for name in dictionary() if name not in NOT_DEVICE_DATA)


def _counters(
    query: InfluxQuery, city: str, start_ns: int, end_ns: int
) -> tuple[dict[Key, list[Sample]], dict[Key, list[Sample]], dict[Key, str]]:
    q = (
        "SELECT produced, dropped FROM gateway"
        f" WHERE city = {quote_literal(city)} AND device != {quote_literal(AGENT_DEVICE)}"
        f" AND time >= {start_ns - LOOKBACK_NS} AND time < {end_ns + LOOKAHEAD_NS}"
        ' GROUP BY "gateway", "device", "site"'
    )
    produced: dict[Key, list[Sample]] = defaultdict(list)
    dropped: dict[Key, list[Sample]] = defaultdict(list)
    sites: dict[Key, str] = {}
    for row in query.rows(q):
        key = (row.get("gateway") or "", row.get("device") or "")
        sites[key] = row.get("site") or ""
        for name, samples in (("produced", produced), ("dropped", dropped)):
            value = row.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                samples[key].append((int(row["time"]), float(value)))
    for samples in (*produced.values(), *dropped.values()):
        samples.sort()  # one series per site tag: a gateway moved to another site has two
    return produced, dropped, sites


def _stored(
    query: InfluxQuery, city: str, start_ns: int, end_ns: int, timezone: str
) -> tuple[dict[Key, dict[int, int]], dict[Key, str]]:
    sources = ", ".join(quote_ident(m) for m in device_measurements())
    q = (
        f"SELECT count(quality) AS n FROM {sources}"
        f" WHERE city = {quote_literal(city)} AND time >= {start_ns} AND time < {end_ns}"
        f' GROUP BY time(1h), "gateway", "device", "site" fill(none) tz({quote_literal(timezone)})'
    )
    stored: dict[Key, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    sites: dict[Key, str] = {}
    for row in query.rows(q):
        key = (row.get("gateway") or "", row.get("device") or "")
        stored[key][int(row["time"])] += int(row.get("n") or 0)
        sites[key] = row.get("site") or sites.get(key, "")
    return stored, sites


def completeness(
    query: InfluxQuery,
    city: str,
    start_ns: int,
    end_ns: int,
    *,
    sites: Mapping[Key, str] | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> list[Row]:
    """The ledger of every device of ``city`` for every hour overlapping [start_ns, end_ns) in
    which it produced, stored or dropped anything; sorted by gateway, device, hour.

    ``sites``: (gateway, device) → the device's site from the city config; without it the site
    comes from the device's stored readings, else from its gateway's health points.
    """
    clock = LocalClock(timezone)
    hours = clock.hours(start_ns, end_ns)
    if not hours:
        return []
    first, stop = hours[0], hours[-1] + HOUR_NS
    produced, dropped, health_sites = _counters(query, city, first, stop)
    stored, stored_sites = _stored(query, city, first, stop, timezone)
    wanted = set(hours)
    rows: list[Row] = []
    for key in sorted(set(produced) | set(dropped) | set(stored)):
        if not all(key):
            continue  # a point without gateway or device tag cannot be placed in the ledger
        made = hourly_increase(produced.get(key, []), clock, window_start_ns=first, counts_first=True)
        lost = hourly_increase(dropped.get(key, []), clock, window_start_ns=first, counts_first=False)
        kept = stored.get(key, {})
        site = (sites or {}).get(key) or stored_sites.get(key) or health_sites.get(key, "")
        for hour in sorted(wanted & (set(made) | set(lost) | set(kept))):
            p, s, d = made.get(hour, 0), kept.get(hour, 0), lost.get(hour, 0)
            if p or s or d:
                rows.append(Row(city, site, key[0], key[1], hour, p, s, d, s / p if p else None))
    return rows
