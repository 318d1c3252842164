"""The logic of ``ioc aqi``: a CSV of hourly means in, a CSV of hourly and daily VN_AQI out.

Input: header ``station,time,pollutant,value`` (columns in any order; extra columns ignored), one
row per station, hour and pollutant. ``time`` is the hour's start in ISO 8601 with a UTC offset
(``2026-01-15T08:00:00+07:00``, ``…Z``); ``pollutant`` is pm25, pm10, o3, co, so2 or no2; ``value``
is the hourly mean in µg/m³. Every problem in the file (unknown pollutant, bad or offset-less
time, a time that is not an hour's start, bad or negative value, duplicate station + time +
pollutant — the same instant however its offset is written) is collected and reported at once
as ``FILE:LINE: problem``.

Output: ``station,kind,time,aqi,dominant``, sorted by station, then kind with ``hourly`` rows
before ``daily`` rows (the hours a day is built from read first), then time. Hourly ``time`` is
the hour's start in Asia/Ho_Chi_Minh (+07:00); daily ``time`` is the local date.

Our choices, beyond :mod:`cloud.indices.aqi`'s:
- An hourly row is written for each hour in which the station reported at least one value. An
  hour absent from the file is taken as an outage, so no row, even where NowCast's 2-of-3 rule
  could still give a value from the two previous hours.
- A daily row is written for each local day (hours starting 00:00–23:00) with at least one value
  and a daily AQI. Vietnam has kept +07:00 without daylight saving since 1975, so a day is 24 h.
"""

from __future__ import annotations

import csv
import difflib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from cloud.indices.aqi import PM, POLLUTANTS, daily_aqi, hourly_aqi
from cloud.indices.nowcast import HOURS

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COLUMNS = ("station", "time", "pollutant", "value")
OUTPUT_COLUMNS = ("station", "kind", "time", "aqi", "dominant")
MAX_REPORTED = 200
"""Problems listed before the rest are only counted: a wrong file should not flood the terminal."""

Hour = int
"""Hours since 1970-01-01T00:00Z: the index of an hour's start."""
StationSeries = dict[str, dict[Hour, float]]
"""pollutant → hour → hourly mean (µg/m³)."""


class AqiInputError(Exception):
    """Every problem found in an input file, each with its line number."""

    def __init__(self, path: Path, problems: list[tuple[int, str]], total: int | None = None) -> None:
        self.path = path
        self.problems = problems
        self.total = total if total is not None else len(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.path}:{line}: {message}" for line, message in self.problems]
        if self.total > len(self.problems):
            lines.append(f"{self.path}: … and {self.total - len(self.problems)} more problems")
        return "\n".join(lines)


@dataclass(frozen=True)
class Row:
    """One output line."""

    station: str
    kind: str
    time: str
    aqi: int
    dominant: str


def _parse_time(text: str) -> Hour | str:
    """The hour index, or the problem with ``text``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return f"unparsable time {text!r}; expected ISO 8601 such as 2026-01-15T08:00:00+07:00"
    if moment.utcoffset() is None:
        return (
            f"time {text!r} has no UTC offset; add one, e.g. 2026-01-15T08:00:00+07:00 for 08:00 in Vietnam"
        )
    seconds = moment.timestamp()
    if seconds % 3600:
        return f"time {text!r} is not the start of an hour (rows are hourly means)"
    return int(seconds // 3600)


def _pollutant_problem(text: str) -> str:
    squashed = "".join(ch for ch in text.lower() if ch.isalnum())
    guess = (
        squashed
        if squashed in POLLUTANTS
        else next(iter(difflib.get_close_matches(squashed, POLLUTANTS, 1)), None)
    )
    hint = f"; did you mean {guess!r}?" if guess else f"; expected one of {', '.join(POLLUTANTS)}"
    return f"unknown pollutant {text!r}{hint}"


def _value_problem(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return f"value {text!r} is not a number (use a dot for decimals)"
    if not math.isfinite(value):
        return f"value {text!r} is not a finite number"
    return f"negative value {text} (a concentration is ≥ 0)"


class _Problems:
    """Problems by line; keeps the first :data:`MAX_REPORTED` and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[tuple[int, str]] = []
        self.total = 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_REPORTED:
            self.kept.append((line, message))


