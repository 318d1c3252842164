"""Hourly series of one site → ``aqi`` and ``wqi`` readings, with cloud/indices doing the math.

Our choices, as ``ioc aqi`` (cloud/indices/aqi_csv.py) makes them, so the CSV tool and the wall agree:
- An hourly point exists for each hour in which the site had at least one usable value of an
  index's inputs; an hour without any is an outage and gets no point, even where the NowCast's
  2-of-3 rule could still give one from the previous hours.
- A daily point exists for each local day with a daily AQI (cloud/indices needs 18 of 24 hours).
- WQI: hourly only, from the last value of each parameter in the hour; a parameter measured in
  another hour (a daily lab value) does not carry over.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from cloud.derive.clock import HOUR_NS, LocalClock
from cloud.derive.series import SiteSeries
from cloud.indices import daily_aqi, hourly_aqi, wqi
from cloud.indices.aqi import PM, POLLUTANTS, HourlyAqi
from cloud.indices.nowcast import HOURS
from cloud.indices.wqi import BY_FIELD
from ioc.reading import Reading

DERIVED_GATEWAY = "cloud"
"""The identity tags every reading carries (DESIGN.md), for points the cloud computes: gateway
"cloud", device = the index. Sites keep their own id, so the wall joins indices and readings on it."""
AQI_DEVICE = "aqi"
WQI_DEVICE = "wqi"
AQI_FIELDS: tuple[str, ...] = POLLUTANTS
WQI_FIELDS: tuple[str, ...] = (*BY_FIELD, "temperature")  # DO % saturation needs the water temperature
O3_BEFORE_HOURS = 7


def _tags(city: str, site: str, device: str, **extra: str) -> dict[str, str]:
    return {"city": city, "site": site, "gateway": DERIVED_GATEWAY, "device": device, **extra}


def _aqi_fields(result: HourlyAqi) -> dict[str, int | str]:
    return {"aqi": result.aqi, "dominant": result.dominant, **result.rounded()}


def _has_value(series: SiteSeries, hour: int) -> bool:
    return any(hour in values for values in series.values())


def hourly_aqi_window(series: SiteSeries, hour: int) -> dict[str, list[float | None]]:
    """What :func:`cloud.indices.hourly_aqi` takes for ``hour``: c1..c12 for PM (c1 = this hour),
    this hour's mean for the gases."""
    window: dict[str, list[float | None]] = {}
    for pollutant in AQI_FIELDS:
        values = series.get(pollutant, {})
        back = HOURS if pollutant in PM else 1
        window[pollutant] = [values.get(hour - k * HOUR_NS) for k in range(back)]
    return window


def daily_aqi_input(
    series: SiteSeries, clock: LocalClock, day: date
) -> tuple[dict[str, list[float | None]], list[float | None]]:
    """What :func:`cloud.indices.daily_aqi` takes for ``day``: 24 hourly means per pollutant and
    the previous day's last 7 O3 means."""
    hours = clock.day_hours(day)[:24]  # a 25-hour day exists only in zones with daylight saving
    day_hours = {p: [series.get(p, {}).get(h) for h in hours] for p in AQI_FIELDS}
    o3 = series.get("o3", {})
    before = [o3.get(hours[0] - k * HOUR_NS) for k in range(O3_BEFORE_HOURS, 0, -1)]
    return day_hours, before


def aqi_readings(
    city: str, site: str, series: SiteSeries, clock: LocalClock, hours: Iterable[int], days: Iterable[date]
) -> list[Reading]:
    """Hourly points at each hour's start and daily points at each local day's start (``kind`` tag)."""
    out: list[Reading] = []
    for hour in hours:
        if not _has_value(series, hour):
            continue
        result = hourly_aqi(hourly_aqi_window(series, hour))
        if result is not None:
            tags = _tags(city, site, AQI_DEVICE, kind="hourly")
            out.append(Reading("aqi", tags, _aqi_fields(result), hour))
    for day in days:
        day_hours, o3_before = daily_aqi_input(series, clock, day)
        daily = daily_aqi(day_hours, o3_before=o3_before)
        if daily is not None:
            tags = _tags(city, site, AQI_DEVICE, kind="daily")
            out.append(Reading("aqi", tags, _aqi_fields(daily), clock.day_start(day)))
    return out


def wqi_readings(city: str, site: str, series: SiteSeries, hours: Iterable[int]) -> list[Reading]:
    """An hourly point per hour with a WQI (at least 3 organic/nutrient parameters measured)."""
    out: list[Reading] = []
    for hour in hours:
        sample = {name: values.get(hour) for name, values in series.items()}
        result = wqi(sample) if any(v is not None for v in sample.values()) else None
        if result is not None:
            out.append(Reading("wqi", _tags(city, site, WQI_DEVICE), {"wqi": result.wqi}, hour))
    return out
