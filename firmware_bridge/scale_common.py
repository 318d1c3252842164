"""What the weigh-scale families (xk3190, toledo, and-ascii) share: unit conversion, 7-bit line
handling, and the simulated weigh station their simulators play.

Scale indicators are 7-bit ASCII devices, often configured 7E1. A port opened at 8N1 on a 7E1 line
still frames every character (both are 10 bits long) but hands the parity bit over as bit 7, so the
codecs clear bit 7 first: the same decoder then works whichever of the two the technician picked.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from random import Random

from firmware_bridge.pty_simulator import GENERIC_FAULTS, PtySimulator
from ioc.reading import FieldValue

_MASK7 = bytes(b & 0x7F for b in range(256))
_EVEN_PARITY = bytes((b & 0x7F) | ((bin(b & 0x7F).count("1") & 1) << 7) for b in range(256))

# Exact factors: weights go through Decimal so that 48.000 t is exactly 48000.0 kg, not 47999.99….
UNIT_TO_KG: dict[str, Decimal] = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "t": Decimal(1000),
    "lb": Decimal("0.45359237"),
}

SCALE_FAULTS: tuple[str, ...] = (*GENERIC_FAULTS, "stuck", "overload")

# Vietnamese permitted gross weights (Thông tư 46/2015/TT-BGTVT) by vehicle class, with how often
# each class crosses a provincial weigh station.
TRUCK_CLASSES: tuple[tuple[str, float, tuple[int, ...]], ...] = (
    ("2-axle truck", 0.35, (16_000,)),
    ("3-axle truck", 0.25, (24_000,)),
    ("4-axle truck", 0.15, (30_000,)),
    ("container semi-trailer", 0.25, (40_000, 44_000, 48_000)),
)
# Phase lengths in seconds at speedup 1: (min, max).
IDLE_S = (5.0, 20.0)
DRIVE_ON_S = (3.0, 6.0)
SETTLED_S = (5.0, 10.0)
DRIVE_OFF_S = (2.0, 5.0)


def strip_parity(data: bytes | bytearray) -> bytes:
    """``data`` with bit 7 cleared on every byte (see the module docstring)."""
    return bytes(data).translate(_MASK7)


def add_even_parity(data: bytes) -> bytes:
    """7-bit ``data`` as a 7E1 device's characters look to a port opened at 8N1."""
    return data.translate(_EVEN_PARITY)


def to_kg(raw: int, decimals: int, unit: str = "kg") -> float:
    """The weight ``raw`` × 10^-decimals ``unit`` in kg; ``decimals`` may be negative (dummy zeros)."""
    kg = float(Decimal(raw).scaleb(-decimals) * UNIT_TO_KG[unit])
    return kg + 0.0  # -0.0 (a "-0" on the display) becomes 0.0


@dataclass(frozen=True, slots=True)
class ScaleState:
    """What the indicator shows at one instant."""

    weight_kg: int  # a multiple of the division; negative while a bouncing truck rolls off
    motion: bool
    overload: bool  # above the scale's capacity


