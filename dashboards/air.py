"""2 — Air quality: hourly VN_AQI per station in the decision's colours and labels, particulate
trends, and each pollutant as a share of its QCVN 05:2023 limit."""

from __future__ import annotations

import datetime as dt

from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig
from grafana_foundation_sdk.models.common import BigValueTextMode, GraphThresholdsStyleMode
from grafana_foundation_sdk.models.dashboard import Dashboard

from cloud.indices.aqi import AQI_BANDS
from dashboards.i18n import Locale
from dashboards.influxql import influxql
from dashboards.layout import CITY, SITE, Wall
from dashboards.limits import PERCENT_OF_LIMIT, AirLimit, air_limits
from dashboards.panels import band_mappings, band_steps, bars, big_stat, legend_html, note, series, site_names
from dashboards.panels import thresholds as steps_of
from ioc.config import CityConfig

HOURLY = "\"kind\" = 'hourly'"
# Families whose devices report the gases (SO₂, NO₂, O₃, CO) that QCVN 05 limits per hour. The
# registry does not say which fields a family reports yet (a proposed DeviceFamily.fields); until
# it does, this set decides whether a city gets the 1-hour panel.
GAS_FAMILIES = frozenset({"modbus-air"})
AQI_NOW = (
    f'SELECT last("aqi") FROM "aqi" WHERE {HOURLY} AND {CITY} AND {SITE} AND $timeFilter GROUP BY "site"'
)


def _limits_query(limits: tuple[AirLimit, ...]) -> str:
    shares = ", ".join(f'100 * mean("{lim.field}") / {lim.value:g} AS "{lim.label}"' for lim in limits)
    return f'SELECT {shares} FROM "air_quality" WHERE {CITY} AND {SITE} AND $timeFilter GROUP BY "site"'


def build(config: CityConfig, locale: Locale, today: dt.date | None = None) -> Dashboard:
    t = locale.t
    on = today or dt.date.today()
    wall = Wall(config, locale, "air", t("air"), site_measurement="air_quality")
    aqi_steps = steps_of(band_steps(AQI_BANDS))

    number = big_stat(t("aqi_station")).thresholds(aqi_steps).time_from("3h")
    number.with_target(influxql(AQI_NOW, alias="$tag_site"))
    site_names(number, config)
    wall.add(number, "air", 0, 0, 9, 6)

    category = big_stat(t("aqi_band")).thresholds(aqi_steps).time_from("3h")
    category.mappings(band_mappings(AQI_BANDS, locale.code)).text_mode(BigValueTextMode.VALUE_AND_NAME)
    category.with_target(influxql(AQI_NOW, alias="$tag_site"))
    site_names(category, config)
    wall.add(category, "air", 9, 0, 9, 6)
    wall.add(note(t("aqi_legend"), legend_html(AQI_BANDS, locale.code, "")), "air", 18, 0, 6, 6)

    trend = series(t("aqi_trend")).thresholds(aqi_steps).time_from("24h").min(0)
    trend.thresholds_style(GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.AREA))
    trend.with_target(
        influxql(
            f'SELECT max("aqi") FROM "aqi" WHERE {HOURLY} AND {CITY} AND {SITE} AND $timeFilter '
            'GROUP BY time($__interval), "site" fill(none)',
            alias="$tag_site",
        )
    )
    site_names(trend, config)
    wall.add(trend, "air", 0, 6, 12, 10)

    pm = series(t("pm_trend"), "suffix: µg/m³").min(0)
    pm.with_target(
        influxql(
            'SELECT mean("pm25") AS "PM2.5", mean("pm10") AS "PM10" FROM "air_quality" '
            f'WHERE {CITY} AND {SITE} AND $timeFilter GROUP BY time($__interval), "site" fill(none)',
            alias="$tag_site · $col",
        )
    )
    for label in ("PM2.5", "PM10"):
        site_names(pm, config, f" · {label}")
    wall.add(pm, "air", 12, 6, 12, 10)

    gases = any(d.family in GAS_FAMILIES for _, d in config.devices())
    windows = (("1h", "limits_1h"), ("24h", "limits_24h")) if gases else (("24h", "limits_24h"),)
    width = 24 // len(windows)
    for x, (averaging, key) in enumerate(windows):
        limits = air_limits(averaging, on)  # type: ignore[arg-type]
        share = bars(t(key), "percent").thresholds(steps_of(PERCENT_OF_LIMIT)).min(0).max(150)
        share.time_from(averaging).with_target(influxql(_limits_query(limits), alias="$tag_site · $col"))
        share.description(", ".join(f"{lim.label} {lim.value:g} µg/Nm³" for lim in limits))
        for lim in limits:
            site_names(share, config, f" · {lim.label}")
        wall.add(share, "air", width * x, 16, width, 10)
    return wall.build()
