"""The vendor-neutral JSON status a controller publishes over MQTT, and its decoder.

    {"ts": "2026-01-15T08:30:00.120+07:00", "plan": 3, "mode": "auto",
     "groups": {"2": "green", "4": "red", "6": "green", "8": "red"},
     "walk": {"2": true}, "ped_clear": {}, "vehicle_call": {"4": true}, "ped_call": {},
     "faults": []}

Required: ``mode`` and ``groups``; the rest is optional. Unknown keys are ignored (vendors add
their own). ``TscStatusDecoder.decode`` never raises: a payload it cannot use is dropped whole
and counted in ``dropped`` by reason.
"""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from firmware_bridge.ntcip.decode import (
    COLOURS,
    FAULT_ALARM,
    FAULT_FLASH,
    FAULT_MINOR_ALARM,
    MODES,
    PhaseReport,
    evaluate,
)
from firmware_bridge.ntcip.signal_plan import VN_TZ
from firmware_bridge.registry import Sample

GROUP_STATES: Final = ("red", "yellow", "green", "dark", "flashing")
FLAGS: Final = ("walk", "ped_clear", "vehicle_call", "ped_call")
# Fault names with a meaning of their own; any other name the controller reports counts as an alarm.
KNOWN_FAULTS: Final = {
    "critical_alarm": FAULT_ALARM,
    "fault_flash": FAULT_FLASH,
    "minor_alarm": FAULT_MINOR_ALARM,
}
_GROUP_ID = re.compile(r"[0-9]{1,3}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_YEAR = 2261  # InfluxDB's ns timestamps end in 2262


class _Drop(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _group_id(key: str, reason: str) -> int:
    if not _GROUP_ID.fullmatch(key) or not 1 <= int(key) <= 255:
        raise _Drop(reason)
    return int(key)


def _time_ns(value: Any) -> int:
    if not isinstance(value, str):
        raise _Drop("bad_ts")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _Drop("bad_ts") from None
    # A time without an offset is ambiguous (controller clocks are set to UTC or to local time).
    if when.tzinfo is None or not 1970 <= when.year <= _MAX_YEAR:
        raise _Drop("bad_ts")
    delta = when - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _flags(doc: dict[str, Any], name: str) -> dict[int, bool]:
    raw = doc.get(name, {})
    if not isinstance(raw, dict) or not all(isinstance(v, bool) for v in raw.values()):
        raise _Drop("bad_flags")
    return {_group_id(k, "bad_flags"): v for k, v in raw.items()}


class TscStatusDecoder:
    """JSON status → ``traffic_signal`` samples, with the conflict check of ``conflicts``."""

    def __init__(self, conflicts: Iterable[tuple[int, int]] = ()) -> None:
        self.conflicts = list(conflicts)
        self.dropped: collections.Counter[str] = collections.Counter()
        self.decoded = 0

    def decode(self, payload: bytes) -> list[Sample]:
        try:
            samples = self._decode(payload)
        except _Drop as drop:
            self.dropped[drop.reason] += 1
            return []
        self.decoded += 1
        return samples

    def _decode(self, payload: bytes) -> list[Sample]:
        try:
            doc = json.loads(payload)
        except (ValueError, RecursionError):  # bad UTF-8 or JSON; absurdly deep nesting
            raise _Drop("not_json") from None
        if not isinstance(doc, dict):
            raise _Drop("not_object")
        time_ns = _time_ns(doc["ts"]) if "ts" in doc else None
        mode = doc.get("mode")
        if mode not in MODES:
            raise _Drop("bad_mode")
        plan = doc.get("plan")
        if plan is not None and (type(plan) is not int or not 0 <= plan <= 255):
            raise _Drop("bad_plan")
        groups = doc.get("groups")
        if not isinstance(groups, dict):
            raise _Drop("bad_groups")
        states = {_group_id(k, "bad_groups"): v for k, v in groups.items()}
        if not all(isinstance(v, str) and v in GROUP_STATES for v in states.values()):
            raise _Drop("bad_state")
        flags = {name: _flags(doc, name) for name in FLAGS}
        faults = doc.get("faults", [])
        if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
            raise _Drop("bad_faults")
        reported = 0
        for name in faults:
            reported |= KNOWN_FAULTS.get(name, FAULT_ALARM)
        reports = [
            PhaseReport(
                phase,
                frozenset({state}) & frozenset(COLOURS),
                flashing=state == "flashing" or mode == "flashing",
                walk=flags["walk"].get(phase, False),
                ped_clear=flags["ped_clear"].get(phase, False),
                vehicle_call=flags["vehicle_call"].get(phase, False),
                ped_call=flags["ped_call"].get(phase, False),
            )
            for phase, state in sorted(states.items())
        ]
        return evaluate(
            reports,
            mode=mode,
            plan=plan,
            conflicts=self.conflicts,
            reported_faults=reported,
            time_ns=time_ns,
        )


def encode_status(
    *,
    time_ns: int,
    mode: str,
    plan: int | None,
    groups: dict[int, str],
    flags: dict[str, Iterable[int]],
    faults: Iterable[str] = (),
) -> bytes:
    """A status payload as a controller publishes it (used by the simulator and the tests)."""
    when = _EPOCH + timedelta(microseconds=time_ns // 1000)
    ts = when.astimezone(VN_TZ).isoformat(timespec="milliseconds")
    doc: dict[str, Any] = {"ts": ts, "mode": mode}
    if plan is not None:
        doc["plan"] = plan
    doc["groups"] = {str(p): s for p, s in sorted(groups.items())}
    for name in FLAGS:
        on = set(flags.get(name, ()))
        doc[name] = {str(p): p in on for p in sorted(groups)}
    doc["faults"] = list(faults)
    return json.dumps(doc, separators=(",", ":")).encode()
