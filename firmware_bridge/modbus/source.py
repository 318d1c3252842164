"""Polls one Modbus device: reads its register map on a shared bus, one Sample per poll."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable

from pymodbus.exceptions import ConnectionException, ModbusException

from firmware_bridge.modbus.bus import BUSES, Bus
from firmware_bridge.modbus.codec import registers_to_raw, scaled
from firmware_bridge.modbus.options import ModbusOptions, parse_port
from firmware_bridge.modbus.regmap import ReadBlock, Register, load_map, plan_reads
from firmware_bridge.registry import DeviceContext, Sample
from ioc.reading import FieldValue

DEFAULT_BAUDRATE = 9600  # water sondes and station analysers ship at 9600 8N1


class ModbusDeviceError(OSError):
    """A read that failed for one device; the message names the device, unit id and registers."""

    def __init__(self, device_id: str, unit: int, port: str, block: ReadBlock, reason: str) -> None:
        self.device_id, self.unit, self.address, self.reason = device_id, unit, block.address, reason
        super().__init__(
            f"device {device_id}, unit {unit} on {port}: reading {block.count} {block.function} "
            f"register(s) at {block.address:#06x} ({', '.join(r.field for r in block.registers)}): {reason}"
        )


def decode_block(block: ReadBlock, words: list[int]) -> dict[str, float]:
    """The field values of ``block`` from the words read for it; never raises on any word values."""
    values: dict[str, float] = {}
    for reg in block.registers:
        start = reg.address - block.address
        values[reg.field] = decode_register(reg, words[start : start + reg.width])
    return values


def decode_register(reg: Register, words: list[int]) -> float:
    raw = registers_to_raw(words, reg.type, reg.word_order, reg.byte_order)
    return scaled(raw, reg.type, reg.scale, reg.offset)


class ModbusSource:
    """The family's Source: ``run`` polls every ``poll_interval_s`` on wall-clock boundaries."""

    def __init__(self, ctx: DeviceContext, measurement: str) -> None:
        options = ctx.options
        if not isinstance(options, ModbusOptions):
            options = ModbusOptions.model_validate(options)
        self.ctx, self.options, self.measurement = ctx, options, measurement
        self.address = parse_port(ctx.port, options.framer)
        self.map = load_map(options.map, measurement)
        self.blocks = plan_reads(self.map.registers)
        self.dropped: Counter[str] = Counter()
        self.polls = 0

    def run(self, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        bus = BUSES.acquire(
            self.address, self.ctx.device_id, self.ctx.baudrate or DEFAULT_BAUDRATE, self.options.timeout_s
        )
        try:
            interval = self.ctx.poll_interval_s
            while not stop.is_set():
                started = time.time()
                sample = self.poll(bus, stop)
                if sample is None:
                    return
                if sample.fields:
                    emit(sample)
                # The next wall-clock multiple of the interval, at least half an interval away: every
                # device on a bus then polls on the same grid, and a slow read skips a slot, never drifts.
                next_slot = math.ceil((started + interval / 2) / interval) * interval
                stop.wait(min(max(next_slot - time.time(), 0.0), interval))
        finally:
            BUSES.release(bus, self.ctx.device_id)

    def poll(self, bus: Bus, stop: threading.Event) -> Sample | None:
        """One read of every register in the map; None if ``stop`` was set while waiting for the bus."""
        fields: dict[str, FieldValue] = {}
        for block in self.blocks:
            try:
                words = bus.read(
                    self.options.unit, block.function, block.address, block.count, self.options.retries, stop
                )
            except ModbusException as exc:
                raise ModbusDeviceError(
                    self.ctx.device_id, self.options.unit, self.address.key, block, _reason(exc)
                ) from exc
            if words is None:
                return None
            for name, value in decode_block(block, words).items():
                if math.isfinite(value):
                    fields[name] = value
                else:
                    # A probe that is unplugged or warming up reports NaN; InfluxDB cannot store it.
                    self.dropped["not_finite"] += 1
        self.polls += 1
        return Sample(fields=fields)


def _reason(exc: ModbusException) -> str:
    text = str(exc).removeprefix("Modbus Error: ")
    for tag in ("[Input/Output] ", "[Connection] "):
        text = text.removeprefix(tag)
    if isinstance(exc, ConnectionException):
        return f"cannot open the port / connect ({text.strip()})"
    if "No response received" in text:
        return "no response (timeout): wrong unit id, baud rate or wiring, or the device is off"
    if "Unable to decode" in text:
        return "unreadable reply: noise on the line, or two devices with one unit id"
    return text.strip()
