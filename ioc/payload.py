"""The batch payload a gateway publishes on ``up``: versioned JSON, bounded in size.

``{"v": 1, "gateway": "bmt-gw01", "seq": 42, "readings": [{"m": ..., "t": {...}, "f": {...},
"ts": <ns>, "q": "good"}, ...]}``. ``seq`` counts batches per gateway so ingest can tell a replay
from a gap. JSON because every MQTT tool can show it to a technician; the size bound keeps one
batch well under the broker's message limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from ioc.reading import QUALITIES, Reading

VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 256 * 1024
MAX_READINGS_PER_BATCH: Final = 5000
MAX_TAGS: Final = 16
MAX_FIELDS: Final = 64
MAX_NAME_LENGTH: Final = 64
MAX_TAG_VALUE_LENGTH: Final = 128


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


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def encode(gateway: str, seq: int, readings: Iterable[Reading]) -> bytes:
    """One payload holding all ``readings``; raises PayloadError if it would exceed the bounds."""
    items = [_reading_to_json(r) for r in readings]
    if len(items) > MAX_READINGS_PER_BATCH:
        raise PayloadError(f"{len(items)} readings exceed the batch bound of {MAX_READINGS_PER_BATCH}")
    data = _dump({"v": VERSION, "gateway": gateway, "seq": seq, "readings": items})
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    return data


def split(readings: list[Reading], max_readings: int) -> Iterator[list[Reading]]:
    """Chunks of ``readings`` that each fit in one payload (by count and by encoded size)."""
    chunk: list[Reading] = []
    size = 64  # envelope
    for reading in readings:
        item = len(_dump(_reading_to_json(reading))) + 1
        if chunk and (
            len(chunk) >= min(max_readings, MAX_READINGS_PER_BATCH) or size + item > MAX_PAYLOAD_BYTES - 256
        ):
            yield chunk
            chunk, size = [], 64
        chunk.append(reading)
        size += item
    if chunk:
        yield chunk


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
