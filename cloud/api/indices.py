"""The latest air and water quality indices per site, as the indices worker wrote them to the
``aqi`` (tag kind: hourly/daily) and ``wqi`` measurements."""

from __future__ import annotations

from typing import Any

from cloud.api.models import AqiOut, WqiOut, from_ns
from cloud.influx_query import InfluxQuery, quote_literal
from ioc.measurements import dictionary

_NOT_SUB_INDICES = {"aqi", "dominant"}


def _latest(query: InfluxQuery, measurement: str, city: str, group_by: str) -> list[dict[str, Any]]:
    return query.rows(
        f'SELECT * FROM "{measurement}" WHERE "city" = {quote_literal(city)} '
        f"GROUP BY {group_by} ORDER BY time DESC LIMIT 1"
    )


def latest_aqi(query: InfluxQuery, city: str) -> list[AqiOut]:
    pollutants = [f for f in dictionary()["aqi"].fields if f not in _NOT_SUB_INDICES]
    out = []
    for row in _latest(query, "aqi", city, '"site", "kind"'):
        aqi = row.get("aqi")
        out.append(
            AqiOut(
                site=str(row.get("site") or ""),
                kind=str(row.get("kind") or ""),
                device=row.get("device") or None,
                time=from_ns(int(row["time"])),
                aqi=int(aqi) if isinstance(aqi, int | float) else None,
                dominant=row.get("dominant") if isinstance(row.get("dominant"), str) else None,
                sub_indices={p: int(v) for p in pollutants if isinstance(v := row.get(p), int | float)},
            )
        )
    return sorted(out, key=lambda a: (a.site, a.kind))


def latest_wqi(query: InfluxQuery, city: str) -> list[WqiOut]:
    out = []
    for row in _latest(query, "wqi", city, '"site"'):
        wqi = row.get("wqi")
        out.append(
            WqiOut(
                site=str(row.get("site") or ""),
                device=row.get("device") or None,
                time=from_ns(int(row["time"])),
                wqi=int(wqi) if isinstance(wqi, int | float) else None,
            )
        )
    return sorted(out, key=lambda w: w.site)
