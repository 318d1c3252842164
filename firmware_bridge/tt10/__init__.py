"""Automatic monitoring-station files, Thông tư 10/2021/TT-BTNMT style (see README.md in this folder)."""

from collections import Counter

from firmware_bridge.registry import DeviceContext, DeviceFamily, Sample, register
from firmware_bridge.tt10.options import Tt10Options
from firmware_bridge.tt10.parser import ParseResult, Tt10Parser, parse_file
from firmware_bridge.tt10.simulator import FAULTS, Tt10Simulator
from firmware_bridge.tt10.source import Tt10Source


def new_source(ctx: DeviceContext) -> Tt10Source:
    return Tt10Source(ctx)


def parse_capture(name: str, data: bytes) -> tuple[list[Sample], Counter[str]]:
    result = parse_file(name, data)
    return result.samples, result.dropped


FAMILY = register(
    DeviceFamily(
        name="tt10",
        measurement="water_quality",
        description="Monitoring-station files (Thông tư 10/2021/TT-BTNMT style) dropped into a folder by FTP",
        new_simulator=Tt10Simulator,
        transport="files",
        new_source=new_source,
        options=Tt10Options,
        parse_capture=parse_capture,
        demo_kwargs={"interval_s": 3.0},
    )
)

__all__ = [
    "FAMILY",
    "FAULTS",
    "ParseResult",
    "Tt10Options",
    "Tt10Parser",
    "Tt10Simulator",
    "Tt10Source",
    "parse_file",
]
