"""The simulated intersection both simulators play: a 4-leg, 2-stage fixed-time controller.

Phases 2+6 serve the main street, 4+8 the side street, each with a pedestrian crossing. Time-of-day
plans as a Vietnamese city runs them (peaks 06:30–08:30 and 16:30–19:00, short night cycle), 3 s
yellow and 2 s all-red. A plan change takes effect at the end of the running cycle, as on a real
controller. ``snapshot()`` is what the controller shows now; ``expected()`` is the controller-level
sample a correct client must make of it, computed from the simulator's own knowledge.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from ioc.reading import FieldValue

VN_TZ: Final = timezone(timedelta(hours=7), "ICT")
MAIN: Final = (2, 6)
SIDE: Final = (4, 8)
PHASES: Final = (2, 4, 6, 8)
CONFLICTS: Final = ((2, 4), (2, 8), (6, 4), (6, 8))
YELLOW_S: Final = 3
ALL_RED_S: Final = 2
MIN_GREEN_S: Final = 10

FAULTS: Final = ("conflict", "flashing", "dark", "dropout", "manual", "alarm")

# Values of the NTCIP objects the simulator serves (see oids.py for their meaning).
CONTROL_TIMEBASE: Final = 6
CONTROL_MANUAL: Final = 5
FLASH_NONE: Final = 2
FLASH_FAULT_MONITOR: Final = 5
PATTERN_FLASH: Final = 255
ALARM_CRITICAL: Final = 0x01


@dataclass(frozen=True)
class Plan:
    number: int
    main_green_s: int
    side_green_s: int
    main_ped_clear_s: int = 10
    side_ped_clear_s: int = 8

    @property
    def cycle_s(self) -> int:
        return self.main_green_s + self.side_green_s + 2 * (YELLOW_S + ALL_RED_S)


PLANS: Final = {
    1: Plan(1, 45, 25),  # off-peak
    2: Plan(2, 60, 30),  # morning peak
    3: Plan(3, 55, 35),  # evening peak
    4: Plan(4, 30, 15, main_ped_clear_s=8, side_ped_clear_s=6),  # night
}
# (second of the local day the plan starts, plan number), in order.
SCHEDULE: Final = ((0, 4), (19800, 1), (23400, 2), (30600, 1), (59400, 3), (68400, 1), (79200, 4))


def plan_at(second_of_day: float) -> int:
    number = SCHEDULE[0][1]
    for start, plan in SCHEDULE:
        if second_of_day % 86400 >= start:
            number = plan
    return number


@dataclass(frozen=True)
class Snapshot:
    """What the controller shows at one instant."""

    plan: int  # coordPatternStatus
    unit_control: int  # unitControlStatus
    flash_status: int  # unitFlashStatus
    short_alarm: int  # shortAlarmStatus
    colours: dict[int, str]  # per phase: red, yellow, green, or "" for dark
    flashing: bool
    walks: frozenset[int] = field(default_factory=frozenset)
    ped_clears: frozenset[int] = field(default_factory=frozenset)
    vehicle_calls: frozenset[int] = field(default_factory=frozenset)
    ped_calls: frozenset[int] = field(default_factory=frozenset)

    @property
    def mode(self) -> str:
        if self.flashing:
            return "flashing"
        if not any(self.colours.values()):
            return "dark"
        return "manual" if self.unit_control == CONTROL_MANUAL else "auto"

    @property
    def faults(self) -> tuple[str, ...]:
        """The controller's own fault list (the MQTT payload's ``faults``)."""
        names = []
        if self.short_alarm & ALARM_CRITICAL:
            names.append("critical_alarm")
        if self.flash_status == FLASH_FAULT_MONITOR:
            names.append("fault_flash")
        return tuple(names)

    def expected(self) -> dict[str, FieldValue]:
        """The controller-level sample fields (decode.py's fault numbering)."""
        right_of_way = {
            p for p, c in self.colours.items() if c == "green" or (c == "yellow" and not self.flashing)
        }
        pairs = sorted({tuple(sorted(p)) for p in CONFLICTS if set(p) <= right_of_way})
        fault = (1 if pairs else 0) | (4 if self.short_alarm & ALARM_CRITICAL else 0)
        fault |= (8 if self.flash_status == FLASH_FAULT_MONITOR else 0) | (16 if self.mode == "dark" else 0)
        return {
            "mode": self.mode,
            "plan": self.plan,
            "fault": fault,
            "conflict": bool(pairs),
            "conflict_groups": ",".join(f"{a}+{b}" for a, b in pairs),
        }


def local_second_of_day(now: datetime | None = None) -> float:
    now = (now or datetime.now(UTC)).astimezone(VN_TZ)
    return now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6


class SignalController:
    """Advances simulated time in steps and tells what the controller shows."""

    def __init__(self, rng: random.Random, start_s: float | None = None) -> None:
        self.rng = rng
        self.fault: str | None = None
        self.clock_s = local_second_of_day() if start_s is None else float(start_s)
        self.plan = PLANS[plan_at(self.clock_s)]
        self.cycle_start_s = self.clock_s
        self.ticks = 0
        self.vehicle_calls: set[int] = set()
        self.ped_calls: set[int] = set()

    def advance(self, seconds: float) -> None:
        self.clock_s += seconds
        self.ticks += 1
        while self.clock_s - self.cycle_start_s >= self.plan.cycle_s:
            self.cycle_start_s += self.plan.cycle_s
            self.plan = PLANS[plan_at(self.cycle_start_s)]
        colours = self._normal_colours()
        for phase, colour in colours.items():
            if colour == "green":
                self.vehicle_calls.discard(phase)
            elif self.rng.random() < 0.4:  # vehicles arrive on the detector loops while red
                self.vehicle_calls.add(phase)
            if phase in self._walks() or colour == "green":
                self.ped_calls.discard(phase)
            elif self.rng.random() < 0.15:  # someone presses the push button
                self.ped_calls.add(phase)

    def _offset(self) -> float:
        return self.clock_s - self.cycle_start_s

    def _normal_colours(self) -> dict[int, str]:
        p, t = self.plan, self._offset()
        side_start = p.main_green_s + YELLOW_S + ALL_RED_S
        main = side = "red"
        if t < p.main_green_s:
            main = "green"
        elif t < p.main_green_s + YELLOW_S:
            main = "yellow"
        elif side_start <= t < side_start + p.side_green_s:
            side = "green"
        elif side_start + p.side_green_s <= t < side_start + p.side_green_s + YELLOW_S:
            side = "yellow"
        return {2: main, 6: main, 4: side, 8: side}

    def _walks(self) -> frozenset[int]:
        p, t = self.plan, self._offset()
        side_start = p.main_green_s + YELLOW_S + ALL_RED_S
        if t < p.main_green_s - p.main_ped_clear_s:
            return frozenset(MAIN)
        if side_start <= t < side_start + p.side_green_s - p.side_ped_clear_s:
            return frozenset(SIDE)
        return frozenset()

    def _ped_clears(self) -> frozenset[int]:
        p, t = self.plan, self._offset()
        side_start = p.main_green_s + YELLOW_S + ALL_RED_S
        if p.main_green_s - p.main_ped_clear_s <= t < p.main_green_s:
            return frozenset(MAIN)
        if side_start + p.side_green_s - p.side_ped_clear_s <= t < side_start + p.side_green_s:
            return frozenset(SIDE)
        return frozenset()

    def snapshot(self) -> Snapshot:
        fault = self.fault
        colours = self._normal_colours()
        walks, ped_clears = self._walks(), self._ped_clears()
        plan, control, flash, alarm, flashing = self.plan.number, CONTROL_TIMEBASE, FLASH_NONE, 0, False
        if fault == "conflict":
            # A failed load switch: phase 4's green follows phase 2's while the main street has right of way.
            if colours[2] in ("green", "yellow"):
                colours[4] = colours[2]
        elif fault == "flashing":
            # The conflict monitor has put the cabinet into flash: main flashes yellow, side red.
            on = self.ticks % 2 == 0
            colours = {p: ("yellow" if p in MAIN else "red") if on else "" for p in PHASES}
            walks = ped_clears = frozenset()
            plan, flash, flashing = PATTERN_FLASH, FLASH_FAULT_MONITOR, True
        elif fault == "dark":
            colours = dict.fromkeys(PHASES, "")
            walks = ped_clears = frozenset()
        elif fault == "manual":
            control = CONTROL_MANUAL  # a traffic police officer runs the intersection from the cabinet
        elif fault == "alarm":
            alarm = ALARM_CRITICAL
        return Snapshot(
            plan=plan,
            unit_control=control,
            flash_status=flash,
            short_alarm=alarm,
            colours=colours,
            flashing=flashing,
            walks=walks,
            ped_clears=ped_clears,
            vehicle_calls=frozenset(self.vehicle_calls),
            ped_calls=frozenset(self.ped_calls),
        )
