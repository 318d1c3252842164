"""Subscribes to one controller's JSON status topic on a (usually local) MQTT broker (paho-mqtt 2)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from firmware_bridge.ntcip.mqtt_payload import TscStatusDecoder
from firmware_bridge.ntcip.options import TscMqttOptions, check_topic
from firmware_bridge.registry import DeviceContext, Sample

_LOOP_S = 0.1  # how long one network loop waits; bounds how late stop is noticed
_KEEPALIVE_S = 30


def parse_broker(port: str) -> tuple[str, int, str | None]:
    """``host:port`` or ``host:port/topic`` (``[v6]:port/…`` for IPv6) → (host, port, topic or None)."""
    address, slash, topic = port.partition("/")
    host, colon, number = address.rpartition(":")
    if not colon or not number.isdigit() or not 0 < int(number) < 65536 or not host:
        raise ValueError(f"tsc-mqtt port {port!r}: expected host:port or host:port/topic")
    return host.strip("[]"), int(number), check_topic(topic) if slash else None


class TscMqttSource:
    """Samples from every status message. ``dropped`` (the decoder's counter) says which payloads
    were unusable and why; ``subscribed`` is set while the subscription is in place."""

    def __init__(self, ctx: DeviceContext) -> None:
        options = ctx.options
        self.options = (
            options if isinstance(options, TscMqttOptions) else TscMqttOptions.model_validate(options)
        )
        self.host, self.port, topic = self.options.host, self.options.port, self.options.topic
        if ctx.port:
            self.host, self.port, port_topic = parse_broker(ctx.port)
            topic = port_topic or topic
        if topic is None:
            raise ValueError(
                f"tsc-mqtt device {ctx.device_id}: no status topic; "
                "set options.topic, or port: host:port/topic"
            )
        self.topic = topic
        self.device_id = ctx.device_id
        self.decoder = TscStatusDecoder(self.options.conflicts)
        self.dropped = self.decoder.dropped
        self.subscribed = threading.Event()

    def run(self, emit: Callable[[Sample], None], stop: threading.Event) -> None:
        where = f"MQTT broker {self.host}:{self.port}"
        failures: list[str] = []

        def on_connect(
            client: mqtt.Client, _: object, __: mqtt.ConnectFlags, reason: ReasonCode, ___: Properties | None
        ) -> None:
            if reason.is_failure:
                failures.append(f"{where} refused the connection: {reason}")
            else:
                client.subscribe(self.topic, qos=1)

        def on_subscribe(
            _: mqtt.Client, __: object, ___: int, reasons: list[ReasonCode], ____: Properties | None
        ) -> None:
            if any(r.is_failure for r in reasons):
                failures.append(f"{where} refused the subscription to {self.topic!r}: {reasons[0]}")
            else:
                self.subscribed.set()

        def on_message(_: mqtt.Client, __: object, message: mqtt.MQTTMessage) -> None:
            for sample in self.decoder.decode(message.payload):
                emit(sample)

        # Unique per run: a clean session under a reused id would kick the previous connection.
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"ioc-tsc-{self.device_id}-{secrets.token_hex(3)}"
        )
        client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
        try:
            client.connect(self.host, self.port, keepalive=_KEEPALIVE_S)
        except OSError as exc:
            raise ConnectionError(f"tsc-mqtt {self.device_id}: cannot reach {where}: {exc}") from exc
        try:
            while not stop.is_set():
                rc = client.loop(timeout=_LOOP_S)
                if failures:
                    raise ConnectionError(f"tsc-mqtt {self.device_id}: {failures[0]}")
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    raise ConnectionError(f"tsc-mqtt {self.device_id}: lost {where}: {mqtt.error_string(rc)}")
        finally:
            self.subscribed.clear()
            client.disconnect()
