"""The weighing record and its hash: the one definition both the journal writer and the verifiers use.

A record's hash covers its content and the previous record's hash, so changing, removing or
reordering any record breaks every link after it. The content is serialised canonically (sorted
keys, no spaces, weights and percentages with exactly one decimal) so that a record read back from
InfluxDB, where 12000.0 may come back as 12000, hashes to the same value as when it was written.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

# The first record links to 64 zeros rather than to something derived from the device id: the
# device id is in every record's content already, and a verifier needs no configuration.
GENESIS: Final[str] = "0" * 64

CONTENT_KEYS: Final[tuple[str, ...]] = (
    "device",
    "sequence",
    "time_ns",
    "gross_kg",
    "permitted_kg",
    "overload",
    "overload_pct",
    "stable",
    "quality",
)
RECORD_KEYS: Final[tuple[str, ...]] = (*CONTENT_KEYS, "prev_hash", "record_hash")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


class RecordError(ValueError):
    """A record that cannot be hashed: a field is missing or has the wrong type."""


def kg(value: float) -> float:
    """Weights and percentages are kept to 0.1; + 0.0 turns -0.0 into 0.0 so the text is unique."""
    return round(float(value), 1) + 0.0


def canonical(content: Mapping[str, Any]) -> bytes:
    """The canonical JSON of a record's content (keys sorted, compact, one decimal for kg and %)."""
    c = normalise(content)
    # Written by hand because json.dumps cannot fix the number of decimals of a float.
    text = (
        f'{{"device":{json.dumps(c["device"], ensure_ascii=False)},'
        f'"gross_kg":{c["gross_kg"]:.1f},'
        f'"overload":{json.dumps(c["overload"])},'
        f'"overload_pct":{c["overload_pct"]:.1f},'
        f'"permitted_kg":{c["permitted_kg"]:.1f},'
        f'"quality":{json.dumps(c["quality"], ensure_ascii=False)},'
        f'"sequence":{c["sequence"]},'
        f'"stable":{json.dumps(c["stable"])},'
        f'"time_ns":{c["time_ns"]}}}'
    )
    return text.encode("utf-8")


def record_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """sha256 over the previous hash (64 ASCII hex characters) followed by the canonical content."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(content)).hexdigest()


def make_record(content: Mapping[str, Any], prev_hash: str) -> dict[str, Any]:
    """A journal record: the normalised content, the link and the hash, in a readable key order."""
    c = normalise(content)
    return {**c, "prev_hash": prev_hash, "record_hash": record_hash(prev_hash, c)}


def normalise(record: Mapping[str, Any]) -> dict[str, Any]:
    """The content of a journal line or of an InfluxDB row (tag ``device``, time as ``time_ns`` or
    ``time``: ns since the epoch or RFC 3339), with Python types fixed. RecordError if unusable."""
    missing = [k for k in CONTENT_KEYS if k != "time_ns" and record.get(k) is None]
    if record.get("time_ns") is None and record.get("time") is None:
        missing.append("time_ns")
    if missing:
        raise RecordError(f"missing {', '.join(missing)}")
    out: dict[str, Any] = {
        "device": _string(record, "device"),
        "sequence": _integer(record, "sequence"),
        "time_ns": _time_ns(record["time_ns"] if record.get("time_ns") is not None else record["time"]),
    }
    for key in ("gross_kg", "permitted_kg"):
        out[key] = kg(_number(record, key))
    out["overload"] = _boolean(record, "overload")
    out["overload_pct"] = kg(_number(record, "overload_pct"))
    out["stable"] = _boolean(record, "stable")
    out["quality"] = _string(record, "quality")
    return out


def link_of(record: Mapping[str, Any], key: str) -> str:
    """``prev_hash`` or ``record_hash`` of a record; RecordError unless 64 lowercase hex digits."""
    value = record.get(key)
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise RecordError(f"{key} is not 64 hex digits: {value!r}")
    return value


def _string(record: Mapping[str, Any], key: str) -> str:
    value = record[key]
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a string, got {value!r}")
    return value


def _boolean(record: Mapping[str, Any], key: str) -> bool:
    value = record[key]
    if not isinstance(value, bool):
        raise RecordError(f"{key} must be true or false, got {value!r}")
    return value


def _number(record: Mapping[str, Any], key: str) -> float:
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordError(f"{key} must be a finite number, got {value!r}")
    return float(value)


def _integer(record: Mapping[str, Any], key: str) -> int:
    value = record[key]
    # A JSON reader may hand back 7.0 for an integer field; anything fractional is not a sequence.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{key} must be an integer, got {value!r}")
    return value


def _time_ns(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        # datetime keeps microseconds only; InfluxDB returns up to nine fractional digits.
        match = _RFC3339.fullmatch(value.strip())
        if match:
            whole, fraction, zone = match.groups()
            seconds = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone)).timestamp()
            return int(seconds) * 1_000_000_000 + int((fraction or "").ljust(9, "0"))
    raise RecordError(f"time must be ns since the epoch or RFC 3339, got {value!r}")
