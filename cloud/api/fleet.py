"""Fleet status from the gateways' own health points (edge/health.py): one ``gateway`` point per
agent (device="agent") and one per device, every 10 s."""

from __future__ import annotations

import time
from typing import Any

from cloud.api.models import DeviceStatus, FleetOut, GatewayStatus, from_ns
from cloud.influx_query import InfluxQuery, quote_literal
from edge.health import AGENT_DEVICE
from ioc.config import CityConfig


def _latest(query: InfluxQuery, city: str, agent: bool, by: str) -> dict[str, dict[str, Any]]:
    device = (
        f'"device" = {quote_literal(AGENT_DEVICE)}' if agent else f'"device" != {quote_literal(AGENT_DEVICE)}'
    )
    rows = query.rows(
        f'SELECT * FROM "gateway" WHERE "city" = {quote_literal(city)} AND {device} '
        f'GROUP BY "{by}" ORDER BY time DESC LIMIT 1'
    )
    return {row[by]: row for row in rows if row.get(by)}


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _completeness(produced: int | None, dropped: int | None) -> float | None:
    if not produced:
        return None
    # The two counters start at different times (dropped survives an agent restart): clamp.
    return round(min(1.0, max(0.0, 1.0 - (dropped or 0) / produced)), 6)


def fleet(
    query: InfluxQuery, config: CityConfig, online_within_s: float, now_ns: int | None = None
) -> FleetOut:
    now_ns = now_ns or time.time_ns()
    agents = _latest(query, config.city.id, agent=True, by="gateway")
    devices = _latest(query, config.city.id, agent=False, by="device")
    gateways = []
    for gw in config.gateways:
        point = agents.get(gw.id, {})
        seen = point.get("time")
        statuses = []
        for dev in gw.devices:
            d = devices.get(dev.id, {})
            produced, dropped = _int(d.get("produced")), _int(d.get("dropped"))
            statuses.append(
                DeviceStatus(
                    id=dev.id,
                    last_seen=from_ns(d["time"]) if d else None,
                    produced=produced,
                    dropped=dropped,
                    completeness=_completeness(produced, dropped),
                )
            )
        gateways.append(
            GatewayStatus(
                id=gw.id,
                site=gw.site,
                online=seen is not None and now_ns - seen <= online_within_s * 1e9,
                last_seen=from_ns(seen) if seen is not None else None,
                buffer_depth=_int(point.get("buffer_depth")),
                oldest_unsent_s=point.get("oldest_unsent_s"),
                uplink_connected=point.get("uplink_connected"),
                devices=statuses,
            )
        )
    return FleetOut(city=config.city.id, online_within_s=online_within_s, gateways=gateways)
