"""VN_AQI, Quyết định 1459/QĐ-TCMT (2019): sub-indices, hourly and daily AQI, bands.

What the decision says is in /work/shared/reference/standards.md §1; the NowCast is in
:mod:`cloud.indices.nowcast`. Pollutant names are the measurement dictionary's ``air_quality``
fields (pm25, pm10, o3, co, so2, no2), all in µg/m³ (CO too).

Our readings where the text is silent or ambiguous:

- **Above the top breakpoint** the sub-index is capped at 500 (the decision's scale ends there;
  "Nguy hại" is already the worst band). Results list such pollutants in ``beyond_scale`` so a
  dashboard can say "≥ 500". The O3 8-h column is the exception: it ends at 400 µg/m³ (index
  300) and the decision says to use the 1-h value above it, so ``sub_index("o3", c, "8h")`` is
  None for c > 400.
- Breakpoint intervals are BP[i] ≤ C < BP[i+1] as written; C equal to the top breakpoint gives
  the top index.
- **Rounding**: the AQI is the maximum sub-index rounded half up (75.5 → 76). Binary floating
  point can leave 75.5 as 75.49999999999999, so values are first snapped to 9 decimals, then
  rounded half up with :mod:`decimal`. Rounding is monotone, so rounding the maximum equals the
  maximum of the rounded sub-indices.
- **Dominant pollutant** on a tie: the first in :data:`POLLUTANTS` order (PM2.5 first).
- **Daily completeness** (the decision's own rule is not in standards.md, so this is our choice,
  the usual 75 %): a pollutant enters the daily AQI only with at least 18 of the day's 24 hourly
  means; an O3 8-h mean needs at least 6 of its 8 hours.
- **O3 8-h rolling means** are trailing (the mean at hour h covers h−7..h) and may reach into the
  previous day's last 7 hours (``o3_before``), as the decision's example does (its 8-h mean at
  1:00 averages 18:00→1:00). "Skip the 8-h term when that mean exceeds 400" is applied to the
  day's highest 8-h mean; the term is then left out, not replaced by a lower window.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from cloud.indices.nowcast import nowcast

POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "o3", "no2", "so2", "co")
"""Dictionary field names, in the order that breaks ties for the dominant pollutant."""
PM: tuple[str, ...] = ("pm25", "pm10")
Averaging = Literal["1h", "8h"]

LEVELS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)
"""The index values I[i] of the breakpoint table's rows."""
BREAKPOINTS: Mapping[str, tuple[float | None, ...]] = {
    # Column → BP[i] for each row of LEVELS, µg/m³ (1459/QĐ-TCMT, Bảng 2). None: no breakpoint.
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 120, 170, 210, 400, None, None),
    "co": (0, 10000, 30000, 45000, 60000, 90000, 120000, 150000),
    "so2": (0, 125, 350, 550, 800, 1600, 2100, 2630),
    "no2": (0, 100, 200, 700, 1200, 2350, 3100, 3850),
    "pm10": (0, 50, 150, 250, 350, 420, 500, 600),
    "pm25": (0, 25, 50, 80, 150, 250, 350, 500),
}
MIN_DAY_HOURS = 18
"""Our choice: hourly means a pollutant needs in a day to enter the daily AQI (75 % of 24)."""
MIN_8H_HOURS = 6
"""Our choice: hourly means an O3 8-h mean needs (75 % of 8)."""
O3_8H_LIMIT = 400.0
"""Above this highest 8-h O3 mean the decision drops the 8-h term."""


