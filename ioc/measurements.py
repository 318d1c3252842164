"""The measurement dictionary (``measurements.yaml``) as typed data, and checks against it."""

from __future__ import annotations

import math
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


def check_reading(reading: Reading) -> str | None:
    """Why ``reading`` does not fit the dictionary, or None when it does."""
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
