"""6 — Weigh stations: today's weighings, overload rate and the worst overloads (``weighing``: one
point per vehicle with gross_kg, permitted_kg, overload, overload_pct)."""

from __future__ import annotations

from grafana_foundation_sdk.models.common import GraphDrawStyle
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.i18n import Locale
from dashboards.influxql import influxql
from dashboards.layout import CITY, SITE, Wall
from dashboards.panels import (
    BAD,
    OK,
    WARN,
    coloured_column,
    counter,
    hide_columns,
    override,
    series,
    site_column,
    site_names,
    thresholds,
    wall_table,
)
from ioc.config import CityConfig

WHERE = f"{CITY} AND {SITE} AND $timeFilter"
RATE_STEPS = [(None, OK), (5, WARN), (20, BAD)]
# 1 per overloaded weighing, 0 otherwise: overload_pct is > 0 exactly when overload is true and at
# most 100000 (the dictionary's range), so ceil(pct / 100000) is the indicator InfluxQL cannot
# otherwise make of a boolean.
OVERLOADED = f'SELECT ceil("overload_pct" / 100000) AS "o" FROM "weighing" WHERE {WHERE}'


def build(config: CityConfig, locale: Locale) -> Dashboard:
    t = locale.t
    wall = Wall(config, locale, "weigh", t("weigh"), site_measurement="weighing", time_from="now-24h")
    today = [
        ("weighings_today", f'SELECT count("gross_kg") FROM "weighing" WHERE {WHERE}', [(None, OK)], "none"),
        (
            "overloaded_today",
            f'SELECT count("gross_kg") FROM "weighing" WHERE "overload" = true AND {WHERE}',
            [(None, OK), (1, WARN)],
            "none",
        ),
        ("overload_rate", f'SELECT 100 * mean("o") FROM ({OVERLOADED})', RATE_STEPS, "percent"),
        ("heaviest", f'SELECT max("gross_kg") FROM "weighing" WHERE {WHERE}', [(None, OK)], "masskg"),
    ]
    for i, (key, query, steps, unit) in enumerate(today):
        panel = counter(t(key), steps, unit).time_from("now/d").with_target(influxql(query))
        wall.add(panel, "weigh", 6 * i, 0, 6, 5)

    rate = series(t("overload_rate_trend"), "percent").thresholds(thresholds(RATE_STEPS)).min(0).max(100)
    rate.with_target(
        influxql(
            f'SELECT 100 * mean("o") FROM ({OVERLOADED}) WHERE $timeFilter '
            'GROUP BY time($__interval), "site" fill(none)',
            alias="$tag_site",
        )
    )
    site_names(rate, config)
    wall.add(rate, "weigh", 0, 5, 12, 10, interval="1h")

    count = series(t("weighings_per_interval")).draw_style(GraphDrawStyle.BARS).fill_opacity(60).min(0)
    count.with_target(
        influxql(
            f'SELECT count("gross_kg") FROM "weighing" WHERE {WHERE} '
            'GROUP BY time($__interval), "site" fill(0)',
            alias="$tag_site",
        )
    )
    site_names(count, config)
    wall.add(count, "weigh", 12, 5, 12, 10, interval="1h")

    worst = wall_table(t("worst"), sort_by="overload_pct").time_from("now/d")
    worst.with_target(
        influxql(
            'SELECT top("overload_pct", 20) AS "overload_pct", "gross_kg", "permitted_kg", "device", '
            f'"sequence" FROM "weighing" WHERE "overload" = true AND {WHERE} GROUP BY "site"',
            table=True,
        )
    )
    coloured_column(worst, "overload_pct", [(None, WARN), (20, BAD)], "percent")
    for column in ("gross_kg", "permitted_kg"):
        override(worst, column, {"unit": "masskg"})
    hide_columns(worst, "sequence")
    site_column(worst, config, t("site"))
    wall.add(worst, "weigh", 0, 15, 24, 11)
    return wall.build()
