"""Local hours and days of a city: where an hourly or daily index point is stamped.

Hours are absolute (3600 s apart whatever the zone does); days are the city's local calendar days,
so a daily point sits at local midnight. Vietnam has kept +07:00 without daylight saving since 1975.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

HOUR_NS = 3_600 * 10**9
_NS = 10**9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LocalClock:
    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)

    def local(self, time_ns: int) -> datetime:
        return datetime.fromtimestamp(time_ns // _NS, self.tz)

    def hour_floor(self, time_ns: int) -> int:
        """The start of the local hour holding ``time_ns`` (differs from UTC only in :30/:45 zones)."""
        moment = self.local(time_ns).replace(minute=0, second=0, microsecond=0)
        return int(moment.timestamp()) * _NS

    def day_start(self, day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp()) * _NS

    def day_of(self, time_ns: int) -> date:
        return self.local(time_ns).date()

    def day_hours(self, day: date) -> list[int]:
        """The hour starts of a local day, midnight first."""
        start, end = self.day_start(day), self.day_start(day + timedelta(days=1))
        return list(range(start, end, HOUR_NS))

    def hours(self, start_ns: int, end_ns: int) -> list[int]:
        """Hour starts of every hour that overlaps [start_ns, end_ns)."""
        if end_ns <= start_ns:
            return []
        return list(range(self.hour_floor(start_ns), end_ns, HOUR_NS))

    def days(self, start_ns: int, end_ns: int) -> list[date]:
        """Local days that overlap [start_ns, end_ns)."""
        if end_ns <= start_ns:
            return []
        first, last = self.day_of(start_ns), self.day_of(end_ns - 1)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def chunks(clock: LocalClock, start_ns: int, end_ns: int, days: int) -> list[tuple[int, int]]:
    """[start, end) cut at local midnights every ``days`` days, so no day is split between chunks
    (except where the range itself starts or ends inside one)."""
    out: list[tuple[int, int]] = []
    cursor = start_ns
    while cursor < end_ns:
        boundary = clock.day_start(clock.day_of(cursor) + timedelta(days=days))
        out.append((cursor, min(boundary, end_ns)))
        cursor = boundary
    return out


def parse_instant(text: str, clock: LocalClock) -> int:
    """An ISO 8601 time with a UTC offset (``2026-01-15T08:00:00+07:00``, ``…Z``) or a date
    (``2026-01-15``: local midnight in the city's zone), in ns. ValueError says what is wrong."""
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        if len(value) == 10:  # only the yyyy-MM-dd form; fromisoformat also takes 20260115
            return clock.day_start(day)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time; write e.g. 2026-01-15T08:00:00+07:00 or 2026-01-15"
        ) from None
    if moment.utcoffset() is None:
        raise ValueError(
            f"{text!r} has no UTC offset; add one, e.g. {value}+07:00, or give a date alone "
            f"for local midnight in {clock.timezone}"
        )
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000
