"""Plantower PMS5003 laser particle sensor (see README.md in this folder)."""

from firmware_bridge.pms5003.codec import Pms5003Decoder, encode_command, encode_frame
from firmware_bridge.pms5003.simulator import FAULTS, Pms5003Simulator
from firmware_bridge.registry import DeviceFamily, SerialSettings, register

FAMILY = register(
    DeviceFamily(
        name="pms5003",
        measurement="air_quality",
        description="Plantower PMS5003 PM1/PM2.5/PM10 and particle counts, UART 9600 8N1, 32-byte frames",
        serial=SerialSettings(baudrate=9600, bytesize=8, parity="N", stopbits=1),
        new_decoder=Pms5003Decoder,
        new_simulator=Pms5003Simulator,
        transport="serial",
    )
)

__all__ = ["FAMILY", "FAULTS", "Pms5003Decoder", "Pms5003Simulator", "encode_command", "encode_frame"]
