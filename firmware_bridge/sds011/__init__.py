"""Nova Fitness SDS011 PM2.5/PM10 laser dust sensor (see README.md in this folder)."""

from firmware_bridge.registry import DeviceFamily, SerialSettings, register
from firmware_bridge.sds011.codec import Sds011Decoder, encode_data_frame
from firmware_bridge.sds011.simulator import Sds011Simulator

FAMILY = register(
    DeviceFamily(
        name="sds011",
        measurement="air_quality",
        description="Nova Fitness SDS011 PM2.5/PM10 laser dust sensor, UART 9600 8N1, one frame per second",
        serial=SerialSettings(baudrate=9600, bytesize=8, parity="N", stopbits=1),
        new_decoder=Sds011Decoder,
        new_simulator=Sds011Simulator,
        transport="serial",
    )
)

__all__ = ["FAMILY", "Sds011Decoder", "Sds011Simulator", "encode_data_frame"]
