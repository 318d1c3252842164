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
from collections.abc import Iterable, Iterator
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
        return f"time {text!r} has no UTC offset; write it with one, e.g. {text}+07:00"
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


def _value(text: str) -> float | str:
    try:
        value = float(text)
    except ValueError:
        return f"value {text!r} is not a number (use a dot for decimals)"
    if not math.isfinite(value):
        return f"value {text!r} is not a finite number"
    if value < 0:
        return f"negative value {text} (a concentration is ≥ 0)"
    return value


class _Problems:
    """Problems by line; keeps the first :data:`MAX_REPORTED` and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[tuple[int, str]] = []
        self.total = 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_REPORTED:
            self.kept.append((line, message))


def parse_records(records: Iterable[tuple[int, list[str]]], problems: _Problems) -> dict[str, StationSeries]:
    """Parse (line number, CSV record) pairs, header first, into series per station."""
    rows = iter(records)
    first = next(rows, None)
    header = [name.strip() for name in first[1]] if first else []
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        shown = ",".join(header) or "(empty)"
        problems.add(
            first[0] if first else 1,
            f"header {shown!r} lacks {', '.join(missing)}; expected {','.join(COLUMNS)}",
        )
        return {}
    at = [header.index(name) for name in COLUMNS]
    width = len(header)
    series: dict[str, StationSeries] = defaultdict(lambda: defaultdict(dict))
    seen: dict[tuple[str, Hour, str], int] = {}
    times: dict[str, Hour | str] = {}  # every time string repeats for each station and pollutant
    for line, record in rows:
        if not any(cell.strip() for cell in record):
            continue  # a blank line is harmless
        if len(record) != width:
            problems.add(line, f"expected {width} fields ({','.join(header)}), got {len(record)}")
            continue
        station, time_text, pollutant, value_text = (record[i].strip() for i in at)
        hour = times.get(time_text)
        if hour is None:
            hour = times[time_text] = _parse_time(time_text)
        value = _value(value_text)
        found = []
        if not station:
            found.append("empty station")
        if isinstance(hour, str):
            found.append(hour)
        if pollutant not in POLLUTANTS:
            found.append(_pollutant_problem(pollutant))
        if isinstance(value, str):
            found.append(value)
        for message in found:
            problems.add(line, message)
        if found or isinstance(hour, str) or isinstance(value, str):
            continue
        key = (station, hour, pollutant)
        if key in seen:
            problems.add(line, f"duplicate of line {seen[key]}: {station} {pollutant} at {time_text} again")
            continue
        seen[key] = line
        series[station][pollutant][hour] = value
    return series


def _numbered(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Records with the line each starts on (a quoted field may span lines)."""
    last = 0
    for record in reader:
        yield last + 1, record
        last = reader.line_num


def read_hourly(path: Path) -> dict[str, StationSeries]:
    """The hourly means in ``path`` per station; AqiInputError lists every problem in the file.

    OSError (missing or unreadable file) is left to the caller.
    """
    problems = _Problems()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            series = parse_records(_numbered(reader), problems)
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


def station_rows(station: str, series: StationSeries, clock: _Clock) -> list[Row]:
    """The hourly rows (by hour) then daily rows (by date) of one station."""
    hours = sorted(set().union(*(values.keys() for values in series.values())))
    rows: list[Row] = []
    for hour in hours:
        window = {
            p: [values.get(hour - k) for k in range(HOURS if p in PM else 1)] for p, values in series.items()
        }
        result = hourly_aqi(window)
        if result is not None:
            rows.append(Row(station, "hourly", clock.local(hour).isoformat(), result.aqi, result.dominant))
    o3 = series.get("o3", {})
    for day in sorted({clock.local(hour).date() for hour in hours}):
        start = clock.day_start(day)
        day_hours = {p: [values.get(start + k) for k in range(24)] for p, values in series.items()}
        before = [o3.get(start - 7 + k) for k in range(7)]
        result = daily_aqi(day_hours, o3_before=before)
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
