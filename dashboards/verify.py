"""Run every query of a dashboard against InfluxDB the way Grafana would, without Grafana.

Grafana's server cannot be installed on these machines, so this expands each InfluxQL target as
the InfluxDB data source does before sending it — ``$timeFilter`` from the dashboard's range or
the panel's relative time (``time >= now() - 6h and time <= now()``, absolute ``…ms`` bounds for
date math such as ``now/d``), ``$__interval`` and ``$__interval_ms`` from the range, the panel's
width and its minimum interval (Grafana's ``calculateInterval`` and ``roundInterval``), and template
variables: a multi-value or include-all variable as an escaped regex alternation ``(a|b)`` (or its
custom all value), a single value as is. Written by hand because Grafana's own expander is
TypeScript inside its frontend and no Python library reproduces it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from cloud.influx_query import InfluxQuery, QueryError
from dashboards.layout import PX_PER_COLUMN

ALL: Final = "$__all"
_RELATIVE = re.compile(r"^now-(\d+)([dhms])$")
_MATH = re.compile(r"([+-])(\d+)([smhdw])|/([smhdMy])")
_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::\w+)?\]\]|\$\{(\w+)(?::[^}]+)?\}")
_UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "y": 31_536_000_000,
}
# Grafana's roundInterval (@grafana/data rangeutil): (below this many ms, use this interval).
_ROUND: Final = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000), (3500, 2000),
    (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000), (90000, 60000),
    (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000), (1500000, 1200000),
    (2700000, 1800000), (5400000, 3600000), (9000000, 7200000), (16200000, 10800000),
    (32400000, 21600000), (86400000, 43200000), (604800000, 86400000), (1814400000, 604800000),
    (3628800000, 2592000000),
)  # fmt: skip


def date_math(expr: str, round_up: bool, tz: ZoneInfo, now: dt.datetime) -> dt.datetime:
    """Grafana date math: ``now``, ``now-6h``, ``now/d`` (start of day; end of day when rounding up)."""
    if not expr.startswith("now"):
        raise ValueError(f"unsupported time {expr!r}: expected date math starting with 'now'")
    at = now.astimezone(tz)
    rest = expr[3:]
    while rest:
        match = _MATH.match(rest)
        if not match:
            raise ValueError(f"unsupported date math {expr!r} at {rest!r}")
        sign, amount, unit, rounding = match.groups()
        if rounding:
            at = _round(at, rounding, round_up)
        else:
            delta = dt.timedelta(milliseconds=int(amount) * _UNIT_MS[unit])
            at = at + delta if sign == "+" else at - delta
        rest = rest[match.end() :]
    return at


def _round(at: dt.datetime, unit: str, up: bool) -> dt.datetime:
    fields = {"s": ("microsecond",), "m": ("second", "microsecond"), "h": ("minute", "second", "microsecond")}
    if unit in fields:
        start = at.replace(**dict.fromkeys(fields[unit], 0))
        step = dt.timedelta(seconds={"s": 1, "m": 60, "h": 3600}[unit])
    else:
        start = at.replace(hour=0, minute=0, second=0, microsecond=0)
        if unit in "My":
            start = start.replace(day=1, month=1 if unit == "y" else start.month)
        step = dt.timedelta(days=1)
        if unit != "d":  # end of month or year: the day before the next one starts
            nxt = start.replace(year=start.year + 1) if unit == "y" else _next_month(start)
            step = nxt - start
    return start + step - dt.timedelta(milliseconds=1) if up else start


def _next_month(at: dt.datetime) -> dt.datetime:
    return at.replace(year=at.year + at.month // 12, month=at.month % 12 + 1)


def influx_time(expr: str, round_up: bool, tz: ZoneInfo, now: dt.datetime) -> str:
    """One bound of $timeFilter, as the InfluxDB data source's getInfluxTime writes it."""
    if expr == "now":
        return "now()"
    if match := _RELATIVE.match(expr):
        return f"now() - {match[1]}{match[2]}"
    return f"{int(date_math(expr, round_up, tz, now).timestamp() * 1000)}ms"


def panel_range(time_from: str | None, board_range: tuple[str, str]) -> tuple[str, str]:
    """A panel's relative time ("15m", "now/d") over the dashboard's range (rangeutil.describeTextRange)."""
    if not time_from:
        return board_range
    return (time_from if "now" in time_from else f"now-{time_from}", "now")


def interval_ms(text: str) -> int:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip().lstrip(">"))
    if not match:
        raise ValueError(f"unsupported interval {text!r}")
    return int(match[1]) * _UNIT_MS[match[2]]


def round_interval(ms: float) -> int:
    return next((value for below, value in _ROUND if ms < below), 31_536_000_000)


