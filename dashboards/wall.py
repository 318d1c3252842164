"""The city's wall: the eight dashboards in rotation order, and their JSON."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards import air, cameras, fleet, flow, overview, signals, water, weigh
from dashboards.i18n import Locale
from dashboards.influxql import register
from ioc.config import CityConfig

# The wall's rotation order (the playlist follows it).
ORDER = ("overview", "air", "water", "signals", "flow", "weigh", "cameras", "fleet")


def build_all(config: CityConfig, locale: str = "vi", today: dt.date | None = None) -> list[Dashboard]:
    """The eight dashboards in wall order. ``today`` picks the QCVN limits in force (default: now)."""
    lang = Locale(locale)
    register()
    return [
        overview.build(config, lang),
        air.build(config, lang, today),
        water.build(config, lang),
        signals.build(config, lang),
        flow.build(config, lang),
        weigh.build(config, lang),
        cameras.build(config, lang),
        fleet.build(config, lang),
    ]


def to_json(dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana stores it (plain JSON types)."""
    return json.loads(JSONEncoder(sort_keys=True).encode(dashboard))


def from_json(data: dict[str, Any]) -> Dashboard:
    """Back to the SDK model, InfluxQL targets included (round-trip check, editing saved JSON)."""
    register()
    return Dashboard.from_json(data)