def parse_records(reader: Any, problems: _Problems) -> dict[str, StationSeries]:
    """Parse a :func:`csv.reader` (header first) into series per station; problems go to ``problems``.

    A year of 20 stations is a million rows, hence the plain loop and the cached time parsing.
    """
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        shown = ",".join(header) or "(empty)"
        problems.add(1, f"header {shown!r} lacks {', '.join(missing)}; expected {','.join(COLUMNS)}")
        return {}
    at = [header.index(name) for name in COLUMNS]
    width = len(header)
    series: dict[str, StationSeries] = defaultdict(lambda: defaultdict(dict))
    first_line: dict[tuple[str, Hour, str], int] = {}
    times: dict[str, Hour | str] = {}  # every time string repeats for each station and pollutant
    known = frozenset(POLLUTANTS)
    inf = math.inf
    last = reader.line_num
    for record in reader:
        line, last = last + 1, reader.line_num  # the line a record starts on; quoted fields may span lines
        if len(record) != width:
            if record and any(cell.strip() for cell in record):
                problems.add(line, f"expected {width} fields ({','.join(header)}), got {len(record)}")
            continue  # blank lines are harmless
        station, time_text, pollutant, value_text = (record[i].strip() for i in at)
        hour = times.get(time_text)
        if hour is None:
            hour = times[time_text] = _parse_time(time_text)
        try:
            value = float(value_text)
        except ValueError:
            value = -1.0
        if station and type(hour) is int and pollutant in known and 0 <= value < inf:
            bucket = series[station][pollutant]
            key = (station, hour, pollutant)
            if hour in bucket:
                problems.add(
                    line,
                    f"duplicate of line {first_line[key]}: {station} {pollutant} for the hour {time_text}",
                )
            else:
                bucket[hour] = value
                first_line[key] = line
            continue
        if not any(cell.strip() for cell in record):
            continue
        if not station:
            problems.add(line, "empty station")
        if isinstance(hour, str):
            problems.add(line, hour)
        if pollutant not in known:
            problems.add(line, _pollutant_problem(pollutant))
        if not 0 <= value < inf:
            problems.add(line, _value_problem(value_text))
    return series


def read_hourly(path: Path) -> dict[str, StationSeries]:
    """The hourly means in ``path`` per station; AqiInputError lists every problem in the file.

    OSError (missing or unreadable file) is left to the caller.
    """
    problems = _Problems()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        series: dict[str, StationSeries] = {}
        try:
            series = parse_records(reader, problems)
        except UnicodeDecodeError as exc:
            problems.add(reader.line_num + 1, f"not UTF-8 text ({exc.reason}); save the file as UTF-8")
        except csv.Error as exc:
            problems.add(reader.line_num, f"malformed CSV: {exc}")
    if problems.total:
        raise AqiInputError(path, problems.kept, problems.total)
    return series


class _Clock:
    """Local dates and hour labels, cached: every station shares the same few thousand hours."""

    def __init__(self) -> None:
        self._local: dict[Hour, datetime] = {}

    def local(self, hour: Hour) -> datetime:
        moment = self._local.get(hour)
        if moment is None:
            moment = self._local[hour] = datetime.fromtimestamp(hour * 3600, TZ)
        return moment

    @staticmethod
    def day_start(day: date) -> Hour:
        return int(datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp() // 3600)


_PAD = 31
"""None-padding on both sides of a dense series, so every window slice stays in range."""


def station_rows(station: str, series: StationSeries, clock: _Clock) -> list[Row]:
    """The hourly rows (by hour) then daily rows (by date) of one station."""
    hours = sorted(set().union(*(values.keys() for values in series.values())))
    if not hours:
        return []
    # Dense per-pollutant lists make each window one slice instead of a dozen dict look-ups.
    origin = hours[0] - _PAD
    size = hours[-1] - origin + 1 + _PAD
    dense: dict[str, list[float | None]] = {}
    for pollutant, values in series.items():
        column: list[float | None] = [None] * size
        for hour, value in values.items():
            column[hour - origin] = value
        dense[pollutant] = column
    rows: list[Row] = []
    for hour in hours:
        at = hour - origin
        window = {p: col[at : at - HOURS : -1] if p in PM else col[at : at + 1] for p, col in dense.items()}
        result = hourly_aqi(window)
        if result is not None:
            rows.append(Row(station, "hourly", clock.local(hour).isoformat(), result.aqi, result.dominant))
    o3 = dense.get("o3", [None] * size)
    for day in sorted({clock.local(hour).date() for hour in hours}):
        at = clock.day_start(day) - origin
        day_hours = {p: col[at : at + 24] for p, col in dense.items()}
        result = daily_aqi(day_hours, o3_before=o3[at - 7 : at])
        if result is not None:
            rows.append(Row(station, "daily", day.isoformat(), result.aqi, result.dominant))
    return rows


def compute(stations: dict[str, StationSeries]) -> list[Row]:
    """Every output row, in output order."""
    clock = _Clock()
    return [row for station in sorted(stations) for row in station_rows(station, stations[station], clock)]


def write_rows(rows: Iterable[Row], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    writer.writerows((r.station, r.kind, r.time, r.aqi, r.dominant) for r in rows)
