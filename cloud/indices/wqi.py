"""VN_WQI, Quyết định 1460/QĐ-TCMT (2019) — UNCONFIRMED: built from standards.md §2, which comes
from secondary sources and open implementations, not the decision's text. Do not claim conformance
before checking the breakpoints and the aggregation exponent against the decision.

Parameter sub-indices q (10–100) interpolate linearly between breakpoints, rising or falling.
Groups: I pH; II pesticides; III heavy metals; IV organics and nutrients (DO % saturation, BOD5,
COD, TOC, N-NH4, N-NO3, N-NO2, P-PO4); V microbiology (Coliform, E. coli).

Aggregation as standards.md writes it (``combination="sqrt"``, the default)::

    WQI = F_I × F_II × F_III × √(mean(q_IV) × mean(q_V)),   F_g = (Π q/100)^(1/n) over group g
    WQI = F_I × F_II × F_III × mean(q_IV)                     without group V

``combination="cube"`` gives ∛(mean(q_IV)² × mean(q_V)) instead — our (unverified) recollection
of the printed 1460 form, there so a deployment can switch once someone has read the decision.

Our readings where the text is silent or ambiguous:
- Inputs are a water_quality reading's fields (ioc/measurements.yaml); :data:`PARAMETERS` maps
  them to the decision's parameters. nh4, no3, no2 are taken as mg/L as N and po4 as mg/L as P,
  as the decision's N-NH4, N-NO3, N-NO2, P-PO4 are. ``no2`` and ``ecoli`` are not yet in the
  dictionary (requested). Fields that are not index parameters are ignored.
- A group with no measured parameter is left out (factor 1). Groups II and III have no fields
  in the dictionary, so F_II = F_III = 1 here. At least 3 group IV parameters are needed.
- Falling parameters: C ≤ BP(q=100) → 100; C ≥ BP(q=10) → 10. Where the table gives ">X" for
  q = 10 (N-NO3, Coliform, E. coli) the last segment ends at q = 25 for C = X, and C > X → 10.
  N-NH4 lists 0.3 for both q = 100 and q = 75: C = 0.3 → 100, just above 0.3 → just under 75.
- DO needs the water temperature for DO_sat; without it DO is left out of group IV.
- The WQI is rounded half up to an integer, as the AQI is.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cloud.indices.aqi import Band, round_half_up

Point = tuple[float, float]
"""(value, q) — a breakpoint of a parameter's sub-index."""


@dataclass(frozen=True)
class Parameter:
    """One WQI parameter: its dictionary field, decision name, group and breakpoints."""

    field: str
    name: str
    group: Literal["I", "IV", "V"]
    points: tuple[Point, ...]
    below: float
    """q for values under the first breakpoint."""
    above: float
    """q for values over the last breakpoint."""


def _falling(field: str, name: str, group: Literal["IV", "V"], *bps: float) -> Parameter:
    """A parameter whose q falls 100, 75, 50, 25, 10 at ``bps``; ≤ first → 100, > last → 10."""
    qs = (100, 75, 50, 25, 10)
    return Parameter(field, name, group, tuple(zip(bps, qs, strict=False)), 100, 10)


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("pH", "pH", "I", ((5.5, 50), (6.0, 100), (8.5, 100), (9.0, 50)), 10, 10),
    # DO's points are % saturation, computed from dissolvedOxygen and temperature.
    Parameter(
        "dissolvedOxygen",
        "DO",
        "IV",
        ((20, 25), (50, 50), (75, 75), (88, 100), (112, 100), (125, 75), (150, 50), (200, 25)),
        10,
        10,
    ),
    _falling("bod5", "BOD5", "IV", 4, 6, 15, 25, 50),
    _falling("cod", "COD", "IV", 10, 15, 30, 50, 150),
    _falling("toc", "TOC", "IV", 4, 6, 15, 25, 50),
    _falling("nh4", "N-NH4", "IV", 0.3, 0.3, 0.6, 0.9, 5),
    _falling("no3", "N-NO3", "IV", 2, 5, 10, 15),  # > 15 → 10
    Parameter("no2", "N-NO2", "IV", ((0.05, 100),), 100, 10),  # ≤ 0.05 → 100, else 10
    _falling("po4", "P-PO4", "IV", 0.1, 0.2, 0.3, 0.5, 4),
    _falling("coliform", "Coliform", "V", 2500, 5000, 7500, 10000),  # > 10000 → 10
    _falling("ecoli", "E. coli", "V", 20, 50, 100, 200),  # > 200 → 10
)
BY_FIELD: Mapping[str, Parameter] = {p.field: p for p in PARAMETERS}
MIN_GROUP_IV = 3

