"""Our line-protocol encoder against influxdb-client's Point, the reference implementation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from influxdb_client import Point, WritePrecision

from cloud.points import to_line
from ioc.reading import Reading

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**62), 2**62),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)


def reference(reading: Reading, floats: frozenset[str] = frozenset()) -> str:
    point = Point(reading.measurement).time(reading.time_ns, WritePrecision.NS)
    for key, value in reading.tags.items():
        point.tag(key, value)
    for key, value in reading.fields.items():
        as_float = key in floats and isinstance(value, int) and not isinstance(value, bool)
        point.field(key, float(value) if as_float else value)
    point.field("quality", reading.quality)
    return point.to_line_protocol()


@given(
    measurement=names.filter(lambda n: not n.startswith("#")),  # a leading # makes a comment line
    tags=st.dictionaries(names, names, max_size=5),
    fields=st.dictionaries(names.filter(lambda n: n != "quality"), values, min_size=1, max_size=5),
    time_ns=st.integers(1, 2**62),
)
def test_same_line_as_influxdb_client(measurement: str, tags: dict, fields: dict, time_ns: int) -> None:
    reading = Reading(measurement, tags, fields, time_ns)
    assert to_line(reading) == reference(reading)


def test_dictionary_floats_stay_floats() -> None:
    tags = {"city": "bmt", "site": "s", "gateway": "g", "device": "d"}
    reading = Reading("air_quality", tags, {"pm25": 12, "particles03": 5}, 1)
    assert (
        to_line(reading)
        == 'air_quality,city=bmt,device=d,gateway=g,site=s particles03=5i,pm25=12,quality="good" 1'
    )
    assert to_line(reading) == reference(reading, frozenset({"pm25"}))
