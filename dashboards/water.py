"""3 — Water quality: VN_WQI bands, parameters against the QCVN 08:2023 classes, and whether each
station is measuring, calibrating or in error (the station status a datalogger reports)."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from cloud.indices.wqi import WQI_BANDS
from dashboards.i18n import Locale
from dashboards.influxql import influxql
from dashboards.layout import CITY, SITE, Wall
from dashboards.limits import WATER_LIMITS
from dashboards.panels import (
    BAD,
    OK,
    WARN,
    band_mappings,
    band_steps,
    big_stat,
    coloured_column,
    hide_columns,
    legend_html,
    note,
    series,
    site_column,
    site_names,
    text_mappings,
    thresholds,
    wall_table,
)
from ioc.config import CityConfig

WHERE = f"{CITY} AND {SITE} AND $timeFilter"


def build(config: CityConfig, locale: Locale) -> Dashboard:
    t = locale.t
    wall = Wall(config, locale, "water", t("water"), site_measurement="water_quality", time_from="now-24h")
    wqi_steps = thresholds(band_steps(WQI_BANDS))

    wqi = big_stat(t("wqi_station")).thresholds(wqi_steps).mappings(band_mappings(WQI_BANDS, locale.code))
    wqi.with_target(
        influxql(f'SELECT last("wqi") FROM "wqi" WHERE {WHERE} GROUP BY "site"', alias="$tag_site")
    )
    site_names(wqi, config)
    wall.add(wqi, "water", 0, 0, 12, 6)

    # `quality` carries the station's own status (Thông tư 10/2021: 00 measuring, 01 calibrating,
    # 02 device error) next to good/uncertain/bad; see ioc/reading.py.
    status = big_stat(t("station_status")).time_from("1h")
    status.mappings(
        text_mappings(
            {
                "good": (t("good"), OK),
                "uncertain": (t("uncertain"), WARN),
                "calibrating": (t("calibrating"), "blue"),
                "maintenance": (t("maintenance"), "blue"),
                "device_error": (t("device_error"), BAD),
                "bad": (t("bad"), BAD),
            }
        )
    ).no_value("—")
    status.with_target(
        influxql(
            f'SELECT last("quality") FROM "water_quality" WHERE {WHERE} GROUP BY "site"', alias="$tag_site"
        )
    )
    site_names(status, config)
    wall.add(status, "water", 12, 0, 6, 6)
    wall.add(note(t("wqi_legend"), legend_html(WQI_BANDS, locale.code, "")), "water", 18, 0, 6, 6)

    columns = ", ".join(f'last("{lim.field}") AS "{lim.label}"' for lim in WATER_LIMITS)
    params = wall_table(t("water_limits"))
    params.with_target(
        influxql(f'SELECT {columns} FROM "water_quality" WHERE {WHERE} GROUP BY "site"', table=True)
    )
    hide_columns(params, "Time")
    for lim in WATER_LIMITS:
        coloured_column(params, lim.label, lim.steps(), f"suffix: {lim.unit}" if lim.unit else None)
    site_column(params, config, t("site"))
    wall.add(params, "water", 0, 6, 24, 10)

    trend = series(t("wqi_trend")).thresholds(wqi_steps).min(0).max(100)
    trend.with_target(
        influxql(
            f'SELECT mean("wqi") FROM "wqi" WHERE {WHERE} GROUP BY time($__interval), "site" fill(none)',
            alias="$tag_site",
        )
    )
    site_names(trend, config)
    wall.add(trend, "water", 0, 16, 12, 10)

    do_ph = series(t("do_ph_trend")).min(0)
    do_ph.with_target(
        influxql(
            'SELECT mean("dissolvedOxygen") AS "DO", mean("pH") AS "pH" FROM "water_quality" '
            f'WHERE {WHERE} GROUP BY time($__interval), "site" fill(none)',
            alias="$tag_site · $col",
        )
    )
    for label in ("DO", "pH"):
        site_names(do_ph, config, f" · {label}")
    wall.add(do_ph, "water", 12, 16, 12, 10)
    return wall.build()
