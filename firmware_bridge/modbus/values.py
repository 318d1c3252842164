"""Plausible values for simulated sondes and air stations: daily cycles plus a seeded random walk.

Shapes follow what a Vietnamese city's monitoring shows: water DO, pH and temperature peak in the
afternoon (sun, photosynthesis) and bottom out at dawn; PM2.5, NO2 and CO peak at the morning and
evening rush hours (with evening cooking and the night-time inversion); O3 peaks after midday.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from ioc.measurements import dictionary

VIETNAM = timezone(timedelta(hours=7))
Shape = Callable[[float], float]  # local hour (0..24) → position in the range (0..1)


def daily(peak_hour: float) -> Shape:
    return lambda hour: 0.5 + 0.5 * math.cos((hour - peak_hour) / 24 * 2 * math.pi)


def rush_hours(morning: float = 7.5, evening: float = 19.0, width: float = 1.8, floor: float = 0.15) -> Shape:
    def shape(hour: float) -> float:
        # Distance in hours around the clock, so a peak at 23 h also lifts 1 h.
        peaks = sum(
            math.exp(-(((hour - h + 12) % 24 - 12) ** 2) / (2 * width**2)) for h in (morning, evening)
        )
        return floor + (1 - floor) * min(peaks, 1.0)

    return shape


def flat(level: float) -> Shape:
    return lambda _hour: level


@dataclass(frozen=True)
class Profile:
    low: float
    high: float
    shape: Shape
    wander: float  # standard deviation of the random walk, as a fraction of the range
    decimals: int


WATER: dict[str, Profile] = {
    "pH": Profile(6.5, 8.0, daily(15), 0.04, 2),
    "dissolvedOxygen": Profile(4.0, 7.0, daily(15), 0.04, 2),
    "turbidity": Profile(5.0, 80.0, flat(0.25), 0.06, 1),
    "conductivity": Profile(100.0, 600.0, flat(0.5), 0.04, 1),
    "temperature": Profile(24.0, 31.0, daily(15), 0.02, 2),
    "orp": Profile(120.0, 380.0, daily(15), 0.04, 1),
    "chlorophyll": Profile(2.0, 40.0, daily(14), 0.05, 2),
    "bga": Profile(200.0, 20000.0, daily(14), 0.05, 0),
}
AIR: dict[str, Profile] = {
    "pm25": Profile(20.0, 80.0, rush_hours(), 0.05, 1),
    "no2": Profile(20.0, 120.0, rush_hours(7.5, 18.5), 0.05, 1),
    "so2": Profile(5.0, 40.0, flat(0.4), 0.05, 1),
    "o3": Profile(20.0, 160.0, daily(13.5), 0.05, 1),
    "co": Profile(400.0, 3000.0, rush_hours(7.5, 18.5), 0.05, 0),
    "temperature": Profile(23.0, 34.0, daily(14), 0.02, 1),
    "relativeHumidity": Profile(55.0, 95.0, daily(5), 0.03, 1),
    "pressure": Profile(1005.0, 1012.0, lambda h: 0.5 + 0.5 * math.cos((h - 10) / 12 * 2 * math.pi), 0.02, 1),
}
_DERIVED = {"pm10": ("pm25", 1.3, 1.8), "pm1": ("pm25", 0.6, 0.8)}  # ratio to another field


def local_hour(now: float) -> float:
    t = datetime.fromtimestamp(now, UTC).astimezone(VIETNAM)
    return t.hour + t.minute / 60 + t.second / 3600


class ValueModel:
    """The current values of one simulated device; ``step(now)`` advances them one interval."""

    def __init__(self, measurement: str, fields: list[str], rng: random.Random) -> None:
        self.rng = rng
        table = WATER if measurement == "water_quality" else AIR
        spec = dictionary()[measurement].fields
        self.profiles: dict[str, Profile] = {}
        for name in fields:
            if name in table:
                self.profiles[name] = table[name]
            elif name not in _DERIVED:
                # A field no profile knows (a custom map): a low, steady value inside its range.
                low = spec[name].min if spec[name].min is not None else 0.0
                high = spec[name].max if spec[name].max is not None else low + 100.0
                self.profiles[name] = Profile(low, low + 0.05 * (high - low), flat(0.5), 0.05, 2)
        self.derived = {name: _DERIVED[name] for name in fields if name in _DERIVED}
        self._walk = {name: rng.gauss(0.0, p.wander) for name, p in self.profiles.items()}
        self._ratio = {name: rng.uniform(lo, hi) for name, (_, lo, hi) in self.derived.items()}
        self._base = {name: self.rng.uniform(0.0, 1.0) for name in self.derived}

    def step(self, now: float) -> dict[str, float]:
        hour = local_hour(now)
        values: dict[str, float] = {}
        for name, p in self.profiles.items():
            # Mean-reverting walk: sensors drift over minutes, they do not jump between polls.
            self._walk[name] = 0.9 * self._walk[name] + self.rng.gauss(0.0, p.wander * 0.45)
            position = min(max(p.shape(hour) + self._walk[name], 0.0), 1.0)
            values[name] = round(p.low + (p.high - p.low) * position, p.decimals)
        for name, (source, lo, hi) in self.derived.items():
            self._ratio[name] = min(max(self._ratio[name] + self.rng.gauss(0.0, 0.02), lo), hi)
            base = values.get(source, 20.0 + 60.0 * self._base[name])
            values[name] = round(base * self._ratio[name], 1)
        return values
