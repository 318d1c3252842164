"""Limit values the wall compares readings with (standards.md §3), as threshold steps.

QCVN 05:2023/BTNMT ambient air, µg/Nm³. QCVN 08:2023/BTNMT surface water (rivers), classes A/B/C —
(unconfirmed except NH4+ and NO2−, as standards.md says): the class limits are data here so a
deployment corrects them in one place once someone has read the regulation.

Nothing else in the repo holds these tables yet; when the alerts issue needs them they belong in
``cloud/`` and this module should import them from there.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Final, Literal

from dashboards.panels import BAD, OK, WARN, Step

CLASS_B: Final = "yellow"


@dataclass(frozen=True)
class AirLimit:
    field: str  # air_quality field
    label: str
    averaging: Literal["1h", "24h"]
    value: float  # µg/m³


def pm25_24h_limit(on: dt.date) -> float:
    """QCVN 05:2023 tightens the 24-h PM2.5 limit from 50 to 45 µg/m³ on 2026-01-01."""
    return 45.0 if on >= dt.date(2026, 1, 1) else 50.0


def air_limits(averaging: Literal["1h", "24h"], on: dt.date) -> tuple[AirLimit, ...]:
    if averaging == "1h":
        return (
            AirLimit("so2", "SO₂", "1h", 350),
            AirLimit("no2", "NO₂", "1h", 200),
            AirLimit("o3", "O₃", "1h", 200),
            AirLimit("co", "CO", "1h", 30000),
        )
    return (
        AirLimit("pm25", "PM2.5", "24h", pm25_24h_limit(on)),
        AirLimit("pm10", "PM10", "24h", 100),
        AirLimit("so2", "SO₂", "24h", 125),
        AirLimit("no2", "NO₂", "24h", 100),
    )


# Share of a limit, %: green below 80 % of it, orange up to it, red above.
PERCENT_OF_LIMIT: Final[tuple[Step, ...]] = ((None, OK), (80, WARN), (100.000001, BAD))


@dataclass(frozen=True)
class WaterLimit:
    """A parameter's class limits. ``kind``: "max" (≤ limit), "min" (≥ limit), "range" (pH),
    "single" (one limit for every class). ``c`` None: class C has no upper bound."""

    field: str  # water_quality field
    label: str
    unit: str
    kind: Literal["max", "min", "range", "single"]
    a: float | tuple[float, float]
    b: float | tuple[float, float] | None = None
    c: float | tuple[float, float] | None = None

    def steps(self) -> list[Step]:
        """Threshold steps colouring a value by the best class it meets: A green, B yellow,
        C orange, worse than C red."""
        above = _just_above
        if self.kind == "single":
            return [(None, OK), (above(float(self.a)), BAD)]  # type: ignore[arg-type]
        if self.kind == "max":
            steps: list[Step] = [(None, OK), (above(float(self.a)), CLASS_B)]  # type: ignore[arg-type]
            steps.append((above(float(self.b)), WARN))  # type: ignore[arg-type]
            if self.c is not None:
                steps.append((above(float(self.c)), BAD))  # type: ignore[arg-type]
            return steps
        if self.kind == "min":
            return [(None, BAD), (self.c, WARN), (self.b, CLASS_B), (self.a, OK)]  # type: ignore[list-item]
        (a_low, a_high), (bc_low, bc_high) = self.a, self.b  # type: ignore[misc]
        return [(None, BAD), (bc_low, CLASS_B), (a_low, OK), (above(min(a_high, bc_high)), BAD)]


def _just_above(value: float) -> float:
    # Grafana colours a value with the highest step ≤ it; "≤ 4 mg/L" still meets the class at 4.
    return math.nextafter(value, math.inf)


WATER_LIMITS: Final[tuple[WaterLimit, ...]] = (
    WaterLimit("pH", "pH", "", "range", (6.5, 8.5), (6.0, 8.5), (6.0, 8.5)),
    WaterLimit("dissolvedOxygen", "DO", "mg/L", "min", 6.0, 5.0, 4.0),
    WaterLimit("bod5", "BOD₅", "mg/L", "max", 4, 6, 10),
    WaterLimit("cod", "COD", "mg/L", "max", 10, 15, 20),
    WaterLimit("tss", "TSS", "mg/L", "max", 25, 100, None),
    WaterLimit("nh4", "NH₄⁺ (N)", "mg/L", "single", 0.3),
    WaterLimit("no2", "NO₂⁻ (N)", "mg/L", "single", 0.05),
)
