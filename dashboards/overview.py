"""1 — City overview: every site on a map coloured by its state, and the counters an operator
checks first."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import geomap, stat
from grafana_foundation_sdk.builders.common import FrameGeometrySource, MapLayerOptions
from grafana_foundation_sdk.models.common import BigValueTextMode, FrameGeometrySourceMode
from grafana_foundation_sdk.models.dashboard import Dashboard
from grafana_foundation_sdk.models.geomap import TooltipMode

from cloud.indices.aqi import AQI_BANDS
from cloud.indices.wqi import WQI_BANDS
from cloud.influx_query import quote_literal
from dashboards.i18n import Locale
from dashboards.influxql import influxql
from dashboards.layout import CITY, SITE, Wall
from dashboards.panels import (
    BAD,
    OK,
    WARN,
    Step,
    band_steps,
    bars,
    counter,
    override,
    site_column,
    site_names,
    thresholds,
    wall_table,
)
from ioc.config import CityConfig, Site

CONTROLLER = "\"signal_group\" = 'controller'"

# What colours a site on the map, by kind: (measurement, extra condition, field, selector, steps).
# The query adds the site's coordinates as constant columns (`last(x) * 0 + lat`): InfluxDB has no
# coordinates and Geomap's markers layer needs them in the same frame.
_MAP_STATE: dict[str, tuple[str, str, str, str, list[Step]]] = {
    "air": ("aqi", "\"kind\" = 'hourly'", "aqi", "last", band_steps(AQI_BANDS)),
    "water": ("wqi", "", "wqi", "last", band_steps(WQI_BANDS)),
    "traffic": ("traffic_signal", CONTROLLER, "fault", "last", [(None, OK), (1, BAD)]),
    "weigh": ("weighing", "", "overload_pct", "max", [(None, OK), (0.000001, WARN), (20, BAD)]),
    "camera": ("camera_health", "", "camera_fps", "last", [(None, BAD), (1, OK)]),
    "mixed": (
        "gateway",
        "\"device\" = 'agent'",
        "oldest_unsent_s",
        "last",
        [(None, OK), (60, WARN), (600, BAD)],
    ),
}


def site_state_query(site: Site) -> str:
    measurement, extra, field, selector, _ = _MAP_STATE[site.kind]
    value = f'{selector}("{field}")'
    where = " AND ".join(
        filter(None, [extra, CITY, SITE, f'"site" = {quote_literal(site.id)}', "$timeFilter"])
    )
    return (
        f'SELECT {value} AS "{field}", {value} * 0 + {site.lat} AS "lat", {value} * 0 + {site.lon} AS "lon" '
        f'FROM "{measurement}" WHERE {where}'
    )


def _marker_layer(site: Site) -> MapLayerOptions:
    field = _MAP_STATE[site.kind][2]
    return (
        MapLayerOptions()
        .type("markers")
        .name(site.name)
        .config(
            {
                "showLegend": False,
                "style": {
                    "color": {"field": field, "fixed": "grey"},
                    "size": {"fixed": 16},
                    "opacity": 0.9,
                    "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
                    "text": {"mode": "fixed", "fixed": site.name},
                    "textConfig": {"fontSize": 16, "offsetY": -24},
                },
            }
        )
        .location(FrameGeometrySource().mode(FrameGeometrySourceMode.COORDS).latitude("lat").longitude("lon"))
        # One query per site (refId = site id): the markers layer draws only its first frame.
        .filter_data({"id": "byRefId", "options": site.id})
        .tooltip(True)
    )


def site_map(config: CityConfig, locale: Locale) -> geomap.Panel:
    sites: Sequence[Site] = config.sites
    panel = (
        geomap.Panel()
        .title(locale.t("map"))
        .view(
            geomap.MapViewConfig()
            .id("fit")
            .all_layers(True)
            .lat(sum(s.lat for s in sites) / len(sites))  # type: ignore[arg-type]
            .lon(sum(s.lon for s in sites) / len(sites))  # type: ignore[arg-type]
            .zoom(13)
            .max_zoom(16)
            .padding(10)
        )
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(False).show_attribution(True))
        .tooltip(geomap.TooltipOptions().mode(TooltipMode.DETAILS))
        .layers([_marker_layer(site) for site in sites])
    )
    for site in sites:
        panel.with_target(influxql(site_state_query(site), ref_id=site.id, table=True))
    for kind, (_, _, field, _, steps) in _MAP_STATE.items():
        if any(s.kind == kind for s in sites):
            override(panel, field, {"thresholds": thresholds(steps).build(), "color": {"mode": "thresholds"}})
    return panel


def stations_online(config: CityConfig, locale: Locale) -> stat.Panel:
    """Air and water stations with a reading in the last 15 minutes, each kind against the number
    the config has (InfluxQL keeps one series per measurement, so the panel shows both)."""
    panel = counter(locale.t("stations_online"), [(None, BAD)]).time_from("15m")
    panel.text_mode(BigValueTextMode.VALUE_AND_NAME)
    panel.with_target(
        influxql(
            f'SELECT count("q") FROM (SELECT last("quality") AS "q" FROM "air_quality", "water_quality" '
            f'WHERE {CITY} AND {SITE} AND $timeFilter GROUP BY "site")',
            alias="$measurement",
        )
    )
    for measurement, kind in (("air_quality", "air"), ("water_quality", "water")):
        configured = sum(1 for s in config.sites if s.kind == kind)
        steps = thresholds([(None, BAD), (1, WARN), (max(configured, 1), OK)]).build()
        override(panel, measurement, {"displayName": locale.t(kind), "thresholds": steps})
    return panel


def build(config: CityConfig, locale: Locale) -> Dashboard:
    t = locale.t
    wall = Wall(config, locale, "overview", t("overview"), site_measurement="gateway")
    counters = [
        # (label key, query, steps, unit, panel time range)
        (
            "cameras_healthy",
            f'SELECT count("ok") FROM (SELECT last("online") AS "ok" FROM "camera_health" '
            f'WHERE {CITY} AND {SITE} AND $timeFilter GROUP BY "device") WHERE "ok" = true',
            [(None, WARN), (1, OK)],
            "none",
            "15m",
        ),
        (
            "signals_in_fault",
            f'SELECT count("fault") FROM (SELECT last("fault") AS "fault" FROM "traffic_signal" '
            f'WHERE {CONTROLLER} AND {CITY} AND {SITE} AND $timeFilter GROUP BY "device") WHERE "fault" > 0',
            [(None, OK), (1, BAD)],
            "none",
            "15m",
        ),
        (
            "overloaded_today",
            f'SELECT count("gross_kg") FROM "weighing" WHERE "overload" = true AND {CITY} AND {SITE} '
            "AND $timeFilter",
            [(None, OK), (1, WARN)],
            "none",
            "now/d",
        ),
        (
            "completeness",
            'SELECT 100 * (sum("p") - sum("d")) / sum("p") FROM (SELECT spread("produced") AS "p", '
            f'spread("dropped") AS "d" FROM "gateway" WHERE "device" = \'agent\' AND {CITY} AND {SITE} '
            'AND $timeFilter GROUP BY "gateway")',
            [(None, BAD), (95, WARN), (99.5, OK)],
            "percent",
            "24h",
        ),
        (
            "firing_alerts",
            f'SELECT count("firing") FROM (SELECT last("firing") AS "firing" FROM "alerts" '
            f'WHERE {CITY} AND {SITE} AND $timeFilter GROUP BY "rule", "site", "device") '
            'WHERE "firing" = true',
            [(None, OK), (1, BAD)],
            "none",
            "24h",
        ),
    ]
    wall.add(stations_online(config, locale), "status", 0, 0, 4, 4)
    for i, (key, query, steps, unit, time_from) in enumerate(counters, start=1):
        panel = counter(t(key), steps, unit).time_from(time_from).with_target(influxql(query))
        wall.add(panel, "status", 4 * i, 0, 4, 4)
    wall.add(site_map(config, locale), "status", 0, 4, 16, 22)

    aqi = bars(t("aqi_now")).thresholds(thresholds(band_steps(AQI_BANDS))).min(0).max(300)
    aqi.with_target(
        influxql(
            f'SELECT last("aqi") FROM "aqi" WHERE "kind" = \'hourly\' AND {CITY} AND {SITE} AND $timeFilter '
            'GROUP BY "site"',
            alias="$tag_site",
        )
    )
    site_names(aqi, config)
    wall.add(aqi, "air", 16, 4, 8, 11)

    alerts = wall_table(t("alerts_recent"))
    alerts.time_from("24h").with_target(
        influxql(
            f'SELECT "firing", "message", "rule", "severity", "site" FROM "alerts" WHERE {CITY} AND {SITE} '
            "AND $timeFilter ORDER BY time DESC LIMIT 20",
            table=True,
        )
    )
    site_column(alerts, config, t("site"))
    wall.add(alerts, "status", 16, 15, 8, 11)
    return wall.build()