WQI_BANDS: tuple[Band, ...] = (
    # English labels are our translation; the Vietnamese ones are the decision's.
    Band(91, 100, "Rất tốt", "Very good", (51, 51, 255)),
    Band(76, 90, "Tốt", "Good", (0, 228, 0)),
    Band(51, 75, "Trung bình", "Medium", (255, 255, 0)),
    Band(26, 50, "Xấu", "Bad", (255, 126, 0)),
    Band(10, 25, "Kém", "Poor", (255, 0, 0)),
    Band(0, 9, "Ô nhiễm rất nặng", "Very heavily polluted", (126, 0, 35)),
)


def do_saturation(temperature_c: float) -> float:
    """DO_sat (mg/L) = 14.652 − 0.41022·T + 0.0079910·T² − 0.000077774·T³, T in °C."""
    t = temperature_c
    return 14.652 - 0.41022 * t + 0.0079910 * t**2 - 0.000077774 * t**3


def do_percent(dissolved_oxygen: float, temperature_c: float) -> float:
    """DO % saturation = DO / DO_sat × 100."""
    return dissolved_oxygen / do_saturation(temperature_c) * 100


def _piecewise(points: tuple[Point, ...], below: float, above: float, x: float) -> float:
    if x < points[0][0]:
        return below
    if x > points[-1][0]:
        return above
    for (x0, q0), (x1, q1) in itertools.pairwise(points):
        if x0 <= x <= x1:
            if x == x0:  # also picks the first q where two breakpoints share a value (N-NH4)
                return q0
            return q0 + (q1 - q0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def parameter_q(field: str, value: float, temperature_c: float | None = None) -> float:
    """The sub-index q of one dictionary field; dissolvedOxygen (mg/L) needs the temperature."""
    parameter = BY_FIELD.get(field)
    if parameter is None:
        raise ValueError(f"{field!r} is not a WQI parameter; expected one of {', '.join(BY_FIELD)}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{field} must be finite and ≥ 0, got {value!r}")
    if field == "dissolvedOxygen":
        if temperature_c is None:
            raise ValueError("dissolvedOxygen needs the water temperature for DO % saturation")
        value = do_percent(value, temperature_c)
    return _piecewise(parameter.points, parameter.below, parameter.above, value)


@dataclass(frozen=True)
class WqiResult:
    """A WQI: the published integer, the unrounded value and each parameter's q (by field)."""

    wqi: int
    value: float
    sub_indices: Mapping[str, float]

    @property
    def band(self) -> Band:
        return wqi_band(self.wqi)


def wqi_band(value: float) -> Band:
    """The band of a WQI (an integer 0–100; a float is rounded half up first)."""
    rounded = round_half_up(value)
    if rounded < 0:
        raise ValueError(f"WQI must be ≥ 0, got {value!r}")
    return next((b for b in WQI_BANDS if rounded >= b.low), WQI_BANDS[-1])


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def wqi(
    sample: Mapping[str, float | None], *, combination: Literal["sqrt", "cube"] = "sqrt"
) -> WqiResult | None:
    """The WQI of one water sample given as dictionary fields → values; None → not measured.

    None when fewer than 3 group IV parameters have values.
    """
    temperature = sample.get("temperature")
    subs: dict[str, float] = {}
    for parameter in PARAMETERS:
        value = sample.get(parameter.field)
        if value is None or (parameter.field == "dissolvedOxygen" and temperature is None):
            continue
        subs[parameter.field] = parameter_q(parameter.field, value, temperature)
    groups: dict[str, list[float]] = {"I": [], "IV": [], "V": []}
    for name, q in subs.items():
        groups[BY_FIELD[name].group].append(q)
    if len(groups["IV"]) < MIN_GROUP_IV:
        return None
    factor = math.prod(q / 100 for q in groups["I"]) ** (1 / len(groups["I"])) if groups["I"] else 1.0
    mean_iv = _mean(groups["IV"])
    if not groups["V"]:
        organic = mean_iv
    elif combination == "sqrt":
        organic = math.sqrt(mean_iv * _mean(groups["V"]))
    elif combination == "cube":
        organic = (mean_iv**2 * _mean(groups["V"])) ** (1 / 3)
    else:
        raise ValueError(f"combination must be 'sqrt' or 'cube', not {combination!r}")
    value = factor * organic
    return WqiResult(round_half_up(value), value, subs)
