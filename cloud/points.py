"""Readings → InfluxDB line protocol, with field types fixed by the measurement dictionary."""

from __future__ import annotations

from influxdb_client import Point, WritePrecision

from ioc.measurements import dictionary
from ioc.reading import FieldValue, Reading


def _typed(measurement: str, name: str, value: FieldValue) -> FieldValue:
    # InfluxDB fixes a field's type at its first write; a sensor that once sends 12 instead of
    # 12.0 must not turn pm25 into an integer field and have every later float rejected.
    spec = dictionary()[measurement].fields.get(name)
    if spec is not None and spec.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def to_line(reading: Reading) -> str:
    """One line of line protocol. ``quality`` is a field, not a tag, so a reading that changes
    quality on a replay overwrites its point instead of starting a second series."""
    point = Point(reading.measurement).time(reading.time_ns, WritePrecision.NS)
    for key, value in reading.tags.items():
        point.tag(key, value)
    for key, value in reading.fields.items():
        point.field(key, _typed(reading.measurement, key, value))
    point.field("quality", reading.quality)
    return point.to_line_protocol()