class WeighStation:
    """A weighbridge: empty most of the time; a truck drives on (rising weight, motion), stands still
    (stable gross weight), drives off. ``trucks`` is the ground truth: (time_ns when the weight
    became stable, gross kg) per truck, for checking one weighing per truck downstream.
    """

    def __init__(
        self,
        rng: Random,
        *,
        interval_s: float,
        division_kg: int = 20,
        capacity_kg: int = 100_000,
        speedup: float = 1.0,
    ) -> None:
        if division_kg <= 0 or capacity_kg <= division_kg:
            raise ValueError(f"need 0 < division_kg < capacity_kg, not {division_kg}, {capacity_kg}")
        if speedup <= 0:
            raise ValueError(f"speedup must be positive, not {speedup}")
        self.rng = rng
        self.interval_s = interval_s
        self.division_kg = division_kg
        self.capacity_kg = capacity_kg
        self.speedup = speedup
        self.overloaded = False  # while True, arriving trucks carry 10–60 % more than permitted
        self.trucks: list[tuple[int, float]] = []
        self._phase = "idle"
        self._gross = 0
        self._length = self._left = self._ticks(IDLE_S)

    def _ticks(self, span: tuple[float, float]) -> int:
        return max(1, round(self.rng.uniform(*span) / self.speedup / self.interval_s))

    def _quantize(self, kg: float) -> int:
        return round(kg / self.division_kg) * self.division_kg

    def _next_phase(self) -> None:
        if self._phase == "idle":
            self._phase, span = "on", DRIVE_ON_S
            r, chosen = self.rng.random(), TRUCK_CLASSES[-1]
            for truck_class in TRUCK_CLASSES:
                r -= truck_class[1]
                if r < 0:
                    chosen = truck_class
                    break
            permitted = self.rng.choice(chosen[2])
            load = self.rng.uniform(1.10, 1.60) if self.overloaded else self.rng.uniform(0.45, 1.0)
            self._gross = self._quantize(permitted * load)
        elif self._phase == "on":
            self._phase, span = "settled", SETTLED_S
        elif self._phase == "settled":
            self._phase, span = "off", DRIVE_OFF_S
        else:
            self._phase, span = "idle", IDLE_S
        self._length = self._left = self._ticks(span)

    def step(self) -> ScaleState:
        """The next display update (one per frame)."""
        if self._left <= 0:
            self._next_phase()
        self._left -= 1
        progress = 1.0 - self._left / self._length  # in (0, 1]
        gross, motion = self._gross, True
        if self._phase == "idle":
            weight, motion = 0, False
        elif self._phase == "settled":
            weight, motion = gross, False
            if self._left == self._length - 1:
                self.trucks.append((time.time_ns(), float(gross)))
        else:
            # Axles roll on (or off) one by one and the deck bounces; the bounce dies out at the end.
            share = min(1.0, progress * 1.15) if self._phase == "on" else max(0.0, 1.0 - progress * 1.15)
            bounce = self.rng.gauss(0.0, 0.03 * gross * (1.0 - progress) + self.division_kg)
            weight = self._quantize(gross * share + bounce)
        return ScaleState(weight, motion, weight > self.capacity_kg)


class ScaleSimulator(PtySimulator):
    """A scale indicator in continuous output on a pty, showing a ``WeighStation``.

    Keywords beyond the common ones: ``division_kg`` (display step), ``capacity_kg``, ``speedup``
    (divides every phase length: a test can play many trucks quickly), ``line_parity`` (send bit 7
    as even parity, as a 7E1 indicator looks to a port opened at 8N1). Faults: "dropout",
    "garbage", "stuck" (the same frame over and over while trucks keep coming), "overload" (the
    next trucks are loaded 10–60 % over their permitted gross weight).
    """

    faults = SCALE_FAULTS

    def __init__(
        self,
        *,
        interval_s: float = 0.1,
        seed: int | None = None,
        noise: float = 0.0,
        division_kg: int = 20,
        capacity_kg: int = 100_000,
        speedup: float = 1.0,
        line_parity: bool = False,
    ) -> None:
        super().__init__(interval_s=interval_s, seed=seed, noise=noise)
        self.station = WeighStation(
            self.rng, interval_s=interval_s, division_kg=division_kg, capacity_kg=capacity_kg, speedup=speedup
        )
        self.line_parity = line_parity
        self._last: tuple[bytes, dict[str, FieldValue]] | None = None

    @property
    def trucks(self) -> list[tuple[int, float]]:
        """(time_ns when the weight became stable, gross kg) of every truck that stood on the scale."""
        return self.station.trucks

    @abstractmethod
    def encode(self, state: ScaleState) -> tuple[bytes, dict[str, FieldValue]]:
        """The 7-bit frame showing ``state`` and the fields a decoder must make of it."""

    def next_frame(self) -> tuple[bytes, dict[str, FieldValue]]:
        self.station.overloaded = self.fault == "overload"
        state = self.station.step()  # the world goes on even when the indicator is stuck
        if self.fault == "stuck" and self._last is not None:
            return self._last[0], dict(self._last[1])
        frame, fields = self.encode(state)
        if self.line_parity:
            frame = add_even_parity(frame)
        self._last = (frame, fields)
        return frame, dict(fields)

    def random_bytes(self, count: int, banned: bytes) -> bytes:
        """``count`` random bytes none of which is, with bit 7 cleared, one of ``banned``."""
        choices = [b for b in range(256) if (b & 0x7F) not in banned]
        return bytes(self.noise_rng.choice(choices) for _ in range(count))
