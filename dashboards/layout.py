"""The wall: one 1920×1080 screen per dashboard, dark, large text, no scrolling.

Grafana's grid is 24 columns wide; a grid row is 30 px plus an 8 px margin. In kiosk mode the page
keeps some padding, so 26 rows (26·38 − 8 = 980 px) is what fits 1080 px with room to spare; every
dashboard here uses exactly that height and full width, and :func:`check_layout` proves it.

Grafana refreshes a dashboard as a whole (there is no per-panel refresh), so "refresh suited to each
panel" is done in two parts: each panel gets the minimum interval of its kind (the resolution of
``$__interval``, so a water panel never asks for 10-second buckets of 5-minute data), and the
dashboard refreshes at the pace of its fastest panel kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable, TimePicker
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel
from grafana_foundation_sdk.models.dashboard import (
    GridPos,
    Panel,
    VariableHide,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from dashboards.i18n import Locale
from dashboards.influxql import DATASOURCE
from ioc.config import CityConfig

GRID_COLUMNS: Final = 24
WALL_ROWS: Final = 26
PX_PER_COLUMN: Final = 80  # 1920 px / 24 columns: Grafana's default maxDataPoints is the panel's width

Kind = Literal["signal", "status", "air", "flow", "weigh", "water"]
# How often the data of a kind changes: controllers every second, health every 10 s, AQI and flow
# per minute, water stations every few minutes.
REFRESH: Final[Mapping[Kind, str]] = {
    "signal": "5s",
    "status": "30s",
    "air": "1m",
    "flow": "1m",
    "weigh": "1m",
    "water": "5m",
}
MIN_INTERVAL: Final[Mapping[Kind, str]] = {
    "signal": "1s",
    "status": "10s",
    "air": "1m",
    "flow": "1m",
    "weigh": "1m",
    "water": "5m",
}
_SECONDS = {"s": 1, "m": 60, "h": 3600}

# Template expressions every query filters by: the city variable is single-valued, the site
# variable multi-valued with "All" → ".*", both as Grafana expands them into InfluxQL regexes.
CITY: Final = '"city" =~ /^$city$/'
SITE: Final = '"site" =~ /^$site$/'


def _seconds(interval: str) -> int:
    return int(interval[:-1]) * _SECONDS[interval[-1]]


@dataclass
class Wall:
    """A dashboard under construction: explicit grid positions, kinds for refresh, variables."""

    config: CityConfig
    locale: Locale
    slug: str
    title: str
    site_measurement: str
    time_from: str = "now-6h"
    _panels: list[Builder[Panel]] = field(default_factory=list)
    _kinds: set[Kind] = field(default_factory=set)

    @property
    def uid(self) -> str:
        return f"ioc-{self.config.city.id}-{self.slug}"

    def add(
        self, panel: Any, kind: Kind, x: int, y: int, w: int, h: int, interval: str | None = None
    ) -> None:
        """``interval``: a coarser minimum interval than the kind's, for panels that bucket counts."""
        panel.interval(interval or MIN_INTERVAL[kind]).datasource(DATASOURCE)
        panel.grid_pos(GridPos(h=h, w=w, x=x, y=y))
        self._panels.append(panel)
        self._kinds.add(kind)

    def refresh(self) -> str:
        return min((REFRESH[k] for k in self._kinds), key=_seconds, default="1m")

    def build(self) -> DashboardModel:
        city = self.config.city
        board = (
            Dashboard(f"{self.title} — {city.name}")
            .uid(self.uid)
            .tags(["ioc", "wall", city.id])
            .timezone(city.timezone)
            .time(self.time_from, "now")
            .refresh(self.refresh())
            .readonly()
            .timepicker(
                TimePicker().hidden(False).refresh_intervals(sorted(set(REFRESH.values()), key=_seconds))
            )
            .with_variable(city_variable(self.config, self.locale))
            .with_variable(site_variable(self.site_measurement, self.locale))
        )
        for panel in self._panels:
            board.with_panel(panel)
        return board.build()


def city_variable(config: CityConfig, locale: Locale) -> QueryVariable:
    city = config.city.id
    return (
        QueryVariable("city")
        .label(locale.t("city"))
        .datasource(DATASOURCE)
        .query('SHOW TAG VALUES FROM "gateway" WITH KEY = "city"')
        .current(VariableOption(selected=True, text=city, value=city))
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )


def site_variable(measurement: str, locale: Locale) -> QueryVariable:
    return (
        QueryVariable("site")
        .label(locale.t("site"))
        .datasource(DATASOURCE)
        .query(f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "site" WHERE {CITY}')
        .multi(True)
        .include_all(True)
        # ".*" rather than the list of values: a station added after the page loaded still shows.
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .hide(VariableHide.DONT_HIDE)
    )


@dataclass(frozen=True)
class LayoutProblem:
    dashboard: str
    panel: str
    message: str

    def __str__(self) -> str:
        return f"{self.dashboard}: panel {self.panel!r}: {self.message}"


def check_layout(dashboards: Iterable[Mapping[str, Any]]) -> list[LayoutProblem]:
    """Every panel inside 24 columns and WALL_ROWS rows, none overlapping, no hole in the grid."""
    problems: list[LayoutProblem] = []
    for board in dashboards:
        uid = str(board.get("uid"))
        taken: dict[tuple[int, int], str] = {}
        for panel in board.get("panels") or []:
            title = str(panel.get("title", "?"))
            pos = panel.get("gridPos") or {}
            x, y, w, h = (int(pos.get(k, -1)) for k in ("x", "y", "w", "h"))
            if min(x, y) < 0 or w < 1 or h < 1:
                problems.append(LayoutProblem(uid, title, f"gridPos {pos} is incomplete"))
                continue
            if x + w > GRID_COLUMNS:
                problems.append(LayoutProblem(uid, title, f"x {x} + w {w} > {GRID_COLUMNS} columns"))
            if y + h > WALL_ROWS:
                problems.append(LayoutProblem(uid, title, f"y {y} + h {h} > {WALL_ROWS} rows: it scrolls"))
            for cell in ((cx, cy) for cx in range(x, x + w) for cy in range(y, y + h)):
                if cell in taken:
                    problems.append(LayoutProblem(uid, title, f"overlaps {taken[cell]!r} at {cell}"))
                    break
                taken[cell] = title
        holes = GRID_COLUMNS * WALL_ROWS - len(taken)
        if holes:
            problems.append(LayoutProblem(uid, "-", f"{holes} grid cells of the screen stay empty"))
    return problems