def _pairs(name: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    rows = [(level, bp) for level, bp in zip(LEVELS, BREAKPOINTS[name], strict=True) if bp is not None]
    return tuple(level for level, _ in rows), tuple(bp for _, bp in rows)


_COLUMNS: dict[tuple[str, str], tuple[tuple[int, ...], tuple[float, ...]]] = {
    ("o3", "1h"): _pairs("o3_1h"),
    ("o3", "8h"): _pairs("o3_8h"),
    **{(p, "1h"): _pairs(p) for p in POLLUTANTS if p != "o3"},
}
"""(pollutant, averaging) → (I levels, BP breakpoints): the table above, indexed the way it is used."""


def _column(pollutant: str, averaging: Averaging) -> tuple[tuple[int, ...], tuple[float, ...]]:
    column = _COLUMNS.get((pollutant, averaging))
    if column is not None:
        return column
    if pollutant not in POLLUTANTS:
        raise ValueError(f"unknown pollutant {pollutant!r}; expected one of {', '.join(POLLUTANTS)}")
    if pollutant == "o3":
        raise ValueError(f"O3 averaging must be '1h' or '8h', not {averaging!r}")
    raise ValueError(f"{pollutant} has one breakpoint column; averaging {averaging!r} is for O3 only")


def sub_index(pollutant: str, concentration: float, averaging: Averaging = "1h") -> float | None:
    """AQIx = (I[i+1] − I[i]) / (BP[i+1] − BP[i]) × (Cx − BP[i]) + I[i], unrounded.

    ``averaging`` picks O3's 1-h or 8-h column; the other pollutants have one column, used for
    their 1-h means, NowCasts and 24-h means alike. Above the top breakpoint: 500 (capped), or
    None for the O3 8-h column. Negative or non-finite concentrations raise ValueError.
    """
    levels, bps = _column(pollutant, averaging)
    if not 0 <= concentration < math.inf:
        raise ValueError(f"{pollutant} concentration must be finite and ≥ 0, got {concentration!r}")
    if concentration >= bps[-1]:
        if concentration == bps[-1] or levels[-1] == LEVELS[-1]:
            return float(levels[-1])
        return None
    i = bisect.bisect_right(bps, concentration) - 1  # BP[i] ≤ C < BP[i+1]
    # Multiply before dividing: exact halves (e.g. 50.5) then survive float arithmetic.
    return (levels[i + 1] - levels[i]) * (concentration - bps[i]) / (bps[i + 1] - bps[i]) + levels[i]


def beyond_scale(pollutant: str, concentration: float, averaging: Averaging = "1h") -> bool:
    """True when ``concentration`` is above the column's top breakpoint."""
    return concentration > _column(pollutant, averaging)[1][-1]


_SNAP = Decimal("1e-9")
_ONE = Decimal(1)


def round_half_up(x: float) -> int:
    """Round half up (75.5 → 76), after snapping binary noise at 9 decimals; not banker's rounding."""
    return int(Decimal(x).quantize(_SNAP).quantize(_ONE, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Band:
    """A published index band: inclusive integer range, labels, colour (R, G, B)."""

    low: int
    high: int
    vi: str
    en: str
    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)


AQI_BANDS: tuple[Band, ...] = (
    Band(0, 50, "Tốt", "Good", (0, 228, 0)),
    Band(51, 100, "Trung bình", "Moderate", (255, 255, 0)),
    Band(101, 150, "Kém", "Poor", (255, 126, 0)),
    Band(151, 200, "Xấu", "Bad", (255, 0, 0)),
    Band(201, 300, "Rất xấu", "Very bad", (143, 63, 151)),
    Band(301, 500, "Nguy hại", "Hazardous", (126, 0, 35)),
)


def band(aqi: float) -> Band:
    """The band of a published AQI (an integer 0–500; a float is rounded half up first)."""
    value = round_half_up(aqi)
    if value < 0:
        raise ValueError(f"AQI must be ≥ 0, got {aqi!r}")
    return next((b for b in AQI_BANDS if value <= b.high), AQI_BANDS[-1])


@dataclass(frozen=True)
class HourlyAqi:
    """An AQI and how it came about.

    ``sub_indices`` are unrounded, per pollutant that had enough data; ``concentrations`` are
    the values they were computed from (NowCast, 1-h, 24-h mean or daily maximum, µg/m³).
    """

    aqi: int
    dominant: str
    sub_indices: Mapping[str, float]
    concentrations: Mapping[str, float]
    beyond_scale: tuple[str, ...] = ()

    @property
    def band(self) -> Band:
        return band(self.aqi)

    def rounded(self) -> dict[str, int]:
        """Sub-indices as published: integers, rounded half up."""
        return {p: round_half_up(v) for p, v in self.sub_indices.items()}


@dataclass(frozen=True)
class DailyAqi(HourlyAqi):
    """A daily AQI; ``o3_max_8h`` is the day's highest O3 8-h mean (None without enough data)."""

    o3_max_8h: float | None = None
    o3_8h_skipped: bool = False


def _sub_1h(pollutant: str, concentration: float) -> float:
    value = sub_index(pollutant, concentration)
    assert value is not None, "1-h columns end at index 500, so they always give a value"
    return value


_KNOWN = frozenset(POLLUTANTS)


def _check_keys(series: Mapping[str, object]) -> None:
    if not _KNOWN.issuperset(series):
        unknown = sorted(set(series) - _KNOWN)
        raise ValueError(f"unknown pollutants {unknown}; expected {', '.join(POLLUTANTS)}")


def _best(subs: dict[str, float]) -> tuple[int, str]:
    dominant, top = "", -1.0
    for pollutant in POLLUTANTS:  # strict ">" keeps the first of equals: POLLUTANTS breaks ties
        value = subs.get(pollutant)
        if value is not None and value > top:
            dominant, top = pollutant, value
    return round_half_up(top), dominant


def hourly_aqi(station_hours: Mapping[str, Sequence[float | None]]) -> HourlyAqi | None:
    """The hourly AQI of a station; ``station_hours[pollutant]`` = (c1, c2, …), c1 the current hour.

    PM2.5 and PM10 use the NowCast of c1..c12; O3 (1-h column), NO2, SO2 and CO use c1 only. None
    when neither PM has a NowCast.
    """
    _check_keys(station_hours)
    concentrations: dict[str, float] = {}
    for pollutant, hours in station_hours.items():
        value = nowcast(hours) if pollutant in PM else (hours[0] if hours else None)
        if value is not None:
            concentrations[pollutant] = value
    if not any(p in concentrations for p in PM):
        return None
    subs = {p: _sub_1h(p, c) for p, c in concentrations.items()}
    aqi, dominant = _best(subs)
    capped = tuple(p for p in POLLUTANTS if subs.get(p) == 500 and beyond_scale(p, concentrations[p]))
    return HourlyAqi(aqi, dominant, subs, concentrations, capped)


def _available(hours: Sequence[float | None]) -> list[float]:
    return [c for c in hours if c is not None]


def max_8h_mean(day: Sequence[float | None], before: Sequence[float | None] = ()) -> float | None:
    """The highest trailing 8-h mean ending at an hour of ``day`` (24 hourly values, 00:00 first).

    ``before`` holds the previous day's last hours (chronological; its last 7 are used). Windows
    with fewer than :data:`MIN_8H_HOURS` values don't count.
    """
    lead = list(before)[-7:]
    series = [None] * (7 - len(lead)) + lead + list(day)
    means = []
    for end in range(7, len(series)):
        window = _available(series[end - 7 : end + 1])
        if len(window) >= MIN_8H_HOURS:
            means.append(sum(window) / len(window))
    return max(means) if means else None


def daily_aqi(
    day_hours: Mapping[str, Sequence[float | None]], *, o3_before: Sequence[float | None] = ()
) -> DailyAqi | None:
    """The daily AQI from each pollutant's 24 hourly means of the day (00:00 first, None = gap).

    PM: 24-h mean; SO2, NO2, CO: highest 1-h mean; O3: the larger of the sub-index of the highest
    1-h mean (1-h column) and of the highest 8-h mean (8-h column, left out above 400 µg/m³).
    ``o3_before``: the previous day's last 7 O3 hourly means, for the early 8-h windows. None
    when neither PM has enough hours.
    """
    _check_keys(day_hours)
    concentrations: dict[str, float] = {}
    subs: dict[str, float] = {}
    capped: list[str] = []
    o3_8h: float | None = None
    skipped = False
    for pollutant in POLLUTANTS:
        hours = day_hours.get(pollutant, ())
        if len(hours) > 24:
            raise ValueError(f"{pollutant}: a day has 24 hourly means, got {len(hours)}")
        values = _available(hours)
        if len(values) < MIN_DAY_HOURS:
            continue
        value = sum(values) / len(values) if pollutant in PM else max(values)
        concentrations[pollutant] = value
        subs[pollutant] = _sub_1h(pollutant, value)
        if beyond_scale(pollutant, value):
            capped.append(pollutant)
        if pollutant == "o3":
            o3_8h = max_8h_mean(hours, o3_before)
            skipped = o3_8h is not None and o3_8h > O3_8H_LIMIT
            if o3_8h is not None and not skipped:
                sub_8h = sub_index("o3", o3_8h, "8h")
                if sub_8h is not None and sub_8h > subs["o3"]:
                    subs["o3"], concentrations["o3"] = sub_8h, o3_8h
    if not any(p in subs for p in PM):
        return None
    aqi, dominant = _best(subs)
    return DailyAqi(aqi, dominant, subs, concentrations, tuple(capped), o3_8h, skipped)
