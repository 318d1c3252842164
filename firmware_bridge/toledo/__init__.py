"""Mettler Toledo standard continuous output (see README.md in this folder)."""

from firmware_bridge.registry import DeviceFamily, SerialSettings, register
from firmware_bridge.toledo.codec import ToledoDecoder, encode_frame
from firmware_bridge.toledo.simulator import FAULTS, ToledoSimulator
from firmware_bridge.weighing import WeighingOptions, new_weighing_processor

FAMILY = register(
    DeviceFamily(
        name="toledo",
        measurement="scale",
        description="Mettler Toledo standard continuous output (and compatibles), RS-232 9600 7E1",
        serial=SerialSettings(baudrate=9600, bytesize=7, parity="E", stopbits=1),
        new_decoder=ToledoDecoder,
        new_simulator=ToledoSimulator,
        transport="serial",
        # Live weights go to `scale`; the processor turns each vehicle into one `weighing`.
        new_processor=new_weighing_processor,
        options=WeighingOptions,
        demo_kwargs={"interval_s": 0.1, "speedup": 4.0},
    )
)

__all__ = ["FAMILY", "FAULTS", "ToledoDecoder", "ToledoSimulator", "encode_frame"]
