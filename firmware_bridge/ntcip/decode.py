"""Signal controller status → ``traffic_signal`` samples: phase states, mode, plan, conflict check.

Pure functions, no I/O, shared by the SNMP (NTCIP 1202) and the MQTT JSON families. Nothing here
raises on any integer input: a controller that reports nonsense is a fault to show, not a crash.

Fault code (controller-level field ``fault``, a bitmask):
  1  conflict      green (or, outside flash, yellow) on both phases of a configured conflicting pair
  2  inconsistent  a phase reports more than one colour at once (e.g. red and green bits)
  4  alarm         the controller reports a critical alarm (shortAlarmStatus bit 0, or a JSON fault)
  8  fault_flash   the cabinet is in flash because its fault monitor / MMU put it there
 16  dark          not flashing and no configured phase shows any colour
 32  minor_alarm   the controller reports a non-critical alarm (shortAlarmStatus bit 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from firmware_bridge.ntcip.oids import group_of, status_key
from firmware_bridge.registry import Sample
from ioc.reading import FieldValue

FAULT_CONFLICT: Final = 1
FAULT_INCONSISTENT: Final = 2
FAULT_ALARM: Final = 4
FAULT_FLASH: Final = 8
FAULT_DARK: Final = 16
FAULT_MINOR_ALARM: Final = 32

Mode = Literal["auto", "manual", "flashing", "dark"]
MODES: Final[tuple[str, ...]] = ("auto", "manual", "flashing", "dark")
COLOURS: Final[tuple[str, ...]] = ("red", "yellow", "green")  # least to most permissive
CONTROLLER: Final = "controller"  # signal_group tag of the controller-level sample
MAX_GROUPS_TEXT: Final = 250  # the dictionary allows string fields up to 256 characters

UNIT_CONTROL_MANUAL: Final = 5
FLASH_NOT_FLASH: Final = 2
FLASHING_STATUSES: Final = frozenset(range(3, 9))  # automatic … preempt
FAULT_FLASH_STATUSES: Final = frozenset({5, 6})  # faultMonitor, mmu
PATTERN_FLASH: Final = 255
ALARM_CRITICAL_BIT: Final = 0x01
ALARM_MINOR_BIT: Final = 0x02


@dataclass(frozen=True, slots=True)
class PhaseReport:
    """One phase as the controller reports it, before the conflict check."""

    phase: int
    colours: frozenset[str]  # subset of COLOURS; empty = dark
    flashing: bool = False
    walk: bool = False
    ped_clear: bool = False
    vehicle_call: bool = False
    ped_call: bool = False

    @property
    def inconsistent(self) -> bool:
        return len(self.colours) > 1

    @property
    def state(self) -> str:
        if self.flashing:
            return "flashing"
        # Two colours at once: report the most permissive one, the one that is dangerous if true.
        for colour in reversed(COLOURS):
            if colour in self.colours:
                return colour
        return "dark"

    @property
    def active(self) -> bool:
        """Shows right of way. Flashing yellow is not: in flash (and Vietnam's night "nháy vàng" mode)
        every approach may flash yellow together; a green is a conflict whatever the mode."""
        return "green" in self.colours or ("yellow" in self.colours and not self.flashing)


def decode_mode(
    unit_control: int | None, flash_status: int | None, pattern: int | None, any_colour: bool
) -> Mode:
    if (flash_status is not None and flash_status in FLASHING_STATUSES) or pattern == PATTERN_FLASH:
        return "flashing"
    if not any_colour:
        return "dark"
    if unit_control == UNIT_CONTROL_MANUAL:
        return "manual"
    return "auto"


def conflicting_pairs(reports: Iterable[PhaseReport], conflicts: Iterable[tuple[int, int]]) -> list[str]:
    """Each configured pair whose two phases both have right of way, as "a+b" with a < b, sorted."""
    active = {r.phase for r in reports if r.active}
    pairs = {tuple(sorted(pair)) for pair in conflicts if pair[0] in active and pair[1] in active}
    return [f"{a}+{b}" for a, b in sorted(pairs)]


def _join_pairs(pairs: list[str]) -> str:
    """Pairs joined with commas, cut short with ",…" before the dictionary's string limit."""
    text = ""
    for pair in pairs:
        longer = f"{text},{pair}" if text else pair
        if len(longer) > MAX_GROUPS_TEXT:
            return f"{text},…"
        text = longer
    return text


def evaluate(
    reports: Sequence[PhaseReport],
    *,
    mode: Mode,
    plan: int | None,
    conflicts: Iterable[tuple[int, int]],
    reported_faults: int = 0,
    time_ns: int | None = None,
) -> list[Sample]:
    """One sample per phase plus the controller-level sample (last)."""
    pairs = conflicting_pairs(reports, conflicts)
    fault = reported_faults
    if pairs:
        fault |= FAULT_CONFLICT
    if any(r.inconsistent for r in reports):
        fault |= FAULT_INCONSISTENT
    if mode == "dark":
        fault |= FAULT_DARK
    common: dict[str, FieldValue] = {"mode": mode}
    if plan is not None:
        common["plan"] = plan
    samples = [
        Sample(
            {
                "state": r.state,
                "walk": r.walk,
                "ped_clear": r.ped_clear,
                "vehicle_call": r.vehicle_call,
                "ped_call": r.ped_call,
                **common,
            },
            tags={"signal_group": str(r.phase)},
            time_ns=time_ns,
            quality="bad" if r.inconsistent else "good",
        )
        for r in reports
    ]
    controller: dict[str, FieldValue] = {
        **common,
        "fault": fault,
        "conflict": bool(pairs),
        "conflict_groups": _join_pairs(pairs),
    }
    bad = fault & (FAULT_CONFLICT | FAULT_INCONSISTENT)
    samples.append(
        Sample(
            controller, tags={"signal_group": CONTROLLER}, time_ns=time_ns, quality="bad" if bad else "good"
        )
    )
    return samples


def _bit(values: Mapping[str, int], column: str, group: int, bit: int) -> bool:
    return bool(values.get(status_key(column, group), 0) >> bit & 1)


def phase_reports(values: Mapping[str, int], phases: Iterable[int], flashing: bool) -> list[PhaseReport]:
    """Phase reports from NTCIP phase status group bitmasks keyed ``"<column>.<group>"`` (see oids)."""
    reports = []
    for phase in phases:
        group, bit = group_of(phase)
        colours = frozenset(c for c in COLOURS if _bit(values, f"{c}s", group, bit))
        reports.append(
            PhaseReport(
                phase,
                colours,
                flashing=flashing,
                walk=_bit(values, "walks", group, bit),
                ped_clear=_bit(values, "ped_clears", group, bit),
                vehicle_call=_bit(values, "vehicle_calls", group, bit),
                ped_call=_bit(values, "ped_calls", group, bit),
            )
        )
    return reports


def decode_ntcip(
    values: Mapping[str, int],
    phases: Sequence[int],
    conflicts: Iterable[tuple[int, int]],
    time_ns: int | None = None,
) -> list[Sample]:
    """Samples from one poll: ``values`` maps ``"<column>.<group>"`` (e.g. ``"greens.1"``) and the
    scalar names of ``oids.SCALARS`` to integers; a missing key means the object was not read."""
    flash_status = values.get("unitFlashStatus")
    pattern = values.get("coordPatternStatus")
    alarms = values.get("shortAlarmStatus") or 0
    any_colour = any(_bit(values, f"{c}s", *group_of(p)) for p in phases for c in COLOURS)
    mode = decode_mode(values.get("unitControlStatus"), flash_status, pattern, any_colour)
    faults = 0
    if alarms & ALARM_CRITICAL_BIT:
        faults |= FAULT_ALARM
    if alarms & ALARM_MINOR_BIT:
        faults |= FAULT_MINOR_ALARM
    if flash_status in FAULT_FLASH_STATUSES:
        faults |= FAULT_FLASH
    plan = pattern if pattern is not None and 0 <= pattern <= 255 else None
    reports = phase_reports(values, phases, flashing=mode == "flashing")
    return evaluate(
        reports, mode=mode, plan=plan, conflicts=conflicts, reported_faults=faults, time_ns=time_ns
    )
