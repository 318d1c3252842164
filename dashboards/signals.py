"""4 — Traffic signals: controllers with faults and conflicts first, then a state timeline per
intersection and signal group (``traffic_signal``, one point per signal group plus the controller's
own point with ``signal_group = "controller"``: fault bitmask, conflict, conflict_groups)."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.i18n import Locale
from dashboards.influxql import influxql
from dashboards.layout import CITY, SITE, Wall
from dashboards.panels import (
    BAD,
    IDLE,
    OK,
    WARN,
    coloured_column,
    counter,
    hide_columns,
    override,
    site_column,
    text_mappings,
    thresholds,
    timeline,
    wall_table,
)
from ioc.config import CityConfig

CONTROLLER = "\"signal_group\" = 'controller'"
WHERE = f"{CITY} AND {SITE} AND $timeFilter"
FAULT_STEPS = [(None, OK), (1, BAD)]
# firmware_bridge/ntcip/decode.py: the controller's fault bitmask.
FAULT_BITS = {
    1: "fault_conflict",
    2: "fault_inconsistent",
    4: "fault_alarm",
    8: "fault_flash",
    16: "fault_dark",
}


def build(config: CityConfig, locale: Locale) -> Dashboard:
    t = locale.t
    wall = Wall(
        config, locale, "signals", t("signals"), site_measurement="traffic_signal", time_from="now-15m"
    )
    fault_names = {"0": (t("ok"), OK), **{str(bit): (t(key), BAD) for bit, key in FAULT_BITS.items()}}
    fault_names["32"] = (t("fault_minor"), WARN)

    controllers = wall_table(t("controllers"), sort_by=t("fault"))
    controllers.with_target(
        influxql(
            'SELECT last("fault") AS "fault", last("conflict") AS "conflict", last("conflict_groups") AS '
            '"conflict_groups", last("mode") AS "mode", last("plan") AS "plan" FROM "traffic_signal" '
            f'WHERE {CONTROLLER} AND {WHERE} GROUP BY "site", "device"',
            table=True,
        )
    )
    hide_columns(controllers, "Time")
    coloured_column(controllers, "fault", FAULT_STEPS)
    override(controllers, "fault", {"displayName": t("fault"), "mappings": text_mappings(fault_names)})
    conflict_names = text_mappings({"true": (t("conflict"), BAD), "false": ("—", OK)})
    override(controllers, "conflict", {"displayName": t("conflict"), "mappings": conflict_names})
    site_column(controllers, config, t("site"))
    wall.add(controllers, "signal", 0, 0, 16, 7)

    in_fault = counter(t("in_fault"), FAULT_STEPS).with_target(
        influxql(
            f'SELECT count("fault") FROM (SELECT last("fault") AS "fault" FROM "traffic_signal" '
            f'WHERE {CONTROLLER} AND {WHERE} GROUP BY "device") WHERE "fault" > 0'
        )
    )
    wall.add(in_fault, "signal", 16, 0, 4, 7)
    conflicts = counter(t("conflicts"), FAULT_STEPS).with_target(
        influxql(
            f'SELECT count("c") FROM (SELECT last("conflict") AS "c" FROM "traffic_signal" '
            f'WHERE {CONTROLLER} AND {WHERE} GROUP BY "device") WHERE "c" = true'
        )
    )
    wall.add(conflicts, "signal", 20, 0, 4, 7)

    states = timeline(t("timeline")).thresholds(thresholds(FAULT_STEPS))
    colours = {"red": "red", "yellow": "yellow", "green": "green", "dark": IDLE, "flashing": "orange"}
    states.mappings(text_mappings({state: (t(state), colour) for state, colour in colours.items()}))
    # refId A first: Grafana draws rows in query order, so each controller's fault row leads.
    states.with_target(
        influxql(
            f'SELECT last("fault") FROM "traffic_signal" WHERE {CONTROLLER} AND {WHERE} '
            'GROUP BY time($__interval), "site" fill(previous)',
            ref_id="A",
            alias=f"$tag_site · {t('fault')}",
        )
    )
    states.with_target(
        influxql(
            f'SELECT last("state") FROM "traffic_signal" WHERE "signal_group" != \'controller\' AND {WHERE} '
            'GROUP BY time($__interval), "site", "signal_group" fill(previous)',
            ref_id="B",
            alias="$tag_site · $tag_signal_group",
        )
    )
    wall.add(states, "signal", 0, 7, 24, 19)
    return wall.build()
