"""Recompute derived points (hourly/daily AQI, hourly WQI, the completeness ledger) for a time range.

Every point has a fixed identity (measurement, tags, the hour's or local day's start), so writing
again overwrites: recomputing is idempotent, and the service and ``ioc cloud recompute`` can both
run over the same hours. A field a new computation no longer has (a pollutant whose data was
deleted) stays from the earlier write; InfluxDB merges fields of a point, and a DELETE first would
leave the wall blank meanwhile and is not in every InfluxDB's API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from cloud.derive import ledger
from cloud.derive.clock import HOUR_NS, LocalClock, chunks
from cloud.derive.indices import AQI_FIELDS, O3_BEFORE_HOURS, WQI_FIELDS, aqi_readings, wqi_readings
from cloud.derive.series import hourly
from cloud.indices.nowcast import HOURS
from cloud.influx_query import InfluxQuery
from cloud.points import to_line
from ioc.config import CityConfig
from ioc.measurements import check_reading, dictionary
from ioc.reading import Reading

WRITE_BATCH = 5000
CHUNK_DAYS = 7
"""Days a recompute reads and writes at a time: bounds memory and shows progress on long ranges."""


class Writer(Protocol):
    """What the InfluxDB writers in cloud/influx_writer.py provide."""

    def write(self, lines: Sequence[str]) -> None: ...


@dataclass
class Result:
    """Points written, by measurement, and the hours and days covered."""

    points: dict[str, int] = field(default_factory=dict)
    hours: int = 0
    days: int = 0

    def add(self, other: Result) -> None:
        for name, count in other.points.items():
            self.points[name] = self.points.get(name, 0) + count
        self.hours += other.hours
        self.days += other.days


def _write(writer: Writer, readings: list[Reading]) -> None:
    for reading in readings:
        problem = check_reading(reading)
        # Only the dictionary names measurements and fields: a computed point that does not fit it
        # is a bug here, and InfluxDB would fix a wrong field type for good. (``completeness`` is
        # checked once its dictionary entry exists.)
        if problem and reading.measurement in dictionary():
            raise ValueError(f"computed {reading.measurement} point does not fit the dictionary: {problem}")
    lines = [to_line(r) for r in readings]
    for i in range(0, len(lines), WRITE_BATCH):
        writer.write(lines[i : i + WRITE_BATCH])


def derive(
    query: InfluxQuery,
    writer: Writer,
    config: CityConfig,
    hours: list[int],
    days: list[date],
    *,
    with_ledger: bool = True,
) -> Result:
    """Write the hourly points of ``hours`` (hour starts) and the daily points of ``days``."""
    if not hours and not days:
        return Result()
    clock = LocalClock(config.city.timezone)
    city = config.city.id
    first = min([*hours, *(clock.day_start(d) for d in days)])
    # The NowCast looks 11 hours back; a day's O3 8-h means reach 7 hours into the previous day.
    read_from = first - max(HOURS - 1, O3_BEFORE_HOURS) * HOUR_NS
    read_to = max([h + HOUR_NS for h in hours] + [clock.day_start(d + timedelta(days=1)) for d in days])
    air = hourly(
        query,
        city=city,
        timezone=clock.timezone,
        measurement="air_quality",
        fields=AQI_FIELDS,
        start_ns=read_from,
        end_ns=read_to,
        aggregate="mean",
    )
    water = hourly(
        query,
        city=city,
        timezone=clock.timezone,
        measurement="water_quality",
        fields=WQI_FIELDS,
        start_ns=read_from,
        end_ns=read_to,
        aggregate="last",
    )
    readings: list[Reading] = []
    for site in sorted(air):
        readings += aqi_readings(city, site, air[site], clock, hours, days)
    for site in sorted(water):
        readings += wqi_readings(city, site, water[site], hours)
    if with_ledger and hours:
        sites = {(g.id, d.id): config.device_site(g, d) for g, d in config.devices()}
        # A day at a time: the ledger reads every health point (one per device every 10 s).
        for i in range(0, len(hours), 24):
            since, until = hours[i], hours[min(i + 24, len(hours)) - 1] + HOUR_NS
            rows = ledger.completeness(query, city, since, until, sites=sites, timezone=clock.timezone)
            readings += [row.reading() for row in rows]
    _write(writer, readings)
    result = Result(hours=len(hours), days=len(days))
    for reading in readings:
        result.points[reading.measurement] = result.points.get(reading.measurement, 0) + 1
    return result


def recompute(
    query: InfluxQuery,
    writer: Writer,
    city_config: CityConfig,
    start_ns: int,
    end_ns: int,
    *,
    with_ledger: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Hourly points of every hour overlapping [start_ns, end_ns) and daily points of every local
    day overlapping it. ``progress(done, total)`` is called after each chunk."""
    if end_ns <= start_ns:
        raise ValueError("the end of the range must be after its start")
    clock = LocalClock(city_config.city.timezone)
    parts = chunks(clock, start_ns, end_ns, CHUNK_DAYS)
    total = Result()
    done_days: set[date] = set()
    for i, (a, b) in enumerate(parts, start=1):
        days = [d for d in clock.days(a, b) if d not in done_days]
        done_days.update(days)
        total.add(derive(query, writer, city_config, clock.hours(a, b), days, with_ledger=with_ledger))
        if progress is not None:
            progress(i, len(parts))
    return total
