"""A&D-format ASCII weighing indicators (see README.md in this folder)."""

from firmware_bridge.and_ascii.codec import AndAsciiDecoder, encode_line
from firmware_bridge.and_ascii.simulator import FAULTS, AndAsciiSimulator
from firmware_bridge.registry import DeviceFamily, SerialSettings, register
from firmware_bridge.weighing import WeighingOptions, new_weighing_processor

FAMILY = register(
    DeviceFamily(
        name="and-ascii",
        measurement="scale",
        description="A&D standard format ASCII weighing indicators (ST,GS,+0048020kg), RS-232 9600 8N1",
        serial=SerialSettings(baudrate=9600, bytesize=8, parity="N", stopbits=1),
        new_decoder=AndAsciiDecoder,
        new_simulator=AndAsciiSimulator,
        transport="serial",
        # Live weights go to `scale`; the processor turns each vehicle into one `weighing`.
        new_processor=new_weighing_processor,
        options=WeighingOptions,
        demo_kwargs={"interval_s": 0.1, "speedup": 4.0},
    )
)

__all__ = ["FAMILY", "FAULTS", "AndAsciiDecoder", "AndAsciiSimulator", "encode_line"]
