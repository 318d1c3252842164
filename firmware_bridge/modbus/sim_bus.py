"""The simulated slaves of one bus: their registers, faults and a log of the traffic they saw.

Both servers (Modbus TCP via pymodbus, RTU on a pty) answer from this one model, so the values,
faults and logs behave the same whichever way a client connects. Thread-safe: values are updated
by the simulator's ticker thread while a server thread answers.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pymodbus.constants import ExcCodes

from firmware_bridge.modbus.codec import raw_to_registers, unscaled
from firmware_bridge.modbus.regmap import RegisterMap, load_map
from firmware_bridge.modbus.source import decode_register
from firmware_bridge.modbus.values import ValueModel
from ioc.reading import FieldValue

FAULTS = ("dropout", "garbage", "stuck", "exception")
_TABLE = {3: "holding", 4: "input"}


@dataclass(frozen=True)
class BusEvent:
    """One request a slave received, or one reply it sent (``detail``: ok, exception, garbage)."""

    time_ns: int
    kind: Literal["request", "reply"]
    unit: int
    function: int
    address: int = 0
    count: int = 0
    detail: str = ""


class SimulatedUnit:
    def __init__(self, unit: int, map_name: str, regmap: RegisterMap, rng: random.Random) -> None:
        self.unit, self.map_name, self.map = unit, map_name, regmap
        self.model = ValueModel(regmap.measurement, regmap.fields, rng)
        self.words: dict[tuple[str, int], int] = {}
        self.fault: str | None = None
        for reg in regmap.registers:
            for i in range(reg.width):
                self.words[(reg.function, reg.address + i)] = 0

    def update(self, now: float) -> dict[str, FieldValue]:
        """New values into the registers; returns the fields exactly as a client decodes them."""
        values = self.model.step(now)
        fields: dict[str, FieldValue] = {}
        for reg in self.map.registers:
            raw = unscaled(values[reg.field], reg.type, reg.scale, reg.offset)
            words = raw_to_registers(raw, reg.type, reg.word_order, reg.byte_order)
            for i, word in enumerate(words):
                self.words[(reg.function, reg.address + i)] = word
            fields[reg.field] = decode_register(reg, words)
        return fields


class SimulatedBus:
    def __init__(
        self, measurement: str, units: Mapping[int, str], seed: int | None = None, noise: float = 0.0
    ) -> None:
        if not units:
            raise ValueError("a simulated bus needs at least one unit")
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"noise is a probability per reply (0..1), not {noise}")
        self.rng = random.Random(seed)
        self.noise = noise
        self.noise_rng = random.Random(None if seed is None else f"noise:{seed}")
        self.units: dict[int, SimulatedUnit] = {}
        for unit, map_name in sorted(units.items()):
            if not 1 <= unit <= 247:
                raise ValueError(f"unit ids are 1..247, not {unit}")
            self.units[unit] = SimulatedUnit(unit, map_name, load_map(map_name, measurement), self.rng)
        self.emitted: list[tuple[int, dict[str, FieldValue]]] = []
        self.emitted_by_unit: dict[int, list[tuple[int, dict[str, FieldValue]]]] = {u: [] for u in self.units}
        self.events: list[BusEvent] = []
        self._lock = threading.Lock()

    def set_fault(self, name: str | None, unit: int | None = None) -> None:
        if name is not None and name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        if unit is not None and unit not in self.units:
            raise ValueError(f"no unit {unit} on this bus; units: {sorted(self.units)}")
        with self._lock:
            for u in [unit] if unit is not None else list(self.units):
                self.units[u].fault = name

    def fault(self, unit: int) -> str | None:
        return self.units[unit].fault if unit in self.units else None

    def tick(self, now: float | None = None) -> None:
        """Advance every unit's values one interval (a stuck unit keeps its old ones)."""
        now = time.time() if now is None else now
        with self._lock:
            for unit in self.units.values():
                if unit.fault == "stuck":
                    continue
                fields = unit.update(now)
                entry = (time.time_ns(), fields)
                self.emitted.append(entry)
                self.emitted_by_unit[unit.unit].append(entry)

    def read(self, unit: int, function_code: int, address: int, count: int) -> list[int] | ExcCodes | None:
        """What ``unit`` answers to a read: words, an exception code, or None for silence."""
        with self._lock:
            slave = self.units.get(unit)
            if slave is None or slave.fault == "dropout":
                return None
            if slave.fault == "exception":
                return ExcCodes.DEVICE_FAILURE
            table = _TABLE.get(function_code)
            if table is None:
                return ExcCodes.ILLEGAL_FUNCTION
            keys = [(table, address + i) for i in range(count)]
            if not keys or any(key not in slave.words for key in keys):
                return ExcCodes.ILLEGAL_ADDRESS
            return [slave.words[key] for key in keys]

    def garble(self, unit: int) -> bool:
        """Whether this reply is to be corrupted: the unit's ``garbage`` fault, or line noise."""
        with self._lock:
            if unit in self.units and self.units[unit].fault == "garbage":
                return True
            return bool(self.noise) and self.noise_rng.random() < self.noise

    def log(
        self, kind: Literal["request", "reply"], unit: int, function: int, *args: int, detail: str = ""
    ) -> None:
        with self._lock:
            self.events.append(BusEvent(time.time_ns(), kind, unit, function, *args, detail=detail))
