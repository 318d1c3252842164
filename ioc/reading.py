"""The one Reading type every part of the stack passes along (DESIGN.md, "Contracts")."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final, Literal, get_args

FieldValue = float | int | bool | str

# good/uncertain/bad describe the value; the rest carry a monitoring station's own status
# (Thông tư 10/2021: 00 measuring, 01 calibrating, 02 device error) so the wall can show it.
Quality = Literal["good", "uncertain", "bad", "calibrating", "maintenance", "device_error"]
QUALITIES: Final[frozenset[str]] = frozenset(get_args(Quality))

# Tags every reading carries; per-measurement tags (lane, pollutant, …) come from the dictionary.
IDENTITY_TAGS: Final[tuple[str, ...]] = ("city", "site", "gateway", "device")


@dataclass(frozen=True, slots=True)
class Reading:
    """One timestamped observation of one device.

    A point's identity in InfluxDB is measurement + tags + ``time_ns``; it is fixed at the edge so
    that replays after an outage overwrite instead of duplicating.
    """

    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    time_ns: int
    quality: Quality = "good"


def now_ns() -> int:
    """Wall-clock time in ns, the timestamp a reading gets at the edge."""
    return time.time_ns()
