"""The datetime spellings station files use, read as local time in the station's zone."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime

# yyyy-MM-dd, yyyy/MM/dd, and the Vietnamese dd/MM/yyyy, dd-MM-yyyy.
DATE = re.compile(
    r"(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})|(?P<d2>\d{1,2})[-/](?P<m2>\d{1,2})[-/](?P<y2>\d{4})"
)
TIME = re.compile(r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?")  # yyyyMMddHHmm[ss]
_ISO = re.compile(r"(?P<date>[^T]+)T(?P<time>.+)")
EARLIEST_YEAR = 2000  # a datalogger whose clock was never set writes 1970 or 2000-01-01
EXPECTED = "yyyyMMddHHmmss or yyyy-MM-dd HH:mm:ss"


def looks_like_datetime(token: str) -> bool:
    """Whether ``token`` is meant as (part of) a time: long digit runs, dates, clock times."""
    return (token.isdigit() and len(token) >= 8) or any(p.fullmatch(token) for p in (DATE, TIME, _ISO))


def local_to_ns(local: datetime, tz: zoneinfo.ZoneInfo) -> int:
    # Integer seconds since the epoch; a float timestamp would lose nothing here, but ints say so.
    return int(local.replace(tzinfo=tz).timestamp()) * 1_000_000_000


def parse_datetime(tokens: list[str], tz: zoneinfo.ZoneInfo) -> tuple[datetime, int]:
    """(naive local datetime, UTC ns) from one or two tokens; ValueError says what was expected."""
    text = " ".join(tokens)
    try:
        local = _parse(tokens)
    except ValueError:
        local = None
    if local is None:
        raise ValueError(f"unparsable datetime {text!r} (expected {EXPECTED})")
    if local.year < EARLIEST_YEAR:
        raise ValueError(f"datetime {text!r} is before {EARLIEST_YEAR} (datalogger clock not set?)")
    return local, local_to_ns(local, tz)


def _parse(tokens: list[str]) -> datetime | None:
    if len(tokens) == 1:
        compact = _COMPACT.fullmatch(tokens[0])
        if compact:
            y, mo, d, h, mi, s = (int(g or 0) for g in compact.groups())
            return datetime(y, mo, d, h, mi, s)
        iso = _ISO.fullmatch(tokens[0])
        return _date_time(iso["date"], iso["time"]) if iso else None
    if len(tokens) == 2:
        return _date_time(tokens[0], tokens[1])
    return None


def _date_time(date_text: str, time_text: str) -> datetime | None:
    date, clock = DATE.fullmatch(date_text), TIME.fullmatch(time_text)
    if date is None or clock is None:
        return None
    y, m, d = (date["y"], date["m"], date["d"]) if date["y"] else (date["y2"], date["m2"], date["d2"])
    return datetime(int(y), int(m), int(d), int(clock["H"]), int(clock["M"]), int(clock["S"] or 0))
