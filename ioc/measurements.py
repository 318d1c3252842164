"""The measurement dictionary (``measurements.yaml``) as typed data, and checks against it."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from ioc.reading import IDENTITY_TAGS, QUALITIES, FieldValue, Reading

FieldType = Literal["float", "int", "bool", "str"]
MAX_STRING_FIELD = 256


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    unit: str
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    name: str
    description: str
    tags: tuple[str, ...]
    fields: dict[str, FieldSpec]

    @property
    def required_tags(self) -> tuple[str, ...]:
        return IDENTITY_TAGS + self.tags


@cache
def dictionary() -> dict[str, Measurement]:
    """All measurements, by name."""
    text = resources.files("ioc").joinpath("measurements.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    result: dict[str, Measurement] = {}
    for name, body in raw.items():
        fields = {
            fname: FieldSpec(
                name=fname,
                type=spec["type"],
                unit=spec.get("unit", ""),
                min=spec.get("min"),
                max=spec.get("max"),
                values=tuple(spec["values"]) if "values" in spec else None,
            )
            for fname, spec in body["fields"].items()
        }
        result[name] = Measurement(name, body.get("description", ""), tuple(body.get("tags", [])), fields)
    return result


def _check_value(spec: FieldSpec, value: FieldValue) -> str | None:
    if spec.type == "bool":
        return None if isinstance(value, bool) else f"field {spec.name!r} must be a boolean"
    if spec.type == "str":
        if not isinstance(value, str):
            return f"field {spec.name!r} must be a string"
        if len(value) > MAX_STRING_FIELD:
            return f"field {spec.name!r} is longer than {MAX_STRING_FIELD} characters"
        if spec.values is not None and value not in spec.values:
            return f"field {spec.name!r} = {value!r} is not one of {', '.join(spec.values)}"
        return None
    # bool is an int subclass in Python; a true/false where a number belongs is a producer bug.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"field {spec.name!r} must be a number"
    if spec.type == "int" and not isinstance(value, int):
        return f"field {spec.name!r} must be an integer"
    if isinstance(value, float) and not math.isfinite(value):
        return f"field {spec.name!r} is not a finite number"
    if spec.min is not None and value < spec.min:
        return f"field {spec.name!r} = {value} is below the plausible minimum {spec.min} {spec.unit}".rstrip()
    if spec.max is not None and value > spec.max:
        return f"field {spec.name!r} = {value} is above the plausible maximum {spec.max} {spec.unit}".rstrip()
    return None


# What a value of each field type may be, as (accepted Python types, low, high, allowed strings):
# one tuple test and one chained comparison decide nearly every value. NaN fails any comparison
# and infinities fall outside ±float max, so both go to the explaining path.
_Plan = tuple[tuple[str, ...], dict[str, tuple[tuple[type, ...], float, float, frozenset[str] | None]]]
_NUMBER_TYPES: dict[str, tuple[type, ...]] = {"float": (float, int), "int": (int,), "bool": (bool,)}


@cache
def _plans() -> dict[str, _Plan]:
    # Built once for the whole dictionary: a cache keyed by the names readings bring would grow
    # with every unknown name a broken or hostile gateway sends.
    return {name: _plan(spec) for name, spec in dictionary().items()}


def _plan(spec: Measurement) -> _Plan:
    fields = {}
    for name, field in spec.fields.items():
        if field.type == "str":
            values = frozenset(field.values) if field.values is not None else None
            fields[name] = ((str,), 0.0, float(MAX_STRING_FIELD), values)
        else:
            low = -sys.float_info.max if field.min is None or field.type == "bool" else field.min
            high = sys.float_info.max if field.max is None or field.type == "bool" else field.max
            fields[name] = (_NUMBER_TYPES[field.type], low, high, None)
    return spec.required_tags, fields


def _fits(reading: Reading) -> bool:
    """True when ``reading`` surely fits the dictionary: the hot path of ingest, ~0.5 µs."""
    plan = _plans().get(reading.measurement)
    if plan is None or not reading.fields or reading.quality not in QUALITIES:
        return False
    required, specs = plan
    tags = reading.tags
    for tag in required:
        if not tags.get(tag):
            return False
    for name, value in reading.fields.items():
        spec = specs.get(name)
        if spec is None or type(value) not in spec[0]:
            return False
        if spec[0][0] is str:
            if len(value) > MAX_STRING_FIELD or (spec[3] is not None and value not in spec[3]):  # type: ignore[arg-type]
                return False
        elif not spec[1] <= value <= spec[2]:  # type: ignore[operator]
            return False
    return True


def check_reading(reading: Reading) -> str | None:
    """Why ``reading`` does not fit the dictionary, or None when it does."""
    if _fits(reading):
        return None
    return _explain(reading)


def _explain(reading: Reading) -> str | None:
    measurement = dictionary().get(reading.measurement)
    if measurement is None:
        return f"unknown measurement {reading.measurement!r}"
    for tag in measurement.required_tags:
        if not reading.tags.get(tag):
            return f"missing tag {tag!r}"
    if reading.quality not in QUALITIES:
        return f"unknown quality {reading.quality!r}"
    if not reading.fields:
        return "reading has no fields"
    for name, value in reading.fields.items():
        spec = measurement.fields.get(name)
        if spec is None:
            return f"unknown field {name!r} for measurement {reading.measurement!r}"
        problem = _check_value(spec, value)
        if problem:
            return problem
    return None
