"""Traffic signal controllers: NTCIP 1202 over SNMP, and JSON status over MQTT (see README.md)."""

from firmware_bridge.ntcip.decode import decode_ntcip, evaluate
from firmware_bridge.ntcip.mqtt_payload import TscStatusDecoder, encode_status
from firmware_bridge.ntcip.mqtt_simulator import TscMqttSimulator
from firmware_bridge.ntcip.mqtt_source import TscMqttSource
from firmware_bridge.ntcip.options import NtcipOptions, TscMqttOptions
from firmware_bridge.ntcip.simulator import NtcipSimulator
from firmware_bridge.ntcip.snmp_source import NtcipError, NtcipSource
from firmware_bridge.registry import DeviceFamily, register

NTCIP_FAMILY = register(
    DeviceFamily(
        name="ntcip1202",
        measurement="traffic_signal",
        description="Traffic signal controller, NTCIP 1202 phase status polled over SNMP v1/v2c (UDP 161)",
        new_simulator=NtcipSimulator,
        transport="snmp",
        new_source=NtcipSource,
        options=NtcipOptions,
    )
)

TSC_MQTT_FAMILY = register(
    DeviceFamily(
        name="tsc-mqtt",
        measurement="traffic_signal",
        description="Traffic signal controller publishing JSON status to an MQTT broker",
        new_simulator=TscMqttSimulator,
        transport="mqtt",
        new_source=TscMqttSource,
        options=TscMqttOptions,
    )
)

__all__ = [
    "NTCIP_FAMILY",
    "TSC_MQTT_FAMILY",
    "NtcipError",
    "NtcipOptions",
    "NtcipSimulator",
    "NtcipSource",
    "TscMqttOptions",
    "TscMqttSimulator",
    "TscMqttSource",
    "TscStatusDecoder",
    "decode_ntcip",
    "encode_status",
    "evaluate",
]
