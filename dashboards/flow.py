"""5 — Traffic flow: vehicle counts per camera, lane and direction (``traffic_flow``).

No device family produces ``traffic_flow`` yet (cameras arrive with their own issue); the panels
exist so the wall is complete the day one does, and the tests fill them with sample points.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.common import GraphDrawStyle
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.i18n import Locale
from dashboards.influxql import influxql
from dashboards.layout import CITY, SITE, Wall
from dashboards.panels import OK, WARN, bars, hide_columns, series, site_column, thresholds, wall_table
from ioc.config import CityConfig

WHERE = f"{CITY} AND {SITE} AND $timeFilter"
LANE = '"device", "lane", "direction"'
LANE_ALIAS = "$tag_device · $tag_lane · $tag_direction"


def build(config: CityConfig, locale: Locale) -> Dashboard:
    t = locale.t
    wall = Wall(config, locale, "flow", t("flow"), site_measurement="traffic_flow")
    counts = series(t("flow_counts")).draw_style(GraphDrawStyle.BARS).fill_opacity(60).min(0)
    counts.description(t("no_producer"))
    counts.with_target(
        influxql(
            f'SELECT sum("intensity") FROM "traffic_flow" WHERE {WHERE} '
            f"GROUP BY time($__interval), {LANE} fill(0)",
            alias=LANE_ALIAS,
        )
    )
    # Counts per 5 minutes read better on a wall than per-minute bars.
    wall.add(counts, "flow", 0, 0, 24, 13, interval="5m")

    totals = wall_table(t("flow_totals"), sort_by="vehicles").description(t("no_producer"))
    totals.with_target(
        influxql(
            f'SELECT sum("intensity") AS "vehicles", mean("occupancy") AS "occupancy" FROM "traffic_flow" '
            f'WHERE {WHERE} GROUP BY "site", {LANE}',
            table=True,
        )
    )
    hide_columns(totals, "Time")
    site_column(totals, config, t("site"))
    wall.add(totals, "flow", 0, 13, 12, 13)

    occupancy = bars(t("occupancy"), "percent").min(0).max(100).description(t("no_producer"))
    occupancy.thresholds(thresholds([(None, OK), (50, WARN), (80, "red")])).time_from("15m")
    occupancy.with_target(
        influxql(
            f'SELECT mean("occupancy") FROM "traffic_flow" WHERE {WHERE} GROUP BY {LANE}', alias=LANE_ALIAS
        )
    )
    wall.add(occupancy, "flow", 12, 13, 12, 13)
    return wall.build()
