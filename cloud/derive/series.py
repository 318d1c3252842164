"""Hourly series per site, read from InfluxDB: what the indices are computed from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from cloud.influx_query import InfluxQuery, quote_ident, quote_literal

SiteSeries = dict[str, dict[int, float]]
"""field → hour start (ns) → the hour's value."""

USABLE_QUALITY = ("good", "uncertain")
"""Readings an index may use: a station calibrating or in error reports values that are not air or
water (Thông tư 10/2021 status 01/02), and "bad" values are known wrong. "uncertain" stays in: it
marks a clock step or a downsampled minute mean, values that are still measurements."""


def hourly(
    query: InfluxQuery,
    *,
    city: str,
    timezone: str,
    measurement: str,
    fields: Sequence[str],
    start_ns: int,
    end_ns: int,
    aggregate: Literal["mean", "last"],
) -> dict[str, SiteSeries]:
    """site → field → hour → ``aggregate`` of the hour's usable readings from any device at the site.

    Hours are grouped in the city's zone (``tz()``), so a half-hour zone still gets local hours.
    """
    columns = ", ".join(f"{aggregate}({quote_ident(f)}) AS {quote_ident(f)}" for f in fields)
    usable = " OR ".join(f"quality = {quote_literal(q)}" for q in USABLE_QUALITY)
    q = (
        f"SELECT {columns} FROM {quote_ident(measurement)}"
        f" WHERE city = {quote_literal(city)} AND ({usable})"
        f" AND time >= {int(start_ns)} AND time < {int(end_ns)}"
        f' GROUP BY time(1h), "site" fill(none) tz({quote_literal(timezone)})'
    )
    out: dict[str, SiteSeries] = defaultdict(lambda: defaultdict(dict))
    for row in query.rows(q):
        site = row.get("site") or ""
        for name in fields:
            value = row.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[site][name][int(row["time"])] = float(value)
    return {site: dict(series) for site, series in out.items() if site}
