"""What ingest accepts: every reading of a message checked against the topic it came on, the
measurement dictionary and a plausible time window. Refusals become ``ingest_rejects`` points
(with the reason), so a bad gateway is visible on the wall and never takes a worker down."""

from __future__ import annotations

import threading
import time

from ioc import payload, topics
from ioc.measurements import check_reading
from ioc.reading import Reading

MAX_FUTURE_NS = 10 * 60 * 1_000_000_000  # gateway clocks drift; ten minutes ahead is a broken clock
MAX_AGE_NS = 400 * 24 * 3600 * 1_000_000_000  # a gateway's buffer may hold a long outage, not years

_clock_lock = threading.Lock()
_last_reject_ns = 0


def _unique_now_ns() -> int:
    # Two rejects of one device in the same nanosecond would be one point: keep their times apart.
    global _last_reject_ns
    with _clock_lock:
        _last_reject_ns = max(time.time_ns(), _last_reject_ns + 1)
        return _last_reject_ns


def reject(reasons: dict[str, int], topic: topics.Topic | None, reason: str, device: str = "-") -> Reading:
    kind = reason.split(":")[0]
    reasons[kind] = reasons.get(kind, 0) + 1
    tags = {
        "city": topic.city if topic else "-",
        "site": "-",
        "gateway": topic.gateway if topic else "-",
        "device": device,
    }
    return Reading("ingest_rejects", tags, {"reason": reason[:256], "count": 1}, _unique_now_ns())


def check_in_context(reading: Reading, topic: topics.Topic, now_ns: int) -> str | None:
    """Why ``reading`` cannot be stored as sent on ``topic``, or None."""
    problem = check_reading(reading)
    if problem:
        return problem
    if reading.tags.get("gateway") != topic.gateway:
        return "gateway tag differs from the topic's gateway"
    if reading.tags.get("city") != topic.city:
        return "city tag differs from the topic's city"
    if reading.time_ns > now_ns + MAX_FUTURE_NS:
        return f"timestamp {(reading.time_ns - now_ns) / 1e9:.0f} s in the future (gateway clock wrong?)"
    if reading.time_ns < now_ns - MAX_AGE_NS:
        return "timestamp more than 400 days old"
    return None


def message_to_readings(topic_name: str, data: bytes, reasons: dict[str, int]) -> tuple[list[Reading], int]:
    """Good readings of one message plus reject points for the rest; returns (points, rejected)."""
    topic = topics.parse(topic_name)
    if topic is None or topic.kind != "up":
        return [reject(reasons, None, f"not an ioc up topic: {topic_name[:100]}")], 1
    try:
        batch = payload.decode(data)
    except payload.PayloadError as exc:
        return [reject(reasons, topic, f"bad payload: {exc}")], 1
    if batch.gateway != topic.gateway:
        return [reject(reasons, topic, f"payload gateway {batch.gateway[:64]!r} differs from the topic's")], 1
    out = [reject(reasons, topic, f"bad reading #{index}: {reason}") for index, reason in batch.rejects]
    rejected = len(out)
    now = time.time_ns()
    for reading in batch.readings:
        problem = check_in_context(reading, topic, now)
        if problem is None:
            out.append(reading)
        else:
            out.append(
                reject(
                    reasons, topic, f"invalid reading: {problem}", str(reading.tags.get("device", "-"))[:64]
                )
            )
            rejected += 1
    return out, rejected