def seconds_to_hms(seconds: float) -> str:
    """Grafana's secondsToHms: the largest unit with a non-zero count (1w → "7d")."""
    rest = seconds
    for unit, size in (("y", 31_536_000), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if count := int(rest // size):
            return f"{count}{unit}"
        rest %= size
    return f"{int(seconds * 1000)}ms"


def calculate_interval(range_ms: int, resolution: int, min_interval: str | None) -> tuple[str, int]:
    ms = round_interval(range_ms / max(resolution, 1))
    if min_interval:
        ms = max(ms, interval_ms(min_interval))
    return seconds_to_hms(ms / 1000), ms


def regex_escape(value: str) -> str:
    """influxSpecialRegexEscape: a value placed inside an InfluxQL /regex/."""
    return re.sub(r"([\\^$*+?.()|\[\]{}/])", r"\\\1", value)


@dataclass(frozen=True)
class Variable:
    name: str
    query: str
    multi: bool
    include_all: bool
    all_value: str | None
    current: str | list[str]

    def format(self, selected: Sequence[str] | str, options: Sequence[str]) -> str:
        """The text Grafana puts in place of ``$name`` for this selection."""
        if selected == ALL or list(selected) == [ALL]:
            if self.all_value is not None:
                return self.all_value
            selected = list(options)
        values = [selected] if isinstance(selected, str) else list(selected)
        if not self.multi and not self.include_all:
            return values[0] if values else ""
        escaped = [regex_escape(v) for v in values]
        if len(escaped) == 1:
            return escaped[0]
        return "(" + "|".join(escaped) + ")" if escaped else ""


def variables(board: Mapping[str, Any]) -> list[Variable]:
    out = []
    for item in (board.get("templating") or {}).get("list") or []:
        if item.get("type") != "query":
            continue
        query = item.get("query")
        query = query.get("query", "") if isinstance(query, dict) else str(query or "")
        current = (item.get("current") or {}).get("value", ALL)
        out.append(
            Variable(
                item["name"], query, bool(item.get("multi")), bool(item.get("includeAll")),
                item.get("allValue"), current,
            )
        )  # fmt: skip
    return out


def interpolate(query: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match[1] or match[2] or match[3]
        if name not in values:
            raise ValueError(f"unknown template variable ${name} in {query!r}")
        return values[name]

    return _VARIABLE.sub(replace, query)


@dataclass(frozen=True)
class QueryResult:
    dashboard: str
    panel: str
    ref_id: str
    query: str  # as sent to InfluxDB
    rows: int
    error: str | None = None

    def __str__(self) -> str:
        outcome = self.error or f"{self.rows} rows"
        return f"{self.dashboard} / {self.panel} / {self.ref_id}: {outcome}\n    {self.query}"


def panels(board: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for panel in board.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []  # panels inside collapsed rows


def _is_influx(target: Mapping[str, Any], panel: Mapping[str, Any]) -> bool:
    source = target.get("datasource") or panel.get("datasource") or {}
    return source.get("type") == "influxdb" and not target.get("hide")


def check_dashboard(
    board: Mapping[str, Any],
    influx: InfluxQuery,
    selected: Mapping[str, Sequence[str] | str] | None = None,
    now: dt.datetime | None = None,
) -> list[QueryResult]:
    """Every variable query, then every panel target, expanded and run. ``selected`` overrides a
    variable's saved current value (a list of values, one value, or ALL)."""
    now = now or dt.datetime.now(dt.UTC)
    zone = str(board.get("timezone") or "utc")
    tz = ZoneInfo("UTC" if zone in ("browser", "utc") else zone)  # the wall's browser: assume UTC
    time = board.get("time") or {"from": "now-6h", "to": "now"}
    board_range = (time["from"], time["to"])
    uid = str(board.get("uid"))
    values: dict[str, str] = {"timeFilter": _time_filter(board_range, tz, now)}
    results: list[QueryResult] = []
    for var in variables(board):
        try:
            query = interpolate(var.query, values)
        except ValueError as exc:  # a variable used before it is defined
            results.append(QueryResult(uid, f"variable ${var.name}", "-", var.query, 0, str(exc)))
            continue
        options, error = variable_values(influx, query)
        results.append(QueryResult(uid, f"variable ${var.name}", "-", query, len(options), error))
        choice = (selected or {}).get(var.name, var.current)
        values[var.name] = var.format(choice, options)
    for panel in panels(board):
        rng = panel_range(panel.get("timeFrom"), board_range)
        span = int(
            (date_math(rng[1], True, tz, now) - date_math(rng[0], False, tz, now)).total_seconds() * 1000
        )
        resolution = int(
            panel.get("maxDataPoints") or (panel.get("gridPos") or {}).get("w", 24) * PX_PER_COLUMN
        )
        interval, ms = calculate_interval(span, resolution, panel.get("interval"))
        scoped = dict(
            values, timeFilter=_time_filter(rng, tz, now), __interval=interval, __interval_ms=str(ms)
        )
        for target in panel.get("targets") or []:
            if not _is_influx(target, panel):
                continue
            query = str(target.get("query", ""))
            try:
                query = interpolate(query, scoped)
                rows, error = len(influx.rows(query)), None
            except (QueryError, ValueError) as exc:
                rows, error = 0, str(exc)
            results.append(
                QueryResult(uid, str(panel.get("title")), str(target.get("refId")), query, rows, error)
            )
    return results


def _time_filter(rng: tuple[str, str], tz: ZoneInfo, now: dt.datetime) -> str:
    return f"time >= {influx_time(rng[0], False, tz, now)} and time <= {influx_time(rng[1], True, tz, now)}"


def variable_values(influx: InfluxQuery, query: str) -> tuple[list[str], str | None]:
    """The options a query variable offers (SHOW TAG VALUES → the ``value`` column), or the error."""
    try:
        rows = influx.rows(query)
    except QueryError as exc:
        return [], str(exc)
    return sorted({str(row["value"]) for row in rows if "value" in row}), None
