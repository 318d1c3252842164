"""7 — Cameras: a health grid of every camera with its state (``camera_health``, the stats every
camera publishes, standards.md §6). No camera family produces it yet; the grid fills when one does.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.common import BigValueTextMode
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.i18n import Locale
from dashboards.influxql import influxql
from dashboards.layout import CITY, SITE, Wall
from dashboards.panels import BAD, OK, WARN, big_stat, counter, hide_columns, text_mappings, wall_table
from ioc.config import CityConfig

WHERE = f"{CITY} AND {SITE} AND $timeFilter"
# Camera states (standards.md §6) → label key, colour.
STATES = {
    "ok": ("cam_ok", OK),
    "frozen": ("cam_frozen", WARN),
    "black": ("cam_black", WARN),
    "overexposed": ("cam_overexposed", WARN),
    "defocused": ("cam_defocused", WARN),
    "moved": ("cam_moved", WARN),
    "stalled": ("cam_stalled", BAD),
    "offline": ("cam_offline", BAD),
}


def _online(value: str) -> str:
    return (
        f'SELECT count("ok") FROM (SELECT last("online") AS "ok" FROM "camera_health" WHERE {WHERE} '
        f'GROUP BY "device") WHERE "ok" = {value}'
    )


def build(config: CityConfig, locale: Locale) -> Dashboard:
    t = locale.t
    wall = Wall(
        config, locale, "cameras", t("cameras"), site_measurement="camera_health", time_from="now-15m"
    )
    online = counter(t("cameras_online"), [(None, WARN), (1, OK)]).with_target(influxql(_online("true")))
    wall.add(online.description(t("no_producer")), "status", 0, 0, 8, 4)
    offline = counter(t("cameras_offline"), [(None, OK), (1, BAD)]).with_target(influxql(_online("false")))
    wall.add(offline, "status", 8, 0, 8, 4)
    reconnects = counter(t("reconnects"), [(None, OK), (1, WARN)]).time_from("24h")
    reconnects.with_target(
        influxql(
            f'SELECT sum("r") FROM (SELECT spread("reconnects") AS "r" FROM "camera_health" WHERE {WHERE} '
            'GROUP BY "device")'
        )
    )
    wall.add(reconnects, "status", 16, 0, 8, 4)

    grid = big_stat(t("camera_grid")).text_mode(BigValueTextMode.VALUE_AND_NAME).no_value("—")
    grid.mappings(text_mappings({state: (t(key), colour) for state, (key, colour) in STATES.items()}))
    grid.with_target(
        influxql(
            f'SELECT last("state") FROM "camera_health" WHERE {WHERE} GROUP BY "device"', alias="$tag_device"
        )
    )
    wall.add(grid.description(t("no_producer")), "status", 0, 4, 16, 22)

    fps = wall_table(t("camera_fps"), sort_by="reconnects")
    fps.with_target(
        influxql(
            'SELECT last("camera_fps") AS "camera_fps", last("process_fps") AS "process_fps", '
            'last("skipped_fps") AS "skipped_fps", last("reconnects") AS "reconnects" '
            f'FROM "camera_health" WHERE {WHERE} GROUP BY "device"',
            table=True,
        )
    )
    hide_columns(fps, "Time")
    wall.add(fps, "status", 16, 4, 8, 22)
    return wall.build()
