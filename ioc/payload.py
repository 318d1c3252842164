"""The batch payload a gateway publishes on ``up``: versioned JSON, bounded in size.

``{"v": 1, "gateway": "bmt-gw01", "seq": 42, "readings": [{"m": ..., "t": {...}, "f": {...},
"ts": <ns>, "q": "good"}, ...]}``. ``seq`` counts batches per gateway so ingest can tell a replay
from a gap. JSON because every MQTT tool can show it to a technician; the size bound keeps one
batch well under the broker's message limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

import msgspec

from ioc.reading import (
    MAX_FIELDS,
    MAX_NAME_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    MAX_TAGS,
    QUALITIES,
    Reading,
)

VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 256 * 1024
MAX_READINGS_PER_BATCH: Final = 5000
# Room for the envelope around the readings: version, a 64-character gateway id, a 20-digit seq.
ENVELOPE_BYTES: Final = 160


class PayloadError(ValueError):
    """The whole payload is unusable; the message says why."""


@dataclass(slots=True)
class Batch:
    gateway: str
    seq: int
    readings: list[Reading]
    # (index in the payload, reason) for each reading that could not be decoded; the rest are kept.
    rejects: list[tuple[int, str]] = field(default_factory=list)


def _reading_to_json(reading: Reading) -> dict[str, Any]:
    return {
        "m": reading.measurement,
        "t": reading.tags,
        "f": reading.fields,
        "ts": reading.time_ns,
        "q": reading.quality,
    }


def encode_reading(reading: Reading) -> bytes:
    """One reading as it appears inside a payload; the edge buffer stores exactly these bytes."""
    return json.dumps(
        _reading_to_json(reading), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def decode_reading(data: bytes) -> Reading:
    """The reverse of encode_reading; raises ValueError with the reason."""
    try:
        return _reading_from_json(json.loads(data))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None


def encode_items(gateway: str, seq: int, items: Sequence[bytes]) -> bytes:
    """A payload around readings already encoded with encode_reading (no second JSON pass)."""
    if len(items) > MAX_READINGS_PER_BATCH:
        raise PayloadError(f"{len(items)} readings exceed the batch bound of {MAX_READINGS_PER_BATCH}")
    head = json.dumps(
        {"v": VERSION, "gateway": gateway, "seq": seq}, separators=(",", ":"), ensure_ascii=False
    )
    data = b"".join((head[:-1].encode(), b',"readings":[', b",".join(items), b"]}"))
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    return data


def encode(gateway: str, seq: int, readings: Iterable[Reading]) -> bytes:
    """One payload holding all ``readings``; raises PayloadError if it would exceed the bounds."""
    return encode_items(gateway, seq, [encode_reading(r) for r in readings])


def split_items(items: Sequence[bytes], max_readings: int) -> Iterator[Sequence[bytes]]:
    """Consecutive runs of encoded readings that each fit in one payload (by count and size)."""
    limit = min(max_readings, MAX_READINGS_PER_BATCH)
    start, size = 0, ENVELOPE_BYTES
    for index, item in enumerate(items):
        if index > start and (index - start >= limit or size + len(item) + 1 > MAX_PAYLOAD_BYTES):
            yield items[start:index]
            start, size = index, ENVELOPE_BYTES
        size += len(item) + 1
    if start < len(items):
        yield items[start:]


def split(readings: list[Reading], max_readings: int) -> Iterator[list[Reading]]:
    """Chunks of ``readings`` that each fit in one payload (by count and by encoded size)."""
    items = [encode_reading(r) for r in readings]
    start = 0
    for run in split_items(items, max_readings):
        yield readings[start : start + len(run)]
        start += len(run)


class _WireBatch(msgspec.Struct):
    v: Annotated[int, msgspec.Meta(ge=VERSION, le=VERSION)]
    gateway: Annotated[str, msgspec.Meta(min_length=1)]
    seq: Annotated[int, msgspec.Meta(ge=0)]
    readings: Annotated[list[Reading], msgspec.Meta(max_length=MAX_READINGS_PER_BATCH)]


_fast_decoder = msgspec.json.Decoder(_WireBatch)


def _check_name(kind: str, value: Any, max_length: int = MAX_NAME_LENGTH) -> str:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ValueError(f"{kind} must be a non-empty string of at most {max_length} characters")
    return value


def _reading_from_json(item: Any) -> Reading:
    if not isinstance(item, dict):
        raise ValueError("reading is not an object")
    measurement = _check_name("measurement", item.get("m"))
    tags, fields, ts = item.get("t"), item.get("f"), item.get("ts")
    if not isinstance(tags, dict) or len(tags) > MAX_TAGS:
        raise ValueError(f"tags must be an object with at most {MAX_TAGS} entries")
    for key, value in tags.items():
        _check_name("tag key", key)
        _check_name(f"tag {key!r}", value, MAX_TAG_VALUE_LENGTH)
    if not isinstance(fields, dict) or not fields or len(fields) > MAX_FIELDS:
        raise ValueError(f"fields must be an object with 1 to {MAX_FIELDS} entries")
    for key, value in fields.items():
        _check_name("field key", key)
        if not isinstance(value, bool | int | float | str):
            raise ValueError(f"field {key!r} must be a number, boolean or string")
    if isinstance(ts, bool) or not isinstance(ts, int) or ts <= 0:
        raise ValueError("ts must be a positive integer (ns since the epoch)")
    quality = item.get("q", "good")
    if quality not in QUALITIES:
        raise ValueError(f"unknown quality {quality!r}")
    return Reading(measurement, tags, fields, ts, quality)


def decode(payload: bytes) -> Batch:
    """Parse a payload. Raises PayloadError when nothing in it can be trusted; a reading that is
    malformed on its own is listed in ``Batch.rejects`` and the others are kept."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    # Nearly every batch is well formed: parse and check it whole in C. Only when that fails does
    # the slower path below run, to keep the good readings and name what is wrong with each bad one.
    try:
        wire = _fast_decoder.decode(payload)
        return Batch(wire.gateway, wire.seq, wire.readings)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _decode_each(payload)


def _decode_each(payload: bytes) -> Batch:
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PayloadError("payload is not a JSON object")
    if doc.get("v") != VERSION:
        raise PayloadError(f"unsupported payload version {doc.get('v')!r} (this ingest reads {VERSION})")
    gateway, seq, items = doc.get("gateway"), doc.get("seq"), doc.get("readings")
    if not isinstance(gateway, str) or not gateway:
        raise PayloadError("missing gateway id")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise PayloadError("seq must be a non-negative integer")
    if not isinstance(items, list):
        raise PayloadError("readings must be a list")
    if len(items) > MAX_READINGS_PER_BATCH:
        raise PayloadError(f"{len(items)} readings exceed the batch bound of {MAX_READINGS_PER_BATCH}")
    batch = Batch(gateway, seq, [])
    for index, item in enumerate(items):
        try:
            batch.readings.append(_reading_from_json(item))
        except ValueError as exc:
            batch.rejects.append((index, str(exc)))
    return batch
