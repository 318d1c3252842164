"""Yaohua XK3190-A9 weighing indicator, continuous output tf=0 (see README.md in this folder)."""

from firmware_bridge.registry import DeviceFamily, SerialSettings, register
from firmware_bridge.weighing import WeighingOptions, new_weighing_processor
from firmware_bridge.xk3190.codec import Xk3190Decoder, encode_frame
from firmware_bridge.xk3190.simulator import FAULTS, Xk3190Simulator

FAMILY = register(
    DeviceFamily(
        name="xk3190",
        measurement="scale",
        description="Yaohua XK3190-A9 weighing indicator, continuous output tf=0, RS-232 9600 8N1",
        serial=SerialSettings(baudrate=9600, bytesize=8, parity="N", stopbits=1),
        new_decoder=Xk3190Decoder,
        new_simulator=Xk3190Simulator,
        transport="serial",
        # Live weights go to `scale`; the processor turns each vehicle into one `weighing`.
        new_processor=new_weighing_processor,
        options=WeighingOptions,
        demo_kwargs={"interval_s": 0.1, "speedup": 4.0},
    )
)

__all__ = ["FAMILY", "FAULTS", "Xk3190Decoder", "Xk3190Simulator", "encode_frame"]
