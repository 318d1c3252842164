import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ioc import payload, topics
from ioc.measurements import check_reading, dictionary
from ioc.reading import Reading

TAGS = {"city": "bmt", "site": "bmt-nga6", "gateway": "bmt-gw01", "device": "bmt-aq01-pm"}


def reading(pm25: float = 12.5, ts: int = 1_767_225_600_000_000_000) -> Reading:
    return Reading("air_quality", dict(TAGS), {"pm25": pm25, "pm10": 20.0}, ts)


def test_round_trip_keeps_every_part_of_a_reading() -> None:
    readings = [reading(1.5, 10), Reading("air_quality", dict(TAGS), {"pm10": 3.0}, 11, "uncertain")]
    batch = payload.decode(payload.encode("bmt-gw01", 7, readings))
    assert (batch.gateway, batch.seq, batch.readings, batch.rejects) == ("bmt-gw01", 7, readings, [])


def test_split_respects_count_and_size_bounds() -> None:
    readings = [reading(float(i), i + 1) for i in range(1200)]
    chunks = list(payload.split(readings, max_readings=500))
    assert [len(c) for c in chunks] == [500, 500, 200]
    assert [r for c in chunks for r in c] == readings
    big = [
        Reading("alerts", dict(TAGS, rule="r", severity="high"), {"message": "x" * 250}, i + 1)
        for i in range(3000)
    ]
    for chunk in payload.split(big, max_readings=5000):
        assert len(payload.encode("g", 1, chunk)) <= payload.MAX_PAYLOAD_BYTES


def test_oversized_payload_is_refused_on_both_sides() -> None:
    with pytest.raises(payload.PayloadError, match="exceeds"):
        payload.decode(b" " * (payload.MAX_PAYLOAD_BYTES + 1))
    with pytest.raises(payload.PayloadError, match="batch bound"):
        payload.encode("g", 1, [reading(ts=i + 1) for i in range(payload.MAX_READINGS_PER_BATCH + 1)])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"v": 2, "gateway": "g", "seq": 1, "readings": []}', "unsupported payload version 2"),
        (b'{"v": 1, "seq": 1, "readings": []}', "missing gateway"),
        (b'{"v": 1, "gateway": "g", "seq": -1, "readings": []}', "seq must be"),
        (b'{"v": 1, "gateway": "g", "seq": 1, "readings": {}}', "readings must be a list"),
    ],
)
def test_unusable_payloads_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(payload.PayloadError, match=reason):
        payload.decode(data)


def test_bad_readings_are_listed_and_the_good_ones_kept() -> None:
    good = json.loads(payload.encode("g", 1, [reading()]))["readings"][0]
    doc = {
        "v": 1,
        "gateway": "g",
        "seq": 3,
        "readings": [
            good,
            "nope",
            dict(good, ts="soon"),
            dict(good, f={}),
            dict(good, q="great"),
            dict(good, f={"pm25": [1]}),
            dict(good, t={"city": ""}),
        ],
    }
    batch = payload.decode(json.dumps(doc).encode())
    assert len(batch.readings) == 1
    assert [i for i, _ in batch.rejects] == [1, 2, 3, 4, 5, 6]
    assert "ts must be" in batch.rejects[1][1] and "unknown quality" in batch.rejects[3][1]


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    with contextlib.suppress(payload.PayloadError):
        payload.decode(data)


def test_dictionary_checks_fields_ranges_and_tags() -> None:
    assert check_reading(reading()) is None
    assert "unknown measurement" in check_reading(Reading("air", dict(TAGS), {"pm25": 1.0}, 1))
    assert "unknown field 'pm2.5'" in check_reading(Reading("air_quality", dict(TAGS), {"pm2.5": 1.0}, 1))
    assert "above the plausible maximum" in check_reading(reading(pm25=1e9))
    assert "must be a number" in check_reading(Reading("air_quality", dict(TAGS), {"pm25": True}, 1))
    assert "missing tag 'lane'" in check_reading(Reading("traffic_flow", dict(TAGS), {"intensity": 3}, 1))
    assert "not one of" in check_reading(
        Reading("traffic_signal", dict(TAGS, signal_group="1"), {"state": "blue"}, 1)
    )
    assert dictionary()["air_quality"].fields["pm25"].unit == "µg/m³"


def test_topics_round_trip_and_refuse_foreign_names() -> None:
    name = topics.topic("bmt", "bmt-gw01", "config/ack")
    assert name == "ioc/v1/bmt/bmt-gw01/config/ack"
    assert topics.parse(name) == topics.Topic("bmt", "bmt-gw01", "config/ack")
    for foreign in ("ioc/v1/bmt/gw/down", "ioc/v2/bmt/gw/up", "ioc/v1/BMT/gw/up", "x", "ioc/v1/+/gw/up"):
        assert topics.parse(foreign) is None
    with pytest.raises(ValueError, match="gateway id"):
        topics.topic("bmt", "gw/#", "up")
    assert topics.ingest_subscription() == "$share/ingest/ioc/v1/+/+/up"


_names = st.sampled_from(["pm25", "pm10", "", "x" * 65, "city", "gateway"])
_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
_items = st.fixed_dictionaries(
    {
        "m": st.one_of(st.just("air_quality"), st.just(""), st.integers()),
        "t": st.one_of(st.dictionaries(_names, st.one_of(st.text(max_size=3), st.integers()), max_size=3)),
        "f": st.dictionaries(_names, _values, max_size=3),
        "ts": st.one_of(st.integers(min_value=-5, max_value=2**64), st.booleans(), st.floats()),
    },
    optional={"q": st.sampled_from(["good", "bad", "nonsense", 1])},
)


@given(st.lists(_items, max_size=4), st.integers(min_value=-1, max_value=2**64))
def test_fast_and_explaining_decoders_agree(items: list[dict], seq: int) -> None:
    """The C fast path may refuse more (then the explaining path runs), but whatever it accepts
    the explaining path accepts too, reading for reading."""
    data = json.dumps({"v": 1, "gateway": "g", "seq": seq, "readings": items}).encode()
    explained = None
    with contextlib.suppress(payload.PayloadError):
        explained = payload._decode_each(data)
    try:
        fast = payload._fast_decoder.decode(data)
    except (payload.msgspec.DecodeError, payload.msgspec.ValidationError):
        return
    assert explained is not None and explained.rejects == []
    assert (fast.gateway, fast.seq, fast.readings) == (explained.gateway, explained.seq, explained.readings)
