"""`ioc probe` for Modbus RTU: a slave says nothing until asked, so ask the usual unit ids."""

from __future__ import annotations

import threading

from pymodbus.exceptions import ModbusException

from firmware_bridge.modbus.bus import Bus, ExceptionResponseError
from firmware_bridge.modbus.options import BusAddress
from firmware_bridge.registry import SerialSettings

PROBE_UNITS = (1, 2, 3, 4, 5, 10, 247)  # factory defaults of sondes and analysers, then the last id


def probe_rtu(port: str, settings: SerialSettings, timeout_s: float) -> str | None:
    """Which unit ids answer a holding-register read at ``settings``, described; None if none."""
    bus = Bus(BusAddress("serial", port, 0, "rtu"), settings.baudrate, min(timeout_s, 0.5))
    answered: list[str] = []
    try:
        for unit in PROBE_UNITS:
            try:
                registers = bus.read(unit, "holding", 0, 1, retries=0, stop=threading.Event())
                answered.append(f"unit {unit} (register 0 = {registers[0] if registers else '?'})")
            except ExceptionResponseError:
                # A refusal is an answer: a slave with that id is there, register 0 is not in its map.
                answered.append(f"unit {unit} (refuses register 0)")
            except ModbusException:
                continue
    finally:
        bus.close()
    return f"Modbus RTU slave(s): {', '.join(answered)}" if answered else None
