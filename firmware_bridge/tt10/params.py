"""Station parameter names and units → dictionary fields and factors.

Stations name the same parameter many ways (``NH4``, ``N-NH4``, ``Amoni``, ``PM-2.5``, ``Nhiệt độ``,
``Nhiet_do``), so names are compared by a key without case, Vietnamese diacritics, spaces or
punctuation. Units likewise (``mg/l``, ``mg/L``; ``µg/Nm3``, ``ug/m³``; ``oC``, ``°C``).
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from typing import Final

from firmware_bridge.tt10.options import Tt10Options
from ioc.measurements import FieldSpec, dictionary

# Display name → field; each display name is also what a did-you-mean suggests.
WATER_PARAMS: Final[dict[str, str]] = {
    "pH": "pH",
    "Temp": "temperature",
    "Nhiệt độ": "temperature",
    "DO": "dissolvedOxygen",
    "COD": "cod",
    "BOD5": "bod5",
    "BOD": "bod5",
    "TSS": "tss",
    "NH4": "nh4",
    "N-NH4": "nh4",
    "Amoni": "nh4",
    "NO3": "no3",
    "N-NO3": "no3",
    "PO4": "po4",
    "P-PO4": "po4",
    "TOC": "toc",
    "EC": "conductivity",
    "Conductivity": "conductivity",
    "Độ dẫn điện": "conductivity",
    "Turbidity": "turbidity",
    "Độ đục": "turbidity",
    "Flow": "flow",
    "Lưu lượng": "flow",
}
AIR_PARAMS: Final[dict[str, str]] = {
    "PM1": "pm1",
    "PM2.5": "pm25",
    "PM10": "pm10",
    "NO2": "no2",
    "SO2": "so2",
    "O3": "o3",
    "CO": "co",
    "Temp": "temperature",
    "Nhiệt độ": "temperature",
    "RH": "relativeHumidity",
    "Humidity": "relativeHumidity",
    "Độ ẩm": "relativeHumidity",
    "Pressure": "pressure",
    "Áp suất": "pressure",
}
BUILTIN_PARAMS: Final[dict[str, dict[str, str]]] = {"water_quality": WATER_PARAMS, "air_quality": AIR_PARAMS}

# Dictionary unit (as a unit key) → {unit key a station may write: factor to the dictionary unit}.
# Only exact conversions; anything else needs the device's ``unit_map``. Normal cubic metres (Nm³)
# are taken as m³, as QCVN 05 reports ambient air.
CONVERSIONS: Final[dict[str, dict[str, float]]] = {
    "mg/l": {"mg/l": 1.0, "g/m3": 1.0, "ug/l": 0.001},
    "ug/m3": {"ug/m3": 1.0, "mg/m3": 1000.0, "ng/m3": 0.001},
    "c": {"c": 1.0, "oc": 1.0, "degc": 1.0, "doc": 1.0},
    "us/cm": {"us/cm": 1.0, "ms/cm": 1000.0, "ms/m": 10.0, "s/m": 10000.0},
    "m3/h": {"m3/h": 1.0, "m3/s": 3600.0, "l/s": 3.6, "l/min": 0.06, "m3/d": 1 / 24},
    "%": {"%": 1.0, "%rh": 1.0},
    "ph": {"ph": 1.0},
    "hpa": {"hpa": 1.0, "mbar": 1.0, "kpa": 10.0},
}


def name_key(name: str) -> str:
    """``Nhiệt_độ`` → ``nhietdo``, ``PM-2.5`` → ``pm25``, ``N-NH4`` → ``nnh4``."""
    decomposed = unicodedata.normalize("NFD", name.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def unit_key(unit: str) -> str:
    """``µg/Nm³`` → ``ug/m3``, ``°C`` and ``độ C`` → ``c``/``doc``, ``m3/ngày.đêm`` → ``m3/d``."""
    text = unicodedata.normalize("NFKC", unit).casefold().replace("μ", "u")  # NFKC: ³ → 3, micro → mu
    text = unicodedata.normalize("NFD", text.replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c) and c not in " °º")
    text = text.replace("nm3", "m3")
    for day in ("/ngay.dem", "/ngaydem", "/ngay", "/day", "/24h"):
        text = text.replace(day, "/d")
    return text


@dataclass(frozen=True, slots=True)
class Param:
    field: str
    spec: FieldSpec


class ParamTable:
    """The names and units one device's options accept, resolved once per options instance."""

    def __init__(self, options: Tt10Options) -> None:
        self.measurement = options.measurement
        self.fields = dictionary()[options.measurement].fields
        # Later wins: a station's own names override built-in aliases and field names (which work as-is).
        names = [*BUILTIN_PARAMS[options.measurement].items(), *((f, f) for f in self.fields)]
        names += options.param_map.items()
        self._by_key: dict[str, str] = {}
        self._display: dict[str, str] = {}
        for display, field in names:
            key = name_key(display)
            if key:
                self._by_key[key] = field
                self._display.setdefault(key, display)
        self._ignored = {name_key(name) for name in options.ignore_params}
        self._units: dict[str, dict[str, float]] = {}
        for field, spec in self.fields.items():
            target = unit_key(spec.unit)
            table = dict(CONVERSIONS.get(target, {target: 1.0}))
            table |= {unit_key(u): f for u, f in options.unit_map.get(field, {}).items()}
            self._units[field] = table

    def ignored(self, name: str) -> bool:
        return name_key(name) in self._ignored

    def lookup(self, name: str) -> Param | None:
        field = self._by_key.get(name_key(name))
        return None if field is None else Param(field, self.fields[field])

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name_key(name), list(self._display), n=1, cutoff=0.6)
        return self._display[close[0]] if close else None

    def factor(self, field: str, unit: str) -> float | None:
        """The factor from ``unit`` to the dictionary unit of ``field``; None when it is not known."""
        return self._units[field].get(unit_key(unit))
