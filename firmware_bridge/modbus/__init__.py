"""Modbus devices: water-quality sondes and air-quality stations read through register maps.

Two families share this package and differ only in the measurement their maps fill:
``modbus-water`` (water_quality) and ``modbus-air`` (air_quality). See README.md.
"""

from __future__ import annotations

from functools import partial

from firmware_bridge.modbus.bus import BUSES
from firmware_bridge.modbus.options import ModbusOptions
from firmware_bridge.modbus.probe import probe_rtu
from firmware_bridge.modbus.regmap import MapError, load_map, shipped_maps
from firmware_bridge.modbus.simulator import FAULTS, ModbusSimulator
from firmware_bridge.modbus.source import ModbusDeviceError, ModbusSource
from firmware_bridge.registry import DeviceContext, DeviceFamily, SerialSettings, register

WATER = "water_quality"
AIR = "air_quality"


def _water_source(ctx: DeviceContext) -> ModbusSource:
    return ModbusSource(ctx, WATER)


def _air_source(ctx: DeviceContext) -> ModbusSource:
    return ModbusSource(ctx, AIR)


WATER_FAMILY = register(
    DeviceFamily(
        name="modbus-water",
        measurement=WATER,
        description="Water-quality sondes and probes over Modbus RTU/TCP, read through a register map",
        new_simulator=partial(ModbusSimulator, measurement=WATER),
        transport="modbus",
        serial=SerialSettings(baudrate=9600, bytesize=8, parity="N", stopbits=1),
        new_source=_water_source,
        options=ModbusOptions,
        probe=probe_rtu,  # one Modbus probe for both families: it cannot tell a sonde from an analyser
    )
)

AIR_FAMILY = register(
    DeviceFamily(
        name="modbus-air",
        measurement=AIR,
        description="Gas analysers and multi-parameter air stations over Modbus RTU/TCP, via a register map",
        new_simulator=partial(ModbusSimulator, measurement=AIR),
        transport="modbus",
        serial=SerialSettings(baudrate=9600, bytesize=8, parity="N", stopbits=1),
        new_source=_air_source,
        options=ModbusOptions,
    )
)

__all__ = [
    "AIR_FAMILY",
    "BUSES",
    "FAULTS",
    "WATER_FAMILY",
    "MapError",
    "ModbusDeviceError",
    "ModbusOptions",
    "ModbusSimulator",
    "ModbusSource",
    "load_map",
    "shipped_maps",
]
