"""8 — Fleet and data: are the gateways up, is their backlog draining, are their clocks right, and
how much of what the devices produced reached the database.

``gateway`` points (edge/health.py): one per gateway with ``device = "agent"`` (buffer_depth,
oldest_unsent_s, uplink_connected, cpu_pct, rss_mb, disk_free_mb, clock_offset_s, produced and
dropped summed over its devices) and one per device (produced, dropped: counters since the agent
started). Completeness over a range is 1 − Δdropped / Δproduced, from those counters' spread.
"""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.i18n import Locale
from dashboards.influxql import influxql
from dashboards.layout import CITY, SITE, Wall
from dashboards.panels import (
    BAD,
    OK,
    WARN,
    bars,
    coloured_column,
    counter,
    override,
    series,
    text_mappings,
    thresholds,
    wall_table,
)
from ioc.config import CityConfig

AGENT = "\"device\" = 'agent'"
WHERE = f"{CITY} AND {SITE} AND $timeFilter"
# Rejected payloads whose topic could not be parsed carry city "-" (cloud/validation.py).
REJECTS = '("city" =~ /^$city$/ OR "city" = \'-\') AND $timeFilter'
UNSENT_STEPS = [(None, OK), (60, WARN), (600, BAD)]
CLOCK_STEPS = [(None, BAD), (-1, OK), (1.000001, BAD)]
COMPLETE_STEPS = [(None, BAD), (95, WARN), (99.5, OK)]


def build(config: CityConfig, locale: Locale) -> Dashboard:
    t = locale.t
    wall = Wall(config, locale, "fleet", t("fleet"), site_measurement="gateway")
    strip = [
        (
            "gateways_online",
            f'SELECT count("u") FROM (SELECT last("uplink_connected") AS "u" FROM "gateway" '
            f'WHERE {AGENT} AND {WHERE} GROUP BY "gateway") WHERE "u" = true',
            [(None, BAD), (1, WARN), (len(config.gateways), OK)],
            "none",
            "2m",
        ),
        (
            "completeness",
            'SELECT 100 * (sum("p") - sum("d")) / sum("p") FROM (SELECT spread("produced") AS "p", '
            f'spread("dropped") AS "d" FROM "gateway" WHERE {AGENT} AND {WHERE} GROUP BY "gateway")',
            COMPLETE_STEPS,
            "percent",
            "24h",
        ),
        (
            "dropped_today",
            f'SELECT sum("d") FROM (SELECT spread("dropped") AS "d" FROM "gateway" WHERE {AGENT} AND {WHERE} '
            'GROUP BY "gateway")',
            [(None, OK), (1, WARN)],
            "none",
            "now/d",
        ),
        (
            "rejects_today",
            f'SELECT sum("count") FROM "ingest_rejects" WHERE {REJECTS}',
            [(None, OK), (1, WARN)],
            "none",
            "now/d",
        ),
    ]
    for i, (key, query, steps, unit, time_from) in enumerate(strip):
        panel = counter(t(key), steps, unit).time_from(time_from).with_target(influxql(query))
        wall.add(panel, "status", 6 * i, 0, 6, 4)

    fields = ("buffer_depth", "oldest_unsent_s", "uplink_connected", "cpu_pct", "rss_mb", "disk_free_mb")
    # Camera gateways only: events no broker carried, snapshots the cloud will never get.
    fields += ("events_unpublished", "snapshots_lost")
    columns = ", ".join(f'last("{f}") AS "{f}"' for f in (*fields, "clock_offset_s"))
    gateways = wall_table(t("gateways"), sort_by="oldest_unsent_s").time_from("5m")
    gateways.with_target(
        influxql(
            f'SELECT {columns} FROM "gateway" WHERE {AGENT} AND {WHERE} GROUP BY "gateway"',
            table=True,
        )
    )
    coloured_column(gateways, "oldest_unsent_s", UNSENT_STEPS, "s")
    coloured_column(gateways, "clock_offset_s", CLOCK_STEPS, "s")
    coloured_column(gateways, "uplink_connected", [(None, OK)])
    for name in ("events_unpublished", "snapshots_lost"):
        coloured_column(gateways, name, [(None, OK), (1, WARN)])
    override(
        gateways, "uplink_connected", {"mappings": text_mappings({"true": ("✓", OK), "false": ("✗", BAD)})}
    )
    wall.add(gateways, "status", 0, 4, 24, 8)

    trends = [
        ("buffer_depth", "buffer_depth", "none", [(None, OK)]),
        ("oldest_unsent", "oldest_unsent_s", "s", UNSENT_STEPS),
        ("clock_offset", "clock_offset_s", "s", CLOCK_STEPS),
    ]
    for i, (key, field, unit, steps) in enumerate(trends):
        panel = series(t(key), unit).thresholds(thresholds(steps))
        panel.with_target(
            influxql(
                f'SELECT max("{field}") FROM "gateway" WHERE {AGENT} AND {WHERE} '
                'GROUP BY time($__interval), "gateway" fill(none)',
                alias="$tag_gateway",
            )
        )
        wall.add(panel, "status", 8 * i, 12, 8, 7)

    per_device = bars(t("completeness_device"), "percent").min(0).max(100).time_from("24h")
    per_device.thresholds(thresholds(COMPLETE_STEPS)).description(
        "100 × (Δproduced − Δdropped) / Δproduced; 0 % when a device produced nothing in 24 h."
    )
    per_device.with_target(
        influxql(
            'SELECT 100 * (spread("produced") - spread("dropped")) / spread("produced") FROM "gateway" '
            f'WHERE "device" != \'agent\' AND {WHERE} GROUP BY "device"',
            alias="$tag_device",
        )
    )
    wall.add(per_device, "status", 0, 19, 12, 7)

    rejects = wall_table(t("rejects")).time_from("24h")
    rejects.with_target(
        influxql(
            f'SELECT "reason", "gateway", "device" FROM "ingest_rejects" WHERE {REJECTS} '
            "ORDER BY time DESC LIMIT 50",
            table=True,
        )
    )
    wall.add(rejects, "status", 12, 19, 12, 7)
    return wall.build()
